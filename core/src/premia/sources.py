"""The KPI-source contract: what a connector for one system (CSV, a CRM...) implements."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel

from premia.facts import Batch, JSONValue

SettingsT = TypeVar("SettingsT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """A stream a source offers (e.g. ``deals``, ``line_items``).

    Attributes:
        name: stable stream name, used in cursors and fact keys.
        description: one line for ``premia check``.
        fact_kind: the kind of facts the stream yields.
    """

    name: str
    description: str = ""
    fact_kind: str = "deal"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The answer of :meth:`Source.check`.

    Attributes:
        ok: the source can be read with these settings.
        message: what was checked, or what is wrong (never a secret).
    """

    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class SourceContext:
    """What the engine tells a source about the run it is part of.

    Attributes:
        source_name: the name the program gives this source.
        base_dir: the program file's folder; relative paths in settings resolve against it.
        sync_started_at: timezone-aware start of the sync. Incremental reads never move a
            cursor past it (records changed during the sync are read next time).
        timezone: IANA name of the program's timezone; a source interprets dates and times
            that carry no offset in it (unless its settings name another).
        logger: a logger named for the source.
    """

    source_name: str
    base_dir: Path
    sync_started_at: datetime
    timezone: str = "UTC"
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("premia.source"))


class Source(ABC, Generic[SettingsT]):
    """Base class of a KPI source type.

    A plugin subclasses it, sets :attr:`type_name` and :attr:`Settings`, implements
    :meth:`check`, :meth:`streams` and :meth:`read`, and registers the class through the
    ``premia_register_sources`` hook.

    Args:
        settings: the validated settings (an instance of :attr:`Settings`).
        context: the run's context.
    """

    type_name: ClassVar[str]
    """The ``type:`` a program file uses to pick this source, e.g. ``csv``."""

    Settings: ClassVar[type[BaseModel]]
    """The pydantic model of this source's settings. Secrets are ``SecretStr`` fields."""

    def __init__(self, settings: SettingsT, context: SourceContext):
        self.settings = settings
        self.context = context

    @abstractmethod
    def check(self) -> CheckResult:
        """Try the connection or files without reading data; never raise for a bad setup."""

    @abstractmethod
    def streams(self) -> list[StreamInfo]:
        """List the streams this source offers with these settings."""

    @abstractmethod
    def read(self, stream: str, cursor: JSONValue | None) -> Iterator[Batch]:
        """Read ``stream`` incrementally from ``cursor`` (``None`` on the first sync).

        Yield batches in order. The engine may read different streams of one source at the
        same time from several threads, so state shared between streams must be thread-safe.
        Each batch's cursor must let a later call resume right after it: the engine stores a batch and its cursor together, so a crash resumes from the
        last stored batch without skipping or doubling anything.

        Raises:
            premia.errors.SourceError: the source cannot be read at all.
            premia.errors.QuotaExhausted: stop now; the run is marked incomplete.
        """

    def close(self) -> None:
        """Release connections and files. Called once after the source's last read."""
