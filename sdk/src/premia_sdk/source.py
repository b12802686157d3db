"""Base classes of an HTTP KPI source: one small class per stream, one source class.

A plugin author writes, for each stream, an :class:`HttpStream` subclass that says *where*
the records are and *what* they mean::

    class Deals(HttpStream):
        name = "deals"
        path = "/crm/v3/objects/deals"
        fact_kind = "deal"
        records_path = "results"

        def paginator(self):
            return CursorPaginator("paging.next.after", "after")

        def params(self, window):
            since = window.lower_bound
            return {"updatedAfter": since.isoformat()} if since else {}

        def record_cursor(self, record):
            return datetime.fromisoformat(record["updatedAt"]), str(record["id"])

        def to_fact(self, record):
            return premia.Fact(external_id=str(record["id"]), ...)

and an :class:`HttpSource` subclass that lists them and says how to connect::

    class HubSpotSource(HttpSource[HubSpotSettings]):
        type_name = "hubspot"
        Settings = HubSpotSettings
        stream_classes = [Deals, LineItems]

        def base_url(self):
            return "https://api.hubapi.com"

        def auth(self):
            return BearerToken(self.settings.token)

        def rate_budget(self):
            return RateBudget.shared(f"hubspot:{self.settings.portal_id}", 100, 10)

:meth:`HttpSource.read` is final and does the rest: resumes from the saved
:class:`~premia_sdk.CompoundCursor`, pages through the API, keeps the records of the
:class:`~premia_sdk.IncrementalWindow` (after the cursor, not after the sync's start),
converts them, quarantines bad ones, and yields :class:`premia.Batch` objects whose cursor is
the position of the last record in the batch. Batches end on a page boundary or after
``batch_size`` records, so when the next request fails (a quota, a network outage) every
record read so far is already in a yielded batch: the engine keeps the last stored batch's
cursor and the next sync resumes right after it.

Streams of one source may be read on threads at the same time; they share the source's
:class:`~premia_sdk.HttpClient` and rate budget (see :mod:`premia_sdk.http`).
"""

from __future__ import annotations

import json
import logging
import typing
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel

import premia
from premia import BadRecord, Batch, CheckResult, Fact, JSONValue, StreamInfo
from premia_sdk._plugin import HttpPluginMixin
from premia_sdk.cursors import CompoundCursor, IncrementalWindow
from premia_sdk.errors import (
    AuthFailure,
    BadRecordError,
    ConfigurationError,
    QuotaExhausted,
    RetryableError,
    redact_text,
    redact_url,
)
from premia_sdk.http import HttpClient
from premia_sdk.jsonexact import get_path, response_json
from premia_sdk.pagination import PageRequest, Paginator, SinglePagePaginator, paginate

__all__ = ["HttpSource", "HttpStream"]

SettingsT = TypeVar("SettingsT", bound=BaseModel)

RECORD_ERRORS: tuple[type[Exception], ...] = (KeyError, ValueError, TypeError, ArithmeticError)
"""Errors a record parser may raise on an unexpected payload; the record is quarantined."""


class HttpStream(ABC):
    """One stream of an HTTP source: where its records are and how they become facts.

    Set the class attributes and implement :meth:`record_cursor` and :meth:`to_fact`;
    override :meth:`paginator`, :meth:`params`, :meth:`body` and :meth:`records` as the API
    needs. One instance serves one read.

    Args:
        source: the source the stream belongs to (for its settings and context).
    """

    name: ClassVar[str]
    """Stable stream name, used in cursors and fact keys."""

    path: ClassVar[str]
    """URL of the first page, relative to the source's base URL."""

    fact_kind: ClassVar[str] = "deal"
    """The kind of the facts the stream yields (one of :data:`premia.FACT_KINDS`)."""

    description: ClassVar[str] = ""
    """One line for ``premia check``."""

    method: ClassVar[str] = "GET"
    """HTTP method of the page requests (``POST`` for search endpoints)."""

    records_path: ClassVar[str | None] = None
    """Dotted path of the record list in a page's body (``None``: the body is the list)."""

    batch_size: ClassVar[int] = 500
    """Most records per batch; a batch also ends at every page boundary."""

    lookback: ClassVar[timedelta] = timedelta(0)
    """How far before the cursor the query starts (see :class:`~premia_sdk.IncrementalWindow`)."""

    def __init__(self, source: HttpSource[Any]):
        self.source = source

    @property
    def settings(self) -> Any:
        """The source's settings."""
        return self.source.settings

    def paginator(self) -> Paginator[Any]:
        """Return a new paginator for one read (default: a single page)."""
        return SinglePagePaginator()

    def params(self, window: IncrementalWindow) -> dict[str, Any]:
        """Return the first page's query parameters for ``window`` (filters, sort, fields).

        Args:
            window: the read's window; ``window.lower_bound`` is the timestamp to query from
                (inclusive), ``window.upper_bound`` the one to query to.

        Returns:
            Query parameters (none by default).
        """
        return {}

    def body(self, window: IncrementalWindow) -> Any:
        """Return the first page's JSON body, for ``POST`` search endpoints (none by default).

        Args:
            window: the read's window.

        Returns:
            A JSON-serialisable body, or ``None``.
        """
        return None

    def records(self, response: httpx.Response) -> Iterable[Mapping[str, Any]]:
        """Return the records of one page (default: the list at :attr:`records_path`).

        Args:
            response: the page.

        Returns:
            The page's records, in the API's order.

        Raises:
            premia.SourceError: the page has no record list where expected.
        """
        found = get_path(response_json(response), self.records_path)
        if found is None and self.records_path:
            return []
        if not isinstance(found, list):
            raise premia.SourceError(
                f"{redact_url(response.url)}: expected a list of records at "
                f"{self.records_path or 'the top level'}, found {type(found).__name__}"
            )
        return found

    @abstractmethod
    def record_cursor(self, record: Mapping[str, Any]) -> tuple[datetime, str]:
        """Return the record's position: its modification time (timezone-aware) and id.

        Args:
            record: one record.

        Returns:
            ``(modified_at, id)``.

        Raises:
            BadRecordError: the record has no usable time or id.
        """

    @abstractmethod
    def to_fact(self, record: Mapping[str, Any]) -> Fact:
        """Turn a record into a fact.

        Args:
            record: one record.

        Returns:
            The fact.

        Raises:
            BadRecordError: the record cannot become a fact (it is quarantined). ``KeyError``,
                ``ValueError``, ``TypeError`` and ``ArithmeticError`` are quarantined too,
                with the exception as the reason.
        """

    def location(self, record: Mapping[str, Any]) -> str:
        """Return where a record is, for a quarantine entry (default ``<type>/<stream>``)."""
        return f"{self.source.type_name}/{self.name}"

    def record_id(self, record: Mapping[str, Any]) -> str | None:
        """Return the record's id for a quarantine entry, if it has one (default ``id``)."""
        value = record.get("id") if isinstance(record, Mapping) else None
        return None if value is None else str(value)


class HttpSource(HttpPluginMixin, premia.Source[SettingsT]):
    """Base class of a KPI source read over HTTP.

    Set :attr:`type_name`, :attr:`Settings` and :attr:`stream_classes`; override
    :meth:`base_url`, :meth:`auth`, :meth:`rate_budget` (and :meth:`retry_policy`,
    :meth:`build_client`, :meth:`check_request`, :meth:`streams`) as needed. :meth:`read`,
    :meth:`check` and :meth:`client` are final.

    Args:
        settings: the validated settings.
        context: the run's context.
    """

    stream_classes: ClassVar[Sequence[type[HttpStream]]] = ()
    """The stream classes this source offers."""

    # -- streams ---------------------------------------------------------------------------
    def streams(self) -> list[StreamInfo]:
        """List the streams of :attr:`stream_classes` (override to filter by settings)."""
        return [StreamInfo(c.name, c.description, c.fact_kind) for c in self.stream_classes]

    def stream(self, name: str) -> HttpStream:
        """Return a new instance of the stream called ``name``.

        Raises:
            ConfigurationError: no such stream.
        """
        for stream_class in self.stream_classes:
            if stream_class.name == name:
                return stream_class(self)
        known = ", ".join(c.name for c in self.stream_classes) or "none"
        raise ConfigurationError(f"{self.type_name} has no stream {name!r} (streams: {known})")

    # -- check -----------------------------------------------------------------------------
    def check_request(self, client: HttpClient) -> str:
        """Make a cheap authenticated request and describe what it showed.

        The default fetches the first page of the first stream. Override with something
        cheaper when the API has it (a "who am I" or limits endpoint).

        Args:
            client: the source's client.

        Returns:
            What was checked, for ``premia check`` (no secret).
        """
        if not self.stream_classes:
            raise NotImplementedError(f"{type(self).__name__} must override check_request()")
        stream = self.stream(self.stream_classes[0].name)
        window = IncrementalWindow(None, self.context.sync_started_at)
        request = stream.paginator().first_page(
            PageRequest(stream.path, stream.params(window), stream.body(window))
        )
        client.request(stream.method, request.url, params=request.params or None, json=request.json)
        return f"connected to {redact_url(client.base_url)}; {stream.name} can be read"

    @typing.final
    def check(self) -> CheckResult:
        """Try one authenticated request; never raises for a bad setup.

        Returns:
            ``ok=True`` with what was checked, or ``ok=False`` saying what is wrong (the
            credentials refused, a wrong setting, the API unreachable, a quota), never a
            secret.
        """
        try:
            message = self.check_request(self.client())
        except AuthFailure as exc:
            return CheckResult(False, f"authentication failed: {exc}")
        except premia.ConfigError as exc:
            return CheckResult(False, f"configuration problem: {exc}")
        except QuotaExhausted as exc:
            return CheckResult(False, f"API quota or rate limit reached: {exc}")
        except RetryableError as exc:
            return CheckResult(False, f"cannot reach the API: {exc}")
        except premia.PremiaError as exc:
            return CheckResult(False, str(exc))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return CheckResult(False, f"cannot reach the API: {redact_text(str(exc))}")
        return CheckResult(True, message)

    # -- read ------------------------------------------------------------------------------
    @typing.final
    def read(self, stream: str, cursor: JSONValue | None) -> Iterator[Batch]:
        """Read ``stream`` from ``cursor``: page through the API and yield batches in order.

        Args:
            stream: the stream name.
            cursor: the cursor of the last stored batch (``None`` on the first sync).

        Yields:
            Batches of facts and quarantined records, each with the
            :class:`~premia_sdk.CompoundCursor` (as JSON) of its last record.

        Raises:
            premia.QuotaExhausted: the API quota ran out (or asked for too long a wait): the
                engine keeps the last stored batch's cursor and marks the run incomplete.
            premia.SourceError: the stream cannot be read.
        """
        handler = self.stream(stream)
        window = IncrementalWindow(
            self._start(handler, cursor), self.context.sync_started_at, handler.lookback
        )
        reader = _BatchBuilder(handler, window, self.context.logger)
        paginator = handler.paginator()
        pages = paginate(
            self.client(),
            handler.method,
            handler.path,
            paginator,
            params=handler.params(window),
            json=handler.body(window),
        )
        for response in pages:
            page = paginator.pages + 1
            for record in handler.records(response):
                reader.add(record)
                if reader.size >= handler.batch_size:
                    yield reader.flush(f"{handler.name}: page {page}")
            if reader.size:
                yield reader.flush(f"{handler.name}: page {page}")

    def close(self) -> None:
        """Close the HTTP client."""
        self.close_client()

    def _start(self, handler: HttpStream, cursor: JSONValue | None) -> CompoundCursor | None:
        if cursor is None:
            return None
        try:
            return CompoundCursor.from_json(cursor)
        except (TypeError, ValueError) as exc:
            self.context.logger.warning(
                "%s: ignoring an unreadable cursor (%s); reading the stream from the start",
                handler.name,
                exc,
            )
            return None


class _BatchBuilder:
    """Collects one batch: facts, quarantined records, and the position reached."""

    def __init__(self, handler: HttpStream, window: IncrementalWindow, logger: logging.Logger):
        self.handler = handler
        self.window = window
        self.logger = logger
        self.position = window.start
        self.facts: list[Fact] = []
        self.bad: list[BadRecord] = []
        self._previous: CompoundCursor | None = None
        self._warned = False

    @property
    def size(self) -> int:
        return len(self.facts) + len(self.bad)

    def add(self, record: Mapping[str, Any]) -> None:
        handler = self.handler
        try:
            ts, record_id = handler.record_cursor(record)
            position = CompoundCursor(ts, record_id)
        except BadRecordError as exc:
            self.bad.append(exc.record)
            return
        except RECORD_ERRORS as exc:
            self.bad.append(self._bad(record, f"no usable modification time or id: {_why(exc)}"))
            return
        if not self.window.accepts(position.timestamp, position.id):
            return
        self._check_order(position)
        try:
            fact = handler.to_fact(record)
        except BadRecordError as exc:
            self.bad.append(exc.record)
        except RECORD_ERRORS as exc:
            self.bad.append(self._bad(record, _why(exc)))
        else:
            self.facts.append(fact)
        if self.position is None or position > self.position:
            self.position = position

    def flush(self, note: str) -> Batch:
        cursor = self.position.to_json() if self.position is not None else None
        batch = Batch(facts=self.facts, cursor=cursor, bad_records=self.bad, note=note)
        self.facts, self.bad = [], []
        return batch

    def _bad(self, record: Mapping[str, Any], reason: str) -> BadRecord:
        try:
            raw = json.dumps(record, default=str)[:2000]
        except (TypeError, ValueError):
            raw = repr(record)[:2000]
        try:
            record_id = self.handler.record_id(record)
        except RECORD_ERRORS:
            record_id = None
        return BadRecord(
            location=self.handler.location(record), reason=reason, record_id=record_id, raw=raw
        )

    def _check_order(self, position: CompoundCursor) -> None:
        previous, self._previous = self._previous, position
        if previous is not None and position < previous and not self._warned:
            self._warned = True
            self.logger.warning(
                "%s: records are not in (modification time, id) order (%s after %s); a resumed "
                "read may miss records - sort the query by modification time, then id",
                self.handler.name,
                position.to_json(),
                previous.to_json(),
            )


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    return f"{type(exc).__name__}: {exc}"
