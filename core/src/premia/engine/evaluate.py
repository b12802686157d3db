"""Evaluating rules for the periods whose metrics changed, and reconciling grants.

For each dirty period, every rule of that period kind is evaluated on the metric values of
its segment; the outcome is compared with the grants already in the store:

- a new grant key is granted (points credited, an item order queued, an event fired);
- a grant whose points changed (a rate reward on a changed value) gets an adjustment entry;
- a grant no longer earned is reversed (``clawback: reverse``: points debited) or kept
  (``clawback: keep``); nothing is deleted;
- a reversed grant earned again is re-credited.

One period is one transaction, which also clears its dirty marks: a crash re-does the period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from premia.engine import ledger
from premia.engine.fulfillment import queue_order, route
from premia.engine.ledger import EntryType
from premia.engine.metrics import default_value
from premia.errors import RuleError
from premia.events import AchievementUnlocked
from premia.program import Clawback, Participant, Program, ProgramRule
from premia.rules import GrantSpec, Progress, RuleInput, RuleParticipant
from premia.store import schema as s
from premia.store.bulk import insert_many


@dataclass
class EvaluationResult:
    """Counts of one evaluation pass, and the events to fire once committed."""

    periods: int = 0
    grants: int = 0
    reversals: int = 0
    adjustments: int = 0
    events: list[AchievementUnlocked] = field(default_factory=list)


def grant_key(program: Program, rule: str, participant: str, period: str, step: str) -> str:
    """Return the deterministic, unique key of a grant."""
    return f"{program.name}/{rule}/{participant}/{period}/{step}"


def evaluate_dirty(
    engine: Engine, program: Program, ids: Mapping[str, int], now: datetime
) -> EvaluationResult:
    """Evaluate every rule for every dirty period; clear the dirty marks as each commits."""
    result = EvaluationResult()
    for kind in program.period_kinds():
        with engine.connect() as conn:
            periods = list(
                conn.execute(
                    select(s.dirty.c.period)
                    .where(s.dirty.c.period_kind == kind.value)
                    .distinct()
                    .order_by(s.dirty.c.period)
                ).scalars()
            )
        for period in periods:
            events: list[AchievementUnlocked] = []
            with engine.begin() as conn:
                for rule in program.rules:
                    if rule.period is kind:
                        _evaluate_rule(conn, program, rule, period, ids, now, result, events)
                conn.execute(
                    delete(s.dirty).where(
                        s.dirty.c.period_kind == kind.value, s.dirty.c.period == period
                    )
                )
            result.periods += 1
            result.events.extend(events)
    return result


def rule_inputs(
    conn: Connection, program: Program, rule: ProgramRule, period: str, ids: Mapping[str, int]
) -> tuple[RuleInput, dict[str, tuple[str, Decimal | None]]]:
    """Build a rule's input for a period: eligible participants and their values.

    Returns:
        The input, and the participants held back by the rule's gate
        (key -> (why, their value of the rule's metric)).
    """
    cfg = rule.config
    members = [p for p in program.participants if program.in_segment(p, cfg.segment)]
    names = [cfg.metric] + ([cfg.gate.metric] if cfg.gate else [])
    stored = _metric_values(conn, names, rule.period.value, period)
    by_id = {ids[p.key]: p for p in members}

    def value_of(metric: str, p: Participant) -> Decimal | None:
        per = stored.get(metric, {})
        pid = ids[p.key]
        return per[pid] if pid in per else default_value(program.metric(metric))

    gated: dict[str, tuple[str, Decimal | None]] = {}
    eligible: list[Participant] = []
    for p in by_id.values():
        if cfg.gate is not None:
            gate_value = value_of(cfg.gate.metric, p)
            if gate_value is None or gate_value < cfg.gate.at:
                why = f"gate: {cfg.gate.metric} is {gate_value} (needs {cfg.gate.at})"
                gated[p.key] = (why, value_of(cfg.metric, p))
                continue
        eligible.append(p)
    eligible.sort(key=lambda p: p.key)
    values = {p.key: value_of(cfg.metric, p) for p in members}
    inputs = RuleInput(
        period=period,
        participants=[RuleParticipant(p.key, p.all_attributes()) for p in eligible],
        values={p.key: values[p.key] for p in eligible},
    )
    return inputs, gated


def _metric_values(
    conn: Connection, names: list[str], kind: str, period: str
) -> dict[str, dict[int, Decimal | None]]:
    mv = s.metric_values
    out: dict[str, dict[int, Decimal | None]] = {}
    query = select(mv.c.metric, mv.c.participant_id, mv.c.value).where(
        mv.c.metric.in_(names), mv.c.period_kind == kind, mv.c.period == period
    )
    for metric, pid, value in conn.execute(query):
        out.setdefault(metric, {})[pid] = value
    return out


def _evaluate_rule(
    conn: Connection,
    program: Program,
    rule: ProgramRule,
    period: str,
    ids: Mapping[str, int],
    now: datetime,
    result: EvaluationResult,
    events: list[AchievementUnlocked],
) -> None:
    name = rule.config.name
    inputs, gated = rule_inputs(conn, program, rule, period, ids)
    outcome = rule.impl.evaluate(inputs)
    eligible = {p.key for p in inputs.participants}
    _check_outcome(name, outcome.progress, outcome.grants, eligible)
    progress_rows = [
        _progress_row(name, rule.version, period, ids, p, now) for p in outcome.progress
    ]
    for key, (why, value) in gated.items():
        progress_rows.append(
            _progress_row(
                name,
                rule.version,
                period,
                ids,
                Progress(key, value, None, None, False, note=why),
                now,
                gated=True,
            )
        )
    conn.execute(delete(s.progress).where(s.progress.c.rule == name, s.progress.c.period == period))
    if progress_rows:
        insert_many(conn, s.progress, progress_rows)
    _reconcile(conn, program, rule, period, ids, outcome.grants, now, result, events)


def _check_outcome(
    rule: str, progress: list[Progress], grants: list[GrantSpec], eligible: set[str]
) -> None:
    seen: set[tuple[str, str]] = set()
    for g in grants:
        if g.participant_key not in eligible:
            raise RuleError(f"rule {rule!r} granted {g.participant_key!r}, who is not eligible")
        if (g.participant_key, g.step) in seen:
            raise RuleError(
                f"rule {rule!r} returned step {g.step!r} twice for {g.participant_key!r}"
            )
        seen.add((g.participant_key, g.step))
    for p in progress:
        if p.participant_key not in eligible:
            raise RuleError(f"rule {rule!r} returned progress for unknown {p.participant_key!r}")


def _progress_row(
    rule: str,
    version: str,
    period: str,
    ids: Mapping[str, int],
    p: Progress,
    now: datetime,
    *,
    gated: bool = False,
) -> dict[str, Any]:
    return {
        "rule": rule,
        "participant_id": ids[p.participant_key],
        "period": period,
        "rule_version": version,
        "value": p.value,
        "target": p.target,
        "remaining": p.remaining,
        "achieved": p.achieved,
        "rank": p.rank,
        "gated": gated,
        "note": p.note,
        "updated_at": now,
    }


def _reconcile(
    conn: Connection,
    program: Program,
    rule: ProgramRule,
    period: str,
    ids: Mapping[str, int],
    specs: list[GrantSpec],
    now: datetime,
    result: EvaluationResult,
    events: list[AchievementUnlocked],
) -> None:
    g = s.grants
    name = rule.config.name
    rounding = program.config.rewards.rounding
    keep = program.config.clawback is Clawback.KEEP
    existing = {
        row.key: row
        for row in conn.execute(select(g).where(g.c.rule == name, g.c.period == period))
    }
    by_key = {p.key: p for p in program.participants}
    new_grants: list[dict[str, Any]] = []
    new_entries: list[dict[str, Any]] = []
    wanted: set[str] = set()
    for spec in specs:
        key = grant_key(program, name, spec.participant_key, period, spec.step)
        wanted.add(key)
        pid = ids[spec.participant_key]
        points = rounding.apply(spec.points)
        row = existing.get(key)
        if row is None:
            new_grants.append(
                {
                    "key": key,
                    "rule": name,
                    "rule_version": rule.version,
                    "participant_id": pid,
                    "period": period,
                    "step": spec.step,
                    "points": points,
                    "item": spec.item,
                    "badge": spec.badge,
                    "reason": spec.reason,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if points:
                new_entries.append(
                    _entry(f"{key}#1", pid, points, EntryType.GRANT, key, now, spec.reason)
                )
            if spec.item:
                queue_order(
                    conn,
                    key=f"grant:{key}",
                    participant_id=pid,
                    sku=spec.item,
                    points=0,
                    origin="grant",
                    grant_key=key,
                    provider=route(program, by_key[spec.participant_key]),
                    now=now,
                )
            result.grants += 1
            events.append(_event(program, key, spec, name, period, points))
            continue
        changes: dict[str, Any] = {
            "rule_version": rule.version,
            "reason": spec.reason,
            "updated_at": now,
        }
        if row.status == "active" or row.status == "kept":
            paid = row.points
            delta = points - paid
            if delta > 0 or (delta < 0 and not keep):
                _append_next(conn, key, pid, delta, EntryType.ADJUSTMENT, now, spec.reason)
                changes["points"] = points
                result.adjustments += 1
            if row.status == "kept":
                changes["status"] = "active"
        else:  # reversed: earned again
            if points:
                _append_next(
                    conn, key, pid, points, EntryType.GRANT, now, f"earned again: {spec.reason}"
                )
            if spec.item:
                _resend_item(conn, program, key, pid, spec.item, by_key[spec.participant_key], now)
            changes.update(status="active", points=points)
            result.grants += 1
            events.append(_event(program, key, spec, name, period, points))
        if len(changes) > 3 or row.reason != spec.reason or row.rule_version != rule.version:
            conn.execute(update(g).where(g.c.id == row.id).values(**changes))
    for key, row in existing.items():
        if key in wanted or row.status != "active":
            continue
        if keep:
            conn.execute(update(g).where(g.c.id == row.id).values(status="kept", updated_at=now))
            continue
        if row.points:
            _append_next(
                conn,
                key,
                row.participant_id,
                -row.points,
                EntryType.REVERSAL,
                now,
                "no longer earned",
            )
        conn.execute(update(g).where(g.c.id == row.id).values(status="reversed", updated_at=now))
        _cancel_pending_order(conn, key, now)
        result.reversals += 1
    if new_grants:
        insert_many(conn, g, new_grants)
    if new_entries:
        insert_many(conn, s.ledger, new_entries)


def _entry(
    entry_key: str,
    pid: int,
    points: int,
    entry_type: EntryType,
    grant: str,
    now: datetime,
    note: str,
) -> dict[str, Any]:
    return {
        "entry_key": entry_key,
        "participant_id": pid,
        "points": points,
        "entry_type": entry_type.value,
        "grant_key": grant,
        "order_key": None,
        "note": note,
        "created_at": now,
    }


def _append_next(
    conn: Connection,
    grant: str,
    pid: int,
    points: int,
    entry_type: EntryType,
    now: datetime,
    note: str,
) -> None:
    n = ledger.entries_for_grant(conn, grant) + 1
    ledger.append(
        conn,
        entry_key=f"{grant}#{n}",
        participant_id=pid,
        points=points,
        entry_type=entry_type,
        now=now,
        grant_key=grant,
        note=note,
    )


def _resend_item(
    conn: Connection,
    program: Program,
    grant: str,
    pid: int,
    sku: str,
    participant: Participant,
    now: datetime,
) -> None:
    """Queue the item of a re-earned grant again if its last order was cancelled unsent."""
    o = s.orders
    orders = conn.execute(
        select(o.c.key, o.c.status).where(o.c.grant_key == grant).order_by(o.c.id)
    ).all()
    if orders and orders[-1].status != "cancelled":
        return  # sent, being sent, or failed for good: never a second item
    key = f"grant:{grant}" if not orders else f"grant:{grant}#{len(orders) + 1}"
    queue_order(
        conn,
        key=key,
        participant_id=pid,
        sku=sku,
        points=0,
        origin="grant",
        grant_key=grant,
        provider=route(program, participant),
        now=now,
    )


def _cancel_pending_order(conn: Connection, grant: str, now: datetime) -> None:
    o = s.orders
    row = conn.execute(
        select(o.c.id, o.c.status).where(o.c.grant_key == grant).order_by(o.c.id.desc()).limit(1)
    ).first()
    if row is not None and row.status == "pending":
        conn.execute(update(o).where(o.c.id == row.id).values(status="cancelled", updated_at=now))
        conn.execute(
            s.order_events.insert().values(
                order_id=row.id, status="cancelled", detail="grant reversed", at=now
            )
        )


def _event(
    program: Program, key: str, spec: GrantSpec, rule: str, period: str, points: int
) -> AchievementUnlocked:
    return AchievementUnlocked(
        program=program.name,
        grant_key=key,
        participant_key=spec.participant_key,
        rule=rule,
        period=period,
        points=points,
        item=spec.item,
        badge=spec.badge,
        reason=spec.reason,
    )
