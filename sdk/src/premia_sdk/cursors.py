"""Incremental cursors that neither skip nor double records sharing a timestamp.

A cursor made of a timestamp alone breaks at batch boundaries: if two records were both
modified at ``10:00:00`` and a batch ends between them, resuming ``> 10:00:00`` skips the
second and resuming ``>= 10:00:00`` reads the first again. A :class:`CompoundCursor` is the
pair ``(timestamp, id)`` of the last record stored. Reading resumes from the timestamp
*inclusive*, and :meth:`CompoundCursor.is_after` keeps only the records strictly after the
pair: the second record is read, the first is not.

That works when the API returns records in ``(timestamp, id)`` order, the order this module
compares in: timestamps in time order, then ids - numerically when both are made of digits
(``"9" < "10"``), otherwise by code point (``"A" < "B" < "a"``), then by text. A stream
sorts its query that way (e.g. ``ORDER BY SystemModstamp, Id``, or the vendor's sort on the
modification date then the id).

An :class:`IncrementalWindow` bounds one read:

* the query's lower bound is the cursor's timestamp minus an optional ``lookback`` (for APIs
  whose filter is coarser than their timestamps, e.g. whole seconds or whole days); the
  cursor test drops what was already read, so looking back never produces a duplicate;
* the upper bound is fixed when the sync starts (``SourceContext.sync_started_at``):
  records changed after it are left for the next sync, so the cursor never moves past it and
  a record changed while the sync runs cannot be skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import total_ordering
from typing import Any

from premia import JSONValue

__all__ = ["CompoundCursor", "IncrementalWindow", "id_sort_key"]

CURSOR_VERSION = 1
"""Version of the JSON form written by :meth:`CompoundCursor.to_json`."""


def id_sort_key(record_id: str) -> tuple[int, int, str]:
    """Return the key ids are compared by: digit strings numerically, then other text.

    Args:
        record_id: a record id.

    Returns:
        A sort key; all-digit ids sort before other ids, numerically, ties broken by text.
    """
    if record_id.isascii() and record_id.isdigit():
        return (0, int(record_id), record_id)
    return (1, 0, record_id)


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC)


@total_ordering
@dataclass(frozen=True, slots=True, eq=False)
class CompoundCursor:
    """The position after the last record stored: its timestamp and its id.

    Cursors are ordered by ``(timestamp, id)`` (see :func:`id_sort_key` for ids); equal when
    both are equal.

    Attributes:
        timestamp: the record's modification time (timezone-aware; kept in UTC).
        id: the record's id.
    """

    timestamp: datetime
    id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "timestamp", _aware(self.timestamp, "a cursor timestamp"))
        object.__setattr__(self, "id", str(self.id))

    def key(self) -> tuple[datetime, tuple[int, int, str]]:
        """Return the sort key ``(timestamp, id_sort_key(id))``."""
        return (self.timestamp, id_sort_key(self.id))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompoundCursor):
            return NotImplemented
        return self.key() == other.key()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, CompoundCursor):
            return NotImplemented
        return self.key() < other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def is_after(self, record_ts: datetime, record_id: str) -> bool:
        """Return True if the record ``(record_ts, record_id)`` comes after this cursor.

        A record with the cursor's timestamp comes after it only if its id does; the record
        the cursor was made from does not.

        Args:
            record_ts: the record's modification time (timezone-aware).
            record_id: the record's id.

        Returns:
            Whether the record is new to a read resuming from this cursor.
        """
        ts = _aware(record_ts, "a record timestamp")
        return (ts, id_sort_key(str(record_id))) > self.key()

    def to_json(self) -> dict[str, JSONValue]:
        """Return the JSON form saved by the engine.

        Returns:
            ``{"v": 1, "ts": "2024-05-01T10:00:00.250000+00:00", "id": "42"}``
        """
        return {"v": CURSOR_VERSION, "ts": self.timestamp.isoformat(), "id": self.id}

    @classmethod
    def from_json(cls, value: Any) -> CompoundCursor:
        """Read a cursor saved by :meth:`to_json`.

        Args:
            value: the saved JSON value.

        Returns:
            The cursor.

        Raises:
            ValueError: the value is not a cursor of this form.
        """
        if not isinstance(value, dict) or not {"ts", "id"} <= value.keys():
            raise ValueError(f"not a compound cursor: {value!r:.100}")
        if value.get("v", CURSOR_VERSION) != CURSOR_VERSION:
            raise ValueError(f"unknown compound cursor version {value.get('v')!r}")
        ts, record_id = value["ts"], value["id"]
        if not isinstance(ts, str) or not isinstance(record_id, str | int):
            raise ValueError(f"not a compound cursor: {value!r:.100}")
        return cls(datetime.fromisoformat(ts), str(record_id))


@dataclass(frozen=True, slots=True)
class IncrementalWindow:
    """The slice of a stream one read covers.

    Attributes:
        start: the cursor to resume after (``None``: first sync, read from the beginning).
        upper_bound: records modified after this are left for the next sync (fixed at the
            start of the sync).
        lookback: how far before the cursor's timestamp the query starts.
    """

    start: CompoundCursor | None
    upper_bound: datetime
    lookback: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "upper_bound", _aware(self.upper_bound, "the upper bound"))
        if self.lookback < timedelta(0):
            raise ValueError("lookback must not be negative")

    @property
    def lower_bound(self) -> datetime | None:
        """The timestamp to query from, inclusive (``None``: from the beginning)."""
        if self.start is None:
            return None
        return self.start.timestamp - self.lookback

    def accepts(self, record_ts: datetime, record_id: str) -> bool:
        """Return True if a record belongs to this read.

        Args:
            record_ts: the record's modification time (timezone-aware).
            record_id: the record's id.

        Returns:
            False for a record at or before the start cursor (already read) or after the
            upper bound (left for the next sync).
        """
        ts = _aware(record_ts, "a record timestamp")
        if ts > self.upper_bound:
            return False
        return self.start is None or self.start.is_after(ts, record_id)
