"""Shared fixtures of the core engine tests.

- ``MemorySource`` (type ``memory``): a KPI source whose facts the test controls through a
  :class:`Feed`. Every fact put in a feed gets a new sequence number; an incremental read
  yields the facts with a sequence number above the cursor, in batches, each batch's cursor
  being the sequence number of its last fact. A feed can be told to crash between batches.
- ``kit``: writes program files into ``tmp_path``, opens runtimes on them (closed after the
  test), runs syncs and reads the store back as plain rows for comparisons.

Tests cannot import this module (pytest runs with ``--import-mode=importlib``), so everything
is reached through fixtures.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import io
import os
import random
import socket
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, create_engine, select, text
from sqlalchemy.engine import make_url

import premia
import premia_rewards_catalog.plugin as catalog_plugin
from premia import Batch, CheckResult, Fact, RuleInput, RuleParticipant, Source, StreamInfo
from premia.engine.sync import SyncReport, run_sync
from premia.plugins import Registry
from premia.runtime import Runtime, open_runtime
from premia.store import schema as s

# -- the in-memory test source ------------------------------------------------------------


class InjectedCrash(RuntimeError):
    """The failure a test injects between two batches."""


class Feed:
    """The facts of one memory source, under the test's control."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seq = 0
        self.facts: dict[str, tuple[int, Fact]] = {}
        self.crash_after_batches: int | None = None
        """Raise ``crash_with`` when asked for the batch after this many."""
        self.crash_with: Callable[[str], Exception] = InjectedCrash
        self.reads: list[Any] = []
        """The cursor of every read, in order."""

    def put(self, *facts: Fact) -> None:
        """Add or replace facts; each gets a new sequence number (it is 'changed')."""
        for fact in facts:
            self.seq += 1
            self.facts[fact.external_id] = (self.seq, fact)

    def change(self, external_id: str, **changes: Any) -> None:
        """Change fields of a stored fact (it will be read again)."""
        _, fact = self.facts[external_id]
        self.put(dataclasses.replace(fact, **changes))

    def read(self, cursor: Any, batch_size: int, incremental: bool) -> Iterator[Batch]:
        self.reads.append(cursor)
        start = int(cursor or 0) if incremental else 0
        todo = sorted(
            ((seq, fact) for seq, fact in self.facts.values() if seq > start),
            key=lambda sf: sf[0],
        )
        for number, first in enumerate(range(0, len(todo), batch_size)):
            if self.crash_after_batches is not None and number >= self.crash_after_batches:
                raise self.crash_with(f"injected crash before batch {number + 1}")
            chunk = todo[first : first + batch_size]
            yield Batch(facts=[f for _, f in chunk], cursor=chunk[-1][0], note=f"batch {number}")


FEEDS: dict[str, Feed] = {}


class MemorySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feed: str = "default"
    batch_size: int = 100
    incremental: bool = True


class MemorySource(Source[MemorySettings]):
    """A source reading a :class:`Feed` (``settings.feed``)."""

    type_name = "memory"
    Settings = MemorySettings

    def check(self) -> CheckResult:
        return CheckResult(self.settings.feed in FEEDS, f"feed {self.settings.feed}")

    def streams(self) -> list[StreamInfo]:
        return [StreamInfo("deals", fact_kind="deal")]

    def read(self, stream: str, cursor: Any) -> Iterator[Batch]:
        feed = FEEDS[self.settings.feed]
        yield from feed.read(cursor, self.settings.batch_size, self.settings.incremental)


class MemoryPlugin:
    """Registers the ``memory`` source type."""

    @premia.hookimpl
    def premia_register_sources(self, register: Callable[[type[Any]], None]) -> None:
        register(MemorySource)


@pytest.fixture
def feeds() -> Iterator[Callable[[str], Feed]]:
    """Return ``feed(name)``: the feed of that name, created on first use."""

    def feed(name: str = "default") -> Feed:
        if name not in FEEDS:
            FEEDS[name] = Feed(name)
        return FEEDS[name]

    yield feed
    FEEDS.clear()


@pytest.fixture
def feed(feeds: Callable[[str], Feed]) -> Feed:
    """The ``default`` feed."""
    return feeds("default")


@pytest.fixture
def memory_source() -> type[MemorySource]:
    return MemorySource


@pytest.fixture
def memory_plugin() -> type[MemoryPlugin]:
    return MemoryPlugin


@pytest.fixture
def injected_crash() -> type[InjectedCrash]:
    return InjectedCrash


@pytest.fixture
def registry() -> Registry:
    """Built-in rules, the memory source and the rewards_catalog provider; no entry points."""
    reg = Registry(load_entry_points=False, extra_plugins=[MemoryPlugin(), catalog_plugin])
    assert not reg.problems, reg.problems
    return reg


# -- facts and programs --------------------------------------------------------------------


def deal(
    external_id: str,
    owner: str | None,
    amount: str | Decimal | None = "100",
    stage: str = "Won",
    when: str | datetime | None = "2024-02-15T12:00:00+00:00",
    **fields: Any,
) -> Fact:
    """Return a deal fact (amounts as exact text, times as ISO text with an offset)."""
    occurred = datetime.fromisoformat(when) if isinstance(when, str) else when
    return Fact(
        external_id=external_id,
        kind="deal",
        owner_ref=owner,
        occurred_at=occurred,
        amount=Decimal(amount) if amount is not None else None,
        currency="USD",
        stage=stage,
        **fields,
    )


ANA = {"name": "Ana Silva", "email": "ana@example.com", "region": "East"}
BEN = {"name": "Ben Okafor", "email": "ben@example.com", "region": "West"}

METRICS = [
    {"name": "won_revenue", "agg": "sum", "field": "amount", "where": {"stage": "Won"}},
    {"name": "won_deals", "agg": "count", "where": {"stage": "Won"}},
    {"name": "closed", "agg": "count", "where": {"stage": ["Won", "Lost"]}},
]

CATALOG = """\
items:
  - sku: GC-25
    name: "$25 gift card"
    kind: gift_card
    points: 2500
    value: "25.00"
    currency: USD
  - sku: LAST-ONE
    name: The last one
    kind: merchandise
    points: 100
    inventory: 1
  - sku: MUG
    name: Team mug
    kind: merchandise
    points: 300
"""


def program_dict(**overrides: Any) -> dict[str, Any]:
    """Return a program (as data) with one memory source, Ana and Ben, three metrics."""
    doc: dict[str, Any] = {
        "name": "Test program",
        "timezone": "UTC",
        "period": "quarter",
        "sources": [{"name": "crm", "type": "memory", "settings": {"feed": "default"}}],
        "roster": {"participants": [ANA, BEN]},
        "metrics": METRICS,
        "rules": [],
    }
    doc.update(overrides)
    return doc


def catalog_provider(**settings: Any) -> dict[str, Any]:
    return {
        "name": "catalog",
        "type": "rewards_catalog",
        "settings": {"catalog": "catalog.yaml", **settings},
    }


class Kit:
    """Programs, runtimes and store read-backs for one test."""

    deal = staticmethod(deal)
    program_dict = staticmethod(program_dict)
    catalog_provider = staticmethod(catalog_provider)
    ANA = ANA
    BEN = BEN
    METRICS = METRICS
    CATALOG = CATALOG

    def __init__(self, tmp_path: Path, registry: Registry) -> None:
        self.tmp_path = tmp_path
        self.registry = registry
        self._open: list[Runtime] = []

    def write(self, program: dict[str, Any] | str, directory: str = "prog") -> Path:
        """Write a program (data or YAML text) to ``<tmp>/<directory>/program.yaml``.

        A ``catalog.yaml`` (:data:`CATALOG`) is written beside it unless one exists.
        """
        folder = self.tmp_path / directory
        folder.mkdir(parents=True, exist_ok=True)
        body = (
            textwrap.dedent(program)
            if isinstance(program, str)
            else yaml.safe_dump(program, sort_keys=False)
        )
        path = folder / "program.yaml"
        path.write_text(body, encoding="utf-8")
        if not (folder / "catalog.yaml").exists():
            (folder / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
        return path

    def open(
        self,
        program: dict[str, Any] | str | Path,
        database: str,
        directory: str = "prog",
        registry: Registry | None = None,
    ) -> Runtime:
        """Write (unless given a path) and open a program on ``database``."""
        path = program if isinstance(program, Path) else self.write(program, directory)
        runtime = open_runtime(path, registry=registry or self.registry, database=database)
        self._open.append(runtime)
        return runtime

    @staticmethod
    def sync(runtime: Runtime) -> SyncReport:
        return run_sync(runtime)

    def close(self) -> None:
        for runtime in self._open:
            runtime.close()
        self._open.clear()

    # -- reading the store back ------------------------------------------------------------
    @staticmethod
    def rows(runtime: Runtime, table: str, *, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Return every row of ``table`` as dicts, ordered by every column, minus ``drop``."""
        t = s.metadata.tables[table]
        cols = [c for c in t.c if c.name not in drop]
        order = [c for c in cols if not isinstance(c.type, JSON)]
        with runtime.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(*cols).order_by(*order)).mappings()]

    @staticmethod
    def keys(runtime: Runtime) -> dict[int, str]:
        """Return participant id -> key."""
        with runtime.engine.connect() as conn:
            return {
                r.id: r.key for r in conn.execute(select(s.participants.c.id, s.participants.c.key))
            }

    def portable(self, runtime: Runtime) -> dict[str, list[dict[str, Any]]]:
        """Return facts, grants, ledger and orders without store-specific ids and times.

        Participant ids become keys, order ids are dropped: two stores that did the same
        work compare equal.
        """
        keys = self.keys(runtime)

        def swap(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for row in rows:
                row = dict(row)
                if "participant_id" in row:
                    pid = row.pop("participant_id")
                    row["participant"] = keys.get(pid) if pid is not None else None
                out.append(row)
            return sorted(out, key=repr)

        times = ("created_at", "updated_at")
        return {
            "facts": swap(self.rows(runtime, "facts", drop=("id", "run_id"))),
            "grants": swap(self.rows(runtime, "grants", drop=("id", *times))),
            "ledger": swap(self.rows(runtime, "ledger", drop=("id", "created_at"))),
            "orders": swap(self.rows(runtime, "orders", drop=("id", *times))),
            "metric_values": swap(self.rows(runtime, "metric_values", drop=("computed_at",))),
        }

    def balance(self, runtime: Runtime, key: str) -> int:
        with runtime.engine.connect() as conn:
            pid = conn.execute(
                select(s.participants.c.id).where(s.participants.c.key == key)
            ).scalar_one()
            total = conn.execute(
                select(s.ledger.c.points).where(s.ledger.c.participant_id == pid)
            ).scalars()
            return sum(total)

    @staticmethod
    def cursor(runtime: Runtime, source: str = "crm", stream: str = "deals") -> Any:
        with runtime.engine.connect() as conn:
            return conn.execute(
                select(s.cursors.c.cursor).where(
                    s.cursors.c.source == source, s.cursors.c.stream == stream
                )
            ).scalar_one_or_none()

    @staticmethod
    def metric(runtime: Runtime, metric: str, key: str, period: str) -> Decimal | None:
        with runtime.engine.connect() as conn:
            return conn.execute(
                select(s.metric_values.c.value)
                .join(s.participants, s.participants.c.id == s.metric_values.c.participant_id)
                .where(
                    s.metric_values.c.metric == metric,
                    s.metric_values.c.period == period,
                    s.participants.c.key == key,
                )
            ).scalar_one()


@pytest.fixture
def kit(tmp_path: Path, registry: Registry, feeds: Callable[[str], Feed]) -> Iterator[Kit]:
    k = Kit(tmp_path, registry)
    yield k
    k.close()


@pytest.fixture
def other_store(db_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Return a factory of further fresh, empty stores on the same backend as ``db_url``."""
    made: list[tuple[Any, str]] = []
    counter = iter(range(1, 1000))

    def make() -> str:
        if db_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'other-{next(counter)}.db'}"
        url = make_url(db_url)
        base = url.difference_update_query(["options"])
        admin = create_engine(base)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        made.append((admin, schema))
        return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )

    yield make
    for admin, schema in made:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# -- pure rule evaluation ------------------------------------------------------------------


def rule_input(
    values: dict[str, Any],
    attributes: dict[str, dict[str, str | None]] | None = None,
    period: str = "2024-Q1",
) -> RuleInput:
    """Return a RuleInput: participants sorted by key, values as exact Decimals (or None)."""
    attributes = attributes or {}
    keys = sorted(values)
    return RuleInput(
        period=period,
        participants=[RuleParticipant(k, dict(attributes.get(k, {}))) for k in keys],
        values={k: None if v is None else Decimal(str(v)) for k, v in values.items()},
    )


@pytest.fixture
def make_input() -> Callable[..., RuleInput]:
    return rule_input


@pytest.fixture
def no_io(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """Return a context manager inside which sockets, files and clocks raise."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a rule evaluator attempted I/O or read the clock")

        with monkeypatch.context() as m:
            m.setattr(socket, "socket", refuse)
            m.setattr(socket, "create_connection", refuse)
            m.setattr(socket, "getaddrinfo", refuse)
            m.setattr(builtins, "open", refuse)
            m.setattr(io, "open", refuse)
            m.setattr(os, "open", refuse)
            m.setattr(Path, "open", refuse)
            m.setattr(time, "time", refuse)
            m.setattr(random, "random", refuse)
            yield

    return guard
