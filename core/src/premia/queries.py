"""Read models: progress, leaderboards, balances, orders and explanations.

Everything a participant is shown comes from here, and every number can be traced back by
:func:`explain` to the metric, the facts and the rule version that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select

from premia.engine.ledger import balance
from premia.engine.metrics import default_value, fact_filter
from premia.errors import ConfigError
from premia.periods import check_period_label
from premia.program import MetricConfig, Participant, PeriodKind, Program, known_attributes
from premia.store import schema as s


def latest_period(conn: Connection, kind: PeriodKind) -> str | None:
    """Return the most recent period that has metric values."""
    mv = s.metric_values
    return conn.execute(
        select(func.max(mv.c.period)).where(mv.c.period_kind == kind.value)
    ).scalar_one_or_none()


def periods(conn: Connection, kind: PeriodKind) -> list[str]:
    """Return every period with metric values, oldest first."""
    mv = s.metric_values
    return list(
        conn.execute(
            select(mv.c.period)
            .where(mv.c.period_kind == kind.value)
            .distinct()
            .order_by(mv.c.period)
        ).scalars()
    )


def participant_id(conn: Connection, participant: Participant) -> int | None:
    """Return the store id of a participant (``None`` before the first sync)."""
    return conn.execute(
        select(s.participants.c.id).where(s.participants.c.key == participant.key)
    ).scalar_one_or_none()


@dataclass
class RuleProgress:
    """One participant's standing on one rule in one period."""

    rule: str
    rule_type: str
    period: str
    metric: str
    value: Decimal | None
    target: Decimal | None
    remaining: Decimal | None
    achieved: bool
    rank: int | None
    gated: bool
    note: str
    points: int

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (Decimals as strings, exact)."""
        return {
            "rule": self.rule,
            "type": self.rule_type,
            "period": self.period,
            "metric": self.metric,
            "value": _s(self.value),
            "target": _s(self.target),
            "remaining": _s(self.remaining),
            "achieved": self.achieved,
            "rank": self.rank,
            "gated": self.gated,
            "note": self.note,
            "points": self.points,
        }


@dataclass
class ParticipantStatus:
    """Where a participant stands: balance, badges, progress per rule, orders."""

    participant: Participant
    balance: int
    earned: int
    badges: list[str]
    progress: list[RuleProgress]
    orders: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        p = self.participant
        return {
            "participant": {
                "key": p.key,
                "name": p.name,
                "region": p.region,
                "role": p.role,
                "manager": p.manager,
            },
            "balance": self.balance,
            "earned": self.earned,
            "badges": self.badges,
            "progress": [r.as_dict() for r in self.progress],
            "orders": self.orders,
        }


def participant_status(
    conn: Connection, program: Program, participant: Participant, period: str | None = None
) -> ParticipantStatus:
    """Return a participant's balance, badges and progress (one period, or all)."""
    pid = participant_id(conn, participant)
    if pid is None:
        return ParticipantStatus(participant, 0, 0, [], [])
    pr, g = s.progress, s.grants
    query = select(pr).where(pr.c.participant_id == pid)
    if period is not None:
        query = query.where(pr.c.period == period)
    points = {
        (row.rule, row.period): int(row.total or 0)
        for row in conn.execute(
            select(g.c.rule, g.c.period, func.sum(g.c.points).label("total"))
            .where(g.c.participant_id == pid, g.c.status != "reversed")
            .group_by(g.c.rule, g.c.period)
        )
    }
    rules = {r.config.name: r for r in program.rules}
    out = []
    for row in conn.execute(query.order_by(pr.c.period, pr.c.rule)):
        rule = rules.get(row.rule)
        if rule is None:
            continue
        out.append(
            RuleProgress(
                rule=row.rule,
                rule_type=rule.config.type,
                period=row.period,
                metric=rule.config.metric,
                value=row.value,
                target=row.target,
                remaining=row.remaining,
                achieved=row.achieved,
                rank=row.rank,
                gated=row.gated,
                note=row.note,
                points=points.get((row.rule, row.period), 0),
            )
        )
    badges = sorted(
        set(
            conn.execute(
                select(g.c.badge).where(
                    g.c.participant_id == pid, g.c.status == "active", g.c.badge.is_not(None)
                )
            ).scalars()
        )
    )
    earned = conn.execute(
        select(func.coalesce(func.sum(s.ledger.c.points), 0)).where(
            s.ledger.c.participant_id == pid,
            s.ledger.c.entry_type.in_(["grant", "adjustment", "reversal"]),
        )
    ).scalar_one()
    return ParticipantStatus(
        participant, balance(conn, pid), int(earned), badges, out, orders_of(conn, pid)
    )


def orders_of(conn: Connection, pid: int | None = None) -> list[dict[str, Any]]:
    """Return orders (of one participant, or all), newest last."""
    o, p = s.orders, s.participants
    query = select(o, p.c.key.label("participant"), p.c.name.label("participant_name")).join(
        p, p.c.id == o.c.participant_id
    )
    if pid is not None:
        query = query.where(o.c.participant_id == pid)
    out = []
    for row in conn.execute(query.order_by(o.c.id)).mappings():
        out.append(
            {
                "key": row["key"],
                "participant": row["participant"],
                "participant_name": row["participant_name"],
                "sku": row["sku"],
                "quantity": row["quantity"],
                "points": row["points"],
                "origin": row["origin"],
                "provider": row["provider"],
                "provider_order_id": row["provider_order_id"],
                "status": row["status"],
                "last_error": row["last_error"],
                "created_at": row["created_at"].isoformat(),
            }
        )
    return out


@dataclass
class LeaderboardEntry:
    """A row of a leaderboard."""

    rank: int
    participant: Participant
    value: Decimal | None
    points: int

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "rank": self.rank,
            "key": self.participant.key,
            "name": self.participant.name,
            "value": _s(self.value),
            "points": self.points,
        }


def leaderboard(
    conn: Connection,
    program: Program,
    metric: str,
    kind: PeriodKind,
    period: str,
    by: str | None = None,
) -> dict[str | None, list[LeaderboardEntry]]:
    """Rank participants by ``metric`` in ``period`` (within each value of ``by``).

    Highest first; ties broken by participant key (the same rule as ``rank`` rules). Points
    are what each participant earned in the period from all rules.
    """
    try:
        mconf = program.metric(metric)
    except KeyError:
        raise ConfigError(
            f"no metric named {metric!r}; metrics: {', '.join(m.name for m in program.config.metrics)}"
        ) from None
    check_period_label(kind.value, period)
    known = known_attributes(program.participants)
    if by is not None and by not in known:
        raise ConfigError(f"no roster attribute {by!r}; attributes: {', '.join(sorted(known))}")
    mv, g = s.metric_values, s.grants
    ids = {
        row.key: row.id for row in conn.execute(select(s.participants.c.key, s.participants.c.id))
    }
    values = {
        pid: value
        for pid, value in conn.execute(
            select(mv.c.participant_id, mv.c.value).where(
                mv.c.metric == metric, mv.c.period_kind == kind.value, mv.c.period == period
            )
        )
    }
    points = {
        pid: int(total or 0)
        for pid, total in conn.execute(
            select(g.c.participant_id, func.sum(g.c.points))
            .where(g.c.period == period, g.c.status != "reversed")
            .group_by(g.c.participant_id)
        )
    }
    groups: dict[str | None, list[tuple[Participant, Decimal | None]]] = {}
    for p in program.participants:
        pid = ids.get(p.key)
        value = values.get(pid, default_value(mconf)) if pid is not None else default_value(mconf)
        groups.setdefault(p.attribute(by) if by else None, []).append((p, value))
    out: dict[str | None, list[LeaderboardEntry]] = {}
    for group in sorted(groups, key=lambda k: (k is None, k or "")):
        members = sorted(groups[group], key=lambda pv: (pv[1] is None, -(pv[1] or 0), pv[0].key))
        out[group] = [
            LeaderboardEntry(i, p, v, points.get(ids.get(p.key, -1), 0))
            for i, (p, v) in enumerate(members, start=1)
        ]
    return out


@dataclass
class Explanation:
    """Why a rule did or did not pay a participant in a period."""

    participant: Participant
    rule: str
    rule_type: str
    rule_version: str
    period: str
    metrics: list[dict[str, Any]]
    progress: dict[str, Any] | None
    grants: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "participant": {"key": self.participant.key, "name": self.participant.name},
            "rule": self.rule,
            "type": self.rule_type,
            "rule_version": self.rule_version,
            "period": self.period,
            "metrics": self.metrics,
            "progress": self.progress,
            "grants": self.grants,
            "ledger": self.ledger,
            "verdict": self.verdict,
        }


SAMPLE = 5


def explain(
    conn: Connection, program: Program, participant: Participant, rule_name: str, period: str
) -> Explanation:
    """Explain a rule's outcome for a participant in a period, from the facts up."""
    rule = program.rule(rule_name)
    check_period_label(rule.period.value, period)
    pid = participant_id(conn, participant)
    cfg = rule.config
    names = [cfg.metric] + ([cfg.gate.metric] if cfg.gate else [])
    shown: list[str] = []
    for name in names:
        m = program.metric(name)
        shown.append(name)
        if m.ratio is not None:
            shown.extend([m.ratio.numerator, m.ratio.denominator])
    metrics = [
        _explain_metric(conn, program.metric(n), pid, rule.period, period)
        for n in dict.fromkeys(shown)
    ]
    pr = s.progress
    prog_row = None
    if pid is not None:
        row = (
            conn.execute(
                select(pr).where(
                    pr.c.rule == rule_name, pr.c.participant_id == pid, pr.c.period == period
                )
            )
            .mappings()
            .first()
        )
        if row is not None:
            prog_row = {
                "value": _s(row["value"]),
                "target": _s(row["target"]),
                "remaining": _s(row["remaining"]),
                "achieved": row["achieved"],
                "rank": row["rank"],
                "gated": row["gated"],
                "note": row["note"],
                "rule_version": row["rule_version"],
            }
    g, lg = s.grants, s.ledger
    grants = []
    entries = []
    if pid is not None:
        for row in conn.execute(
            select(g)
            .where(g.c.rule == rule_name, g.c.participant_id == pid, g.c.period == period)
            .order_by(g.c.step)
        ).mappings():
            grants.append(
                {
                    "key": row["key"],
                    "step": row["step"],
                    "points": row["points"],
                    "item": row["item"],
                    "badge": row["badge"],
                    "status": row["status"],
                    "reason": row["reason"],
                    "rule_version": row["rule_version"],
                }
            )
        keys = [gr["key"] for gr in grants]
        if keys:
            for row in conn.execute(
                select(lg).where(lg.c.grant_key.in_(keys)).order_by(lg.c.id)
            ).mappings():
                entries.append(
                    {
                        "entry": row["entry_key"],
                        "type": row["entry_type"],
                        "points": row["points"],
                        "note": row["note"],
                        "at": row["created_at"].isoformat(),
                    }
                )
    if prog_row is None:
        verdict = f"no evaluation of {rule_name} for {participant.name} in {period} (no data for the period, or not in the rule's segment)"
    elif prog_row["gated"]:
        verdict = f"did not fire: {prog_row['note']}"
    elif prog_row["achieved"]:
        active = [gr for gr in grants if gr["status"] == "active"]
        paid = sum(gr["points"] for gr in active)
        verdict = f"fired: {prog_row['note']} ({len(active)} active grant(s), {paid} points)"
    else:
        verdict = f"did not fire: {prog_row['note']}"
    return Explanation(
        participant,
        rule_name,
        cfg.type,
        rule.version,
        period,
        metrics,
        prog_row,
        grants,
        entries,
        verdict,
    )


def _explain_metric(
    conn: Connection, m: MetricConfig, pid: int | None, kind: PeriodKind, period: str
) -> dict[str, Any]:
    mv, f = s.metric_values, s.facts
    stored = None
    if pid is not None:
        stored = conn.execute(
            select(mv.c.value, mv.c.fact_count).where(
                mv.c.metric == m.name,
                mv.c.participant_id == pid,
                mv.c.period_kind == kind.value,
                mv.c.period == period,
            )
        ).first()
    out: dict[str, Any] = {
        "metric": m.name,
        "definition": _definition(m),
        "value": _s(stored.value) if stored is not None else _s(default_value(m)),
    }
    if m.ratio is None and pid is not None:
        cond = and_(
            fact_filter(m),
            f.c.participant_id == pid,
            f.c[kind.value] == period,
            f.c.deleted.is_(False),
        )
        out["fact_count"] = conn.execute(
            select(func.count()).select_from(f).where(cond)
        ).scalar_one()
        sample = conn.execute(
            select(
                f.c.source,
                f.c.stream,
                f.c.external_id,
                f.c.occurred_at,
                f.c.amount,
                f.c.stage,
                f.c.product,
            )
            .where(cond)
            .order_by(f.c.occurred_at, f.c.external_id)
            .limit(SAMPLE)
        ).mappings()
        out["sample"] = [
            {
                "source": r["source"],
                "stream": r["stream"],
                "id": r["external_id"],
                "occurred_at": r["occurred_at"].isoformat() if r["occurred_at"] else None,
                "amount": _s(r["amount"]),
                "stage": r["stage"],
                "product": r["product"],
            }
            for r in sample
        ]
    return out


def _definition(m: MetricConfig) -> str:
    if m.ratio is not None:
        return f"{m.ratio.numerator} / {m.ratio.denominator} (when {m.ratio.denominator} >= {m.ratio.min_denominator})"
    what = {
        "sum": f"sum of {m.field}",
        "avg": f"average of {m.field}",
        "count": "count",
        "count_distinct": f"distinct {m.field}",
    }[m.agg.value if m.agg else "count"]
    where = ", ".join(f"{k} = {v}" for k, v in m.where.items())
    return f"{what} of {m.kind} facts" + (f" where {where}" if where else "")


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
