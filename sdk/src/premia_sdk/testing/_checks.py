"""Helpers shared by the contract suites: reading streams, checking facts, forbidding I/O."""

from __future__ import annotations

import builtins
import io
import json
import os
import socket
import sqlite3
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn

import pytest
from pydantic import BaseModel, SecretBytes, SecretStr

from premia import FACT_KINDS, BadRecord, Batch, Fact, JSONValue, Source, StreamInfo

SourceFactory = Callable[[], Source[Any]]
"""What a source author's ``source_factory`` fixture returns: a new source on each call."""


def roundtrip(cursor: JSONValue, where: str) -> JSONValue:
    """Return ``cursor`` after a ``json.dumps``/``json.loads`` round trip, as the engine stores it.

    Args:
        cursor: a cursor a source yielded.
        where: what yielded it, for the failure message.

    Returns:
        The decoded copy.

    Raises:
        pytest.fail.Exception: the cursor is not JSON, or does not survive the round trip.
    """
    try:
        decoded = json.loads(json.dumps(cursor, allow_nan=False))
    except (TypeError, ValueError) as exc:
        pytest.fail(f"{where}: the cursor {cursor!r} is not JSON-serialisable: {exc}")
    if decoded != cursor:
        pytest.fail(
            f"{where}: the cursor changes in a JSON round trip ({cursor!r} -> {decoded!r}); "
            "use only dicts with string keys, lists, strings, ints, bools and None"
        )
    return decoded


@dataclass
class StreamRead:
    """What one call of :meth:`premia.Source.read` yielded (possibly stopped early).

    Attributes:
        stream: the stream read.
        start: the cursor the read started from.
        batches: the batches, in order.
        interrupted: the read was stopped before its end.
    """

    stream: str
    start: JSONValue
    batches: list[Batch] = field(default_factory=list)
    interrupted: bool = False

    @property
    def facts(self) -> list[Fact]:
        """Return every fact, in the order read."""
        return [f for b in self.batches for f in b.facts]

    @property
    def bad_records(self) -> list[BadRecord]:
        """Return every quarantined record, in the order read."""
        return [r for b in self.batches for r in b.bad_records]

    @property
    def final_cursor(self) -> JSONValue:
        """Return the cursor the engine would hold after this read (the start if none came)."""
        return self.batches[-1].cursor if self.batches else self.start

    def facts_by_id(self) -> dict[str, Fact]:
        """Return the facts keyed by external id (the last one wins, as an upsert would)."""
        return {f.external_id: f for f in self.facts}


def read_stream(
    factory: SourceFactory, stream: str, cursor: JSONValue, *, stop_after: int | None = None
) -> StreamRead:
    """Read ``stream`` from ``cursor`` with a new source, as one sync would.

    Args:
        factory: builds the source (a new instance: a new process, as far as the source knows).
        stream: the stream to read.
        cursor: the cursor to start from (``None``: the first sync).
        stop_after: stop after this many batches, closing the iterator as an aborted sync would.

    Returns:
        The batches read.
    """
    source = factory()
    result = StreamRead(stream, cursor)
    try:
        iterator = iter(source.read(stream, cursor))
        try:
            for batch in iterator:
                result.batches.append(batch)
                if stop_after is not None and len(result.batches) >= stop_after:
                    result.interrupted = True
                    break
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()
    finally:
        source.close()
    return result


def check_batches(read: StreamRead, info: StreamInfo) -> None:
    """Fail unless every batch of ``read`` is a valid :class:`premia.Batch` of ``info``'s facts.

    Facts must be :class:`premia.Fact` instances of the stream's kind with a non-empty external
    id, unique within the read; datetimes must be timezone-aware; amounts and quantities
    :class:`~decimal.Decimal`; attributes strings; cursors JSON that survives a round trip.
    """
    seen: dict[str, int] = {}
    for number, batch in enumerate(read.batches, start=1):
        where = f"stream {read.stream!r}, batch {number}"
        if not isinstance(batch, Batch):
            pytest.fail(f"{where}: read() yielded {type(batch).__name__}, not premia.Batch")
        if not isinstance(batch.facts, list):
            pytest.fail(f"{where}: facts is a {type(batch.facts).__name__}, not a list")
        for bad in batch.bad_records:
            if not isinstance(bad, BadRecord):
                pytest.fail(f"{where}: bad_records holds a {type(bad).__name__}")
            if not bad.reason:
                pytest.fail(f"{where}: a bad record at {bad.location!r} has no reason")
        roundtrip(batch.cursor, where)
        for fact in batch.facts:
            check_fact(fact, where, info)
            if fact.external_id in seen:
                pytest.fail(
                    f"{where}: external id {fact.external_id!r} was already read in batch "
                    f"{seen[fact.external_id]} of the same read; ids must be unique per stream"
                )
            seen[fact.external_id] = number


def check_fact(fact: object, where: str, info: StreamInfo) -> None:
    """Fail unless ``fact`` is a well-formed :class:`premia.Fact` of the kind ``info`` declares."""
    if not isinstance(fact, Fact):
        pytest.fail(f"{where}: a fact is a {type(fact).__name__}, not premia.Fact")
    what = f"{where}, fact {fact.external_id!r}"
    if not isinstance(fact.external_id, str) or not fact.external_id.strip():
        pytest.fail(f"{where}: a fact has the empty external id {fact.external_id!r}")
    if fact.kind not in FACT_KINDS:
        pytest.fail(f"{what}: kind {fact.kind!r} is not one of {FACT_KINDS}")
    if fact.kind != info.fact_kind:
        pytest.fail(f"{what}: kind {fact.kind!r}, but the stream declares {info.fact_kind!r}")
    for name in ("occurred_at", "source_updated_at"):
        value = getattr(fact, name)
        if value is None:
            continue
        if not isinstance(value, datetime):
            pytest.fail(f"{what}: {name} is a {type(value).__name__}, not a datetime")
        if value.tzinfo is None or value.utcoffset() is None:
            pytest.fail(f"{what}: {name} {value.isoformat()} is naive; give it a timezone")
    for name in ("amount", "quantity"):
        value = getattr(fact, name)
        if value is not None and not isinstance(value, Decimal):
            pytest.fail(f"{what}: {name} is a {type(value).__name__}, not a Decimal")
        if isinstance(value, Decimal) and not value.is_finite():
            pytest.fail(f"{what}: {name} is {value}, not a finite number")
    for key, value in fact.attributes.items():
        if not isinstance(key, str) or not isinstance(value, str):
            pytest.fail(f"{what}: attribute {key!r}={value!r} is not text")
    if not isinstance(fact.deleted, bool):
        pytest.fail(f"{what}: deleted is {fact.deleted!r}, not a bool")


def secret_values(model: object) -> list[str]:
    """Return the values of every ``SecretStr``/``SecretBytes`` in a settings model, nested.

    Values shorter than four characters are left out: they would match innocent text.
    """
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, SecretBytes):
            found.append(value.get_secret_value().decode("utf-8", "replace"))
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item)

    walk(model)
    return [s for s in found if len(s) >= 4]


class IOForbidden(AssertionError):
    """Raised when code under :func:`forbid_io` tries to open a file, socket or database."""


@contextmanager
def forbid_io() -> Iterator[list[str]]:
    """Make files, sockets, HTTP clients, SQLite and subprocesses raise :class:`IOForbidden`.

    Yields:
        The list of attempts made inside the block (filled even if the code caught the
        error), e.g. ``["open('rates.csv')"]``.
    """
    attempts: list[str] = []

    def refuse(name: str) -> Callable[..., NoReturn]:
        def refused(*args: Any, **kwargs: Any) -> NoReturn:
            shown = ", ".join(repr(a) for a in args[:1])
            attempts.append(f"{name}({shown})")
            raise IOForbidden(f"I/O is not allowed here: {name}({shown})")

        return refused

    import httpx

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builtins, "open", refuse("open"))
        patch.setattr(io, "open", refuse("io.open"))
        patch.setattr(os, "open", refuse("os.open"))
        patch.setattr(socket, "socket", refuse("socket.socket"))
        patch.setattr(socket, "create_connection", refuse("socket.create_connection"))
        patch.setattr(sqlite3, "connect", refuse("sqlite3.connect"))
        patch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
        patch.setattr(urllib.request, "urlopen", refuse("urllib.request.urlopen"))
        patch.setattr(httpx.Client, "send", refuse("httpx.Client.send"))
        patch.setattr(httpx.AsyncClient, "send", refuse("httpx.AsyncClient.send"))
        yield attempts
