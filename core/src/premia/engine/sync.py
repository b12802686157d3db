"""One sync: read every source incrementally, compute changed metrics, evaluate rules, pay.

Order of work and what each step guarantees:

1. roster: participants are upserted; if the roster, timezone or program logic changed since
   the last sync, the affected facts are re-mapped and every period is marked dirty;
2. read: each (source, stream) is read from its saved cursor; each batch's facts, quarantined
   records, dirty marks and cursor commit together;
3. metrics: recomputed in SQL for the dirty (participant, period) pairs only;
4. rules: evaluated per dirty period, grants reconciled (only when every source was read
   completely: no reward is paid from partial data);
5. fulfillment: the outbox is drained through the routed providers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from premia.engine.evaluate import evaluate_dirty
from premia.engine.fulfillment import drain_outbox
from premia.engine.identity import OwnerResolver, sync_participants
from premia.engine.ingest import (
    FactWriter,
    facts_written_by_run,
    insert_for,
    load_cursor,
    mark_all_dirty,
    reresolve_owners,
)
from premia.engine.metrics import compute_dirty_metrics
from premia.errors import PremiaError, QuotaExhausted
from premia.events import SyncFinished
from premia.facts import BadRecord
from premia.periods import period_labels
from premia.plugins import fire
from premia.runtime import Runtime
from premia.sources import SourceContext
from premia.store import schema as s

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


class SyncObserver:
    """Receives progress of a sync (the CLI draws a progress bar with it). No-op by default."""

    def phase(self, name: str) -> None:
        """A step of the sync starts: ``roster``, ``read``, ``metrics``, ``rules``, ``fulfillment``."""

    def stream_started(self, source: str, stream: str) -> None:
        """Reading a stream starts."""

    def batch_stored(self, source: str, stream: str, rows: int, changed: int, note: str) -> None:
        """A batch of ``rows`` records was committed; ``changed`` facts were new or different."""

    def stream_finished(self, source: str, stream: str, error: str | None) -> None:
        """Reading a stream ended (``error`` says why when it ended early)."""


@dataclass
class SyncReport:
    """What a sync did. ``complete`` is False when a source could not be read to the end."""

    run_id: int
    started_at: datetime
    finished_at: datetime | None = None
    complete: bool = True
    facts_read: int = 0
    facts_changed: int = 0
    bad_records: int = 0
    bad_samples: list[BadRecord] = field(default_factory=list)
    unmatched_owners: Counter[str] = field(default_factory=Counter)
    no_owner: int = 0
    duplicate_ids: int = 0
    metric_values: int = 0
    periods_evaluated: int = 0
    grants: int = 0
    reversals: int = 0
    adjustments: int = 0
    orders_submitted: int = 0
    orders_fulfilled: int = 0
    orders_failed: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "complete": self.complete,
            "facts_read": self.facts_read,
            "facts_changed": self.facts_changed,
            "bad_records": self.bad_records,
            "bad_samples": [
                {"location": b.location, "line": b.line, "column": b.column, "reason": b.reason}
                for b in self.bad_samples
            ],
            "unmatched_owners": dict(self.unmatched_owners.most_common(20)),
            "facts_without_owner": self.no_owner,
            "duplicate_ids": self.duplicate_ids,
            "metric_values": self.metric_values,
            "periods_evaluated": self.periods_evaluated,
            "grants": self.grants,
            "reversals": self.reversals,
            "adjustments": self.adjustments,
            "orders": {
                "submitted": self.orders_submitted,
                "fulfilled": self.orders_fulfilled,
                "failed": self.orders_failed,
            },
            "errors": self.errors,
            "notes": self.notes,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


BAD_SAMPLES = 20


class _PhaseClock:
    """Tells the observer which phase starts and records how long each took."""

    def __init__(self, report: SyncReport, obs: SyncObserver):
        self.report, self.obs = report, obs
        self.phase: str | None = None
        self.since = 0.0

    def start(self, phase: str) -> None:
        self.stop()
        self.phase, self.since = phase, time.perf_counter()
        self.obs.phase(phase)

    def stop(self) -> None:
        if self.phase is not None:
            self.report.timings[self.phase] = time.perf_counter() - self.since
            self.phase = None


def run_sync(runtime: Runtime, observer: SyncObserver | None = None) -> SyncReport:
    """Run one sync of the runtime's program and return its report."""
    obs = observer or SyncObserver()
    program, engine = runtime.program, runtime.engine
    started = utcnow()
    with engine.begin() as conn:
        run_id = int(
            conn.execute(
                s.sync_runs.insert().values(started_at=started, status="running")
            ).inserted_primary_key[0]  # type: ignore[index]
        )
    report = SyncReport(run_id=run_id, started_at=started)
    clock = _PhaseClock(report, obs)
    try:
        clock.start("roster")
        ids, resolvers = _prepare(runtime)
        clock.start("read")
        _read_sources(runtime, run_id, resolvers, report, obs, started)
        for resolver in resolvers.values():
            report.unmatched_owners.update(resolver.unmatched)
        clock.start("metrics")
        with engine.begin() as conn:
            report.metric_values = compute_dirty_metrics(conn, program, utcnow())
        if report.complete:
            clock.start("rules")
            evaluation = evaluate_dirty(engine, program, ids, utcnow())
            report.periods_evaluated = evaluation.periods
            report.grants = evaluation.grants
            report.reversals = evaluation.reversals
            report.adjustments = evaluation.adjustments
            for event in evaluation.events:
                fire(runtime.registry, "premia_achievement_unlocked", event)
            if evaluation.reversals:
                negative = _negative_balances(runtime)
                if negative:
                    report.notes.append(
                        f"{len(negative)} participant(s) owe points after reversals "
                        f"(negative balance): {', '.join(negative[:5])}"
                    )
        else:
            report.notes.append(
                "rules were not evaluated: a source was not read completely "
                "(the changed periods stay due for the next sync)"
            )
        clock.start("fulfillment")
        with runtime.providers() as providers:
            drained = drain_outbox(engine, program, providers, utcnow)
        report.orders_submitted = drained.submitted
        report.orders_fulfilled = drained.fulfilled
        report.orders_failed = drained.failed
        for ev in drained.fulfilled_events:
            fire(runtime.registry, "premia_reward_fulfilled", ev)
        for fe in drained.failed_events:
            fire(runtime.registry, "premia_reward_failed", fe)
        clock.stop()
    except BaseException as exc:
        clock.stop()
        report.complete = False
        report.errors.append(f"sync failed: {type(exc).__name__}: {exc}")
        _finish(runtime, report, "failed")
        raise
    _finish(runtime, report, "complete" if report.complete else "incomplete")
    return report


def _negative_balances(runtime: Runtime) -> list[str]:
    """Return the keys of participants whose points balance is below zero."""
    lg, p = s.ledger, s.participants
    query = (
        select(p.c.key)
        .join(lg, lg.c.participant_id == p.c.id)
        .group_by(p.c.key)
        .having(func.sum(lg.c.points) < 0)
        .order_by(p.c.key)
    )
    with runtime.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def _finish(runtime: Runtime, report: SyncReport, status: str) -> None:
    report.finished_at = utcnow()
    message = "\n".join(report.errors + report.notes) or None
    with runtime.engine.begin() as conn:
        conn.execute(
            update(s.sync_runs)
            .where(s.sync_runs.c.id == report.run_id)
            .values(
                finished_at=report.finished_at,
                status=status,
                facts_read=report.facts_read,
                facts_changed=report.facts_changed,
                bad_records=report.bad_records,
                grants=report.grants,
                reversals=report.reversals,
                message=message,
            )
        )
        conn.execute(
            s.audit_log.insert().values(
                at=report.finished_at,
                action="sync",
                detail=json.loads(json.dumps(report.as_dict(), default=str)),
            )
        )
    fire(
        runtime.registry,
        "premia_sync_finished",
        SyncFinished(
            program=runtime.program.name,
            run_id=report.run_id,
            started_at=report.started_at,
            finished_at=report.finished_at,
            complete=report.complete,
            facts_changed=report.facts_changed,
            bad_records=report.bad_records,
            grants=report.grants,
            reversals=report.reversals,
            errors=list(report.errors),
        ),
    )


def _prepare(runtime: Runtime) -> tuple[dict[str, int], dict[str, OwnerResolver]]:
    """Upsert the roster; re-map and re-cut stored facts if the program changed."""
    program = runtime.program
    kinds = [k.value for k in program.period_kinds()]
    with runtime.engine.begin() as conn:
        ids = sync_participants(conn, program)
        resolvers = {
            src.name: OwnerResolver(src.name, program.participants, ids)
            for src in program.config.sources
        }
        stored = _meta(conn)
        has_facts = conn.execute(select(func.count()).select_from(s.facts)).scalar_one() > 0
        if stored.get("program") not in (None, program.name):
            log.warning("store was used by program %r, now %r", stored.get("program"), program.name)
        if has_facts and stored.get("timezone") != program.config.timezone:
            mark_all_dirty(conn, kinds)
            _recut_periods(conn, program.zone)
            mark_all_dirty(conn, kinds)
        if has_facts and stored.get("roster") != program.fingerprint():
            mark_all_dirty(conn, kinds)
            reresolve_owners(conn, resolvers)
            mark_all_dirty(conn, kinds)
        logic = _logic_fingerprint(runtime)
        if has_facts and stored.get("logic") != logic:
            mark_all_dirty(conn, kinds)
        for key, value in (
            ("program", program.name),
            ("timezone", program.config.timezone),
            ("roster", program.fingerprint()),
            ("logic", logic),
        ):
            ins = insert_for(conn)(s.meta).values(key=key, value=value)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=["key"], set_={"value": ins.excluded.value}
                )
            )
        for resolver in resolvers.values():
            resolver.unmatched.clear()
    return ids, resolvers


def _meta(conn: Connection) -> dict[str, str]:
    return {row.key: row.value for row in conn.execute(select(s.meta))}


def _logic_fingerprint(runtime: Runtime) -> str:
    cfg = runtime.program.config
    doc = {
        "metrics": [m.model_dump(mode="json") for m in cfg.metrics],
        "segments": [g.model_dump(mode="json") for g in cfg.segments],
        "rules": [r.version for r in runtime.program.rules],
        "period": cfg.period.value,
        "rounding": cfg.rewards.rounding.value,
    }
    return json.dumps(doc, sort_keys=True)


def _recut_periods(conn: Connection, zone: Any) -> None:
    t = s.facts
    rows = conn.execute(select(t.c.id, t.c.occurred_at).where(t.c.occurred_at.is_not(None))).all()
    updates = []
    for fact_id, occurred in rows:
        month, quarter = period_labels(occurred, zone)
        updates.append({"fid": fact_id, "m": month, "q": quarter})
    if updates:
        from sqlalchemy import bindparam

        conn.execute(
            update(t)
            .where(t.c.id == bindparam("fid"))
            .values(month=bindparam("m"), quarter=bindparam("q")),
            updates,
        )


def _read_sources(
    runtime: Runtime,
    run_id: int,
    resolvers: dict[str, OwnerResolver],
    report: SyncReport,
    obs: SyncObserver,
    started: datetime,
) -> None:
    """Read every stream of every source; up to ``PREMIA_PARALLEL_STREAMS`` at once.

    Each stream is read and stored by one thread, batch after batch in order, so its cursor
    always matches its stored facts; streams run side by side (an HTTP source fetches several
    streams concurrently, within its own rate budget). Writes are short transactions that
    the store serialises.
    """
    program = runtime.program
    kinds = tuple(k.value for k in program.period_kinds())
    opened: list[tuple[str, Any]] = []
    jobs: list[tuple[str, str, Any]] = []
    for src in program.config.sources:
        cls = runtime.registry.source_type(src.type)
        context = SourceContext(
            source_name=src.name,
            base_dir=program.base_dir,
            sync_started_at=started,
            timezone=program.config.timezone,
            logger=logging.getLogger(f"premia.source.{src.name}"),
        )
        try:
            source = cls(program.source_settings[src.name], context)
            opened.append((src.name, source))
            jobs.extend((src.name, stream.name, source) for stream in source.streams())
        except Exception as exc:
            _source_failed(report, f"{src.name}: {_describe(exc)}", exc)
    lock = threading.Lock()

    def job(name: str, stream: str, source: Any) -> None:
        _read_stream(
            runtime, run_id, name, stream, source, resolvers[name], kinds, report, obs, lock
        )

    try:
        workers = max(1, min(runtime.settings.parallel_streams, len(jobs)))
        if workers == 1:
            for name, stream, source in jobs:
                job(name, stream, source)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="premia-read") as pool:
                for future in [pool.submit(job, *j) for j in jobs]:
                    future.result()
    finally:
        for name, source in opened:
            try:
                source.close()
            except Exception:
                log.exception("closing source %s failed", name)


def _read_stream(
    runtime: Runtime,
    run_id: int,
    source_name: str,
    stream: str,
    source: Any,
    resolver: OwnerResolver,
    kinds: tuple[str, ...],
    report: SyncReport,
    obs: SyncObserver,
    lock: threading.Lock,
) -> None:
    writer = FactWriter(
        runtime.engine, source_name, stream, run_id, resolver, runtime.program.zone, kinds
    )
    with runtime.engine.connect() as conn:
        cursor = load_cursor(conn, source_name, stream)
    with lock:
        obs.stream_started(source_name, stream)
    error = None
    changed_here = 0
    try:
        for batch in source.read(stream, cursor):
            stored = writer.write(batch, utcnow())
            rows = (
                batch.rows if batch.rows is not None else len(batch.facts) + len(batch.bad_records)
            )
            changed_here += stored.changed
            with lock:
                report.facts_read += stored.facts
                report.facts_changed += stored.changed
                report.no_owner += stored.no_owner
                report.duplicate_ids += stored.duplicates
                report.bad_records += stored.bad
                room = BAD_SAMPLES - len(report.bad_samples)
                if room > 0:
                    report.bad_samples.extend(batch.bad_records[:room])
                obs.batch_stored(source_name, stream, rows, stored.changed, batch.note)
        if changed_here:
            with runtime.engine.connect() as conn:
                distinct = facts_written_by_run(conn, source_name, stream, run_id)
            with lock:
                report.duplicate_ids += changed_here - distinct
    except QuotaExhausted as exc:
        error = f"{source_name}/{stream}: quota exhausted, stopped at the last stored batch: {exc}"
        with lock:
            _source_failed(report, error, None)
    except Exception as exc:
        error = f"{source_name}/{stream}: {_describe(exc)}"
        with lock:
            _source_failed(report, error, exc)
    with lock:
        obs.stream_finished(source_name, stream, error)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PremiaError):
        return str(exc)
    return f"unexpected error {type(exc).__name__}: {exc}"


def _source_failed(report: SyncReport, message: str, exc: BaseException | None) -> None:
    report.complete = False
    report.errors.append(message)
    if exc is not None and not isinstance(exc, PremiaError):
        log.error("%s", message, exc_info=exc)
    else:
        log.warning("%s", message)
