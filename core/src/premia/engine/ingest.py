"""Storing batches of facts: upsert, dirty tracking and the cursor, in one transaction.

The cost of a batch grows with what it changes: facts whose content hash is unchanged are
not written, and only the (participant, period) pairs touched by a changed fact are marked
dirty for metric computation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite

from premia.engine.identity import OwnerResolver
from premia.facts import FACT_KINDS, BadRecord, Batch, Fact
from premia.periods import period_labels
from premia.store import schema as s
from premia.store.bulk import BulkInsert
from premia.store.types import to_scaled

FACT_COLUMNS = (
    "kind",
    "owner_ref",
    "participant_id",
    "occurred_at",
    "month",
    "quarter",
    "amount",
    "currency",
    "quantity",
    "stage",
    "product",
    "category",
    "account",
    "region",
    "channel",
    "attributes",
    "source_updated_at",
    "deleted",
    "content_hash",
    "run_id",
)
RAW_LIMIT = 1000


def insert_for(conn: Connection | Engine) -> Any:
    """Return the dialect's ``insert`` supporting ``ON CONFLICT`` (SQLite or PostgreSQL)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def content_hash(f: Fact, occurred: float | None = None) -> str:
    """Return a hash of everything a fact says (changes when any field changes).

    Instants are hashed as POSIX timestamps: the same instant written with another offset
    is the same fact. ``occurred`` is ``f.occurred_at``'s timestamp when the caller has it.
    """
    if occurred is None and f.occurred_at is not None:
        occurred = f.occurred_at.timestamp()
    updated = f.source_updated_at.timestamp() if f.source_updated_at is not None else None
    key = (
        f.kind, f.owner_ref, occurred, f.amount, f.currency, f.quantity, f.stage, f.product,
        f.category, f.account, f.region, f.channel,
        sorted(f.attributes.items()) if f.attributes else None, updated, f.deleted,
    )  # fmt: skip
    return hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()


@dataclass
class WriteResult:
    """What storing one batch did."""

    facts: int = 0
    changed: int = 0
    bad: int = 0
    dirty: int = 0
    no_owner: int = 0
    duplicates: int = 0


@dataclass
class FactWriter:
    """Stores the batches of one (source, stream).

    Args:
        engine: the store.
        source: source name.
        stream: stream name.
        run_id: the sync run.
        resolver: owner reference -> participant id.
        zone: the program timezone (periods are cut in it).
        period_kinds: which period kinds to mark dirty.
    """

    engine: Engine
    source: str
    stream: str
    run_id: int
    resolver: OwnerResolver
    zone: ZoneInfo
    period_kinds: tuple[str, ...]
    _fresh: bool | None = field(init=False, default=None)
    _periods: dict[datetime, tuple[str, str, float]] = field(init=False, default_factory=dict)

    def write(self, batch: Batch, now: datetime) -> WriteResult:
        """Upsert the batch's facts, record its bad records, mark dirty pairs, save its cursor.

        All of it commits in one transaction: after a crash the stored cursor always matches
        the stored facts.
        """
        result = WriteResult()
        bad: list[BadRecord] = list(batch.bad_records)
        rows: dict[str, dict[str, Any]] = {}
        for fact in batch.facts:
            try:
                if fact.external_id in rows:
                    result.duplicates += 1  # the later record wins, as it would across batches
                rows[fact.external_id] = self._row(fact)
            except ValueError as exc:
                bad.append(
                    BadRecord(
                        location=f"{self.source}/{self.stream}",
                        reason=str(exc),
                        record_id=fact.external_id or None,
                    )
                )
        result.facts = len(rows)
        result.no_owner = sum(1 for row in rows.values() if row["owner_ref"] is None)
        with self.engine.begin() as conn:
            if self._fresh is None:
                self._fresh = _stream_is_empty(conn, self.source, self.stream)
            if self._fresh:
                # First read of this stream: nothing stored can differ, skip the look-up.
                changed = list(rows.values())
                pairs: set[tuple[str, str, int]] = set()
            else:
                changed, pairs = self._changed(conn, rows)
            result.changed = len(changed)
            FACT_UPSERT.execute(conn, changed)
            result.dirty = self._mark_dirty(conn, changed, pairs)
            if bad:
                conn.execute(
                    s.bad_records.insert(),
                    [self._bad_row(b) for b in bad],
                )
            self._save_cursor(conn, batch.cursor, now)
        result.bad = len(bad)
        return result

    # -- rows ---------------------------------------------------------------------------
    def _row(self, f: Fact) -> dict[str, Any]:
        """Return the stored row of a fact (amounts scaled), or raise ValueError saying why not."""
        if not f.external_id or len(f.external_id) > 255:
            raise ValueError("external id is empty or longer than 255 characters")
        if f.kind not in FACT_KINDS:
            raise ValueError(f"unknown fact kind {f.kind!r}")
        month = quarter = None
        stamp = None
        if f.occurred_at is not None:
            try:
                month, quarter, stamp = self._periods[f.occurred_at]
            except KeyError:
                try:
                    month, quarter = period_labels(f.occurred_at, self.zone)
                except ValueError as exc:
                    raise ValueError(f"occurred_at: {exc}") from None
                stamp = f.occurred_at.timestamp()
                self._periods[f.occurred_at] = (month, quarter, stamp)  # type: ignore[assignment]
        if f.source_updated_at is not None and f.source_updated_at.utcoffset() is None:
            raise ValueError("source_updated_at has no timezone")
        try:
            amount = to_scaled(f.amount) if f.amount is not None else None
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(f"amount: {exc}") from None
        try:
            quantity = to_scaled(f.quantity) if f.quantity is not None else None
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(f"quantity: {exc}") from None
        return {
            "source": self.source,
            "stream": self.stream,
            "external_id": f.external_id,
            "kind": f.kind,
            "owner_ref": f.owner_ref,
            "participant_id": self.resolver.resolve(f.owner_ref),
            "occurred_at": f.occurred_at,
            "month": month,
            "quarter": quarter,
            "amount": amount,
            "currency": f.currency,
            "quantity": quantity,
            "stage": f.stage,
            "product": f.product,
            "category": f.category,
            "account": f.account,
            "region": f.region,
            "channel": f.channel,
            "attributes": dict(f.attributes),
            "source_updated_at": f.source_updated_at,
            "deleted": f.deleted,
            "content_hash": content_hash(f, stamp),
            "run_id": self.run_id,
        }

    def _changed(
        self, conn: Connection, rows: dict[str, dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], set[tuple[str, str, int]]]:
        """Return the rows that are new or differ from the store, and the pairs they leave."""
        old_pairs: set[tuple[str, str, int]] = set()
        if not rows:
            return [], old_pairs
        t = s.facts
        old: dict[str, Any] = {}
        ids = list(rows)
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            query = select(
                t.c.external_id, t.c.content_hash, t.c.participant_id, t.c.month, t.c.quarter
            ).where(
                and_(
                    t.c.source == self.source, t.c.stream == self.stream, t.c.external_id.in_(chunk)
                )
            )
            for rec in conn.execute(query):
                old[rec.external_id] = rec
        changed = []
        for ext_id, row in rows.items():
            prev = old.get(ext_id)
            if (
                prev is not None
                and prev.content_hash == row["content_hash"]
                and (
                    prev.participant_id == row["participant_id"]
                    and prev.month == row["month"]
                    and prev.quarter == row["quarter"]
                )
            ):
                continue
            changed.append(row)
            if prev is not None and prev.participant_id is not None:
                for kind in self.period_kinds:
                    label = getattr(prev, kind)
                    if label is not None:
                        old_pairs.add((kind, label, prev.participant_id))
        return changed, old_pairs

    def _mark_dirty(
        self, conn: Connection, changed: list[dict[str, Any]], pairs: set[tuple[str, str, int]]
    ) -> int:
        for row in changed:
            pid = row["participant_id"]
            if pid is None:
                continue
            for kind in self.period_kinds:
                label = row[kind]
                if label is not None:
                    pairs.add((kind, label, pid))
        mark_dirty(conn, pairs)
        return len(pairs)

    def _bad_row(self, b: BadRecord) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "stream": self.stream,
            "location": b.location[:500],
            "line": b.line,
            "column": b.column,
            "record_id": (b.record_id or None) and b.record_id[:255],
            "reason": b.reason,
            "raw": b.raw[:RAW_LIMIT] if b.raw else None,
        }

    def _save_cursor(self, conn: Connection, cursor: Any, now: datetime) -> None:
        ins = insert_for(conn)(s.cursors).values(
            source=self.source,
            stream=self.stream,
            cursor=cursor,
            run_id=self.run_id,
            updated_at=now,
        )
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=["source", "stream"],
                set_={
                    "cursor": ins.excluded.cursor,
                    "run_id": ins.excluded.run_id,
                    "updated_at": ins.excluded.updated_at,
                },
            )
        )


def _fact_upsert(dialect: str) -> Any:
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(s.facts)
    return ins.on_conflict_do_update(
        index_elements=["source", "stream", "external_id"],
        set_={c: ins.excluded[c] for c in FACT_COLUMNS},
    )


FACT_UPSERT = BulkInsert(
    _fact_upsert,
    s.facts,
    ("source", "stream", "external_id", *FACT_COLUMNS),
    memo=("occurred_at", "source_updated_at"),
    raw=("amount", "quantity"),  # FactWriter scales them while validating
)

DIRTY_INSERT = BulkInsert(
    lambda dialect: (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        s.dirty
    ).on_conflict_do_nothing(),
    s.dirty,
    ("period_kind", "period", "participant_id"),
)
"""The fact upsert, compiled once per dialect."""


def _stream_is_empty(conn: Connection, source: str, stream: str) -> bool:
    t = s.facts
    found = conn.execute(
        select(t.c.id).where(t.c.source == source, t.c.stream == stream).limit(1)
    ).first()
    return found is None


def facts_written_by_run(conn: Connection, source: str, stream: str, run_id: int) -> int:
    """Return how many distinct facts of (source, stream) the run wrote."""
    t = s.facts
    query = select(func.count()).where(
        t.c.source == source, t.c.stream == stream, t.c.run_id == run_id
    )
    return int(conn.execute(query).scalar_one())


def mark_dirty(conn: Connection, pairs: Iterable[tuple[str, str, int]]) -> int:
    """Mark (period kind, period, participant id) pairs dirty (idempotent)."""
    rows = [{"period_kind": k, "period": p, "participant_id": pid} for k, p, pid in set(pairs)]
    DIRTY_INSERT.execute(conn, rows)
    return len(rows)


def mark_all_dirty(conn: Connection, period_kinds: Iterable[str]) -> None:
    """Mark every (participant, period) that has facts dirty (after a program change)."""
    t = s.facts
    for kind in period_kinds:
        col = t.c[kind]
        query = (
            select(col, t.c.participant_id)
            .where(t.c.participant_id.is_not(None), col.is_not(None))
            .distinct()
        )
        mark_dirty(conn, ((kind, period, pid) for period, pid in conn.execute(query)))


def reresolve_owners(conn: Connection, resolvers: dict[str, OwnerResolver]) -> None:
    """Re-map every stored fact's owner to a participant (after a roster change)."""
    t = s.facts
    for source, resolver in resolvers.items():
        refs = conn.execute(
            select(t.c.owner_ref).where(t.c.source == source, t.c.owner_ref.is_not(None)).distinct()
        ).scalars()
        for ref in list(refs):
            pid = resolver.resolve(ref)
            conn.execute(
                t.update()
                .where(t.c.source == source, t.c.owner_ref == ref)
                .values(participant_id=pid)
            )


def load_cursor(conn: Connection, source: str, stream: str) -> Any:
    """Return the stored cursor of (source, stream), or ``None``."""
    return conn.execute(
        select(s.cursors.c.cursor).where(s.cursors.c.source == source, s.cursors.c.stream == stream)
    ).scalar_one_or_none()
