"""Computing metrics in the database, only for the (participant, period) pairs that changed.

For each period kind, one ``GROUP BY`` over the dirty pairs joined to their facts computes
every aggregate metric at once (conditional aggregates, one column pair per metric). Ratios
are then derived exactly from their numerator and denominator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    and_,
    case,
    distinct,
    false,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite

from premia.program import Agg, FilterValue, MetricConfig, Program
from premia.store import schema as s
from premia.store.bulk import BulkInsert
from premia.store.types import from_scaled


def default_value(metric: MetricConfig) -> Decimal | None:
    """Return a metric's value for a participant with no matching facts in a period."""
    if metric.ratio is not None or metric.agg is Agg.AVG:
        return None
    return Decimal(0)


def fact_filter(metric: MetricConfig) -> ColumnElement[bool]:
    """Return the SQL condition selecting the facts a metric aggregates."""
    t = s.facts
    conds: list[ColumnElement[bool]] = [t.c.kind == metric.kind]
    for key, wanted in metric.where.items():
        conds.append(_condition(_column(key), wanted))
    return and_(*conds)


def _column(key: str) -> ColumnElement[Any]:
    t = s.facts
    if key.startswith("attributes."):
        attribute: ColumnElement[Any] = t.c.attributes[key.split(".", 1)[1]].as_string()
        return attribute
    return t.c[key]


def _condition(col: ColumnElement[Any], wanted: FilterValue) -> ColumnElement[bool]:
    if wanted is None:
        return col.is_(None)
    if isinstance(wanted, list):
        return col.in_(wanted) if wanted else false()
    return col == wanted


def _metric_upsert(dialect: str) -> Any:
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(s.metric_values)
    return ins.on_conflict_do_update(
        index_elements=["metric", "participant_id", "period_kind", "period"],
        set_={c: ins.excluded[c] for c in ("value", "fact_count", "computed_at")},
    )


METRIC_UPSERT = BulkInsert(
    _metric_upsert,
    s.metric_values,
    ("metric", "participant_id", "period_kind", "period", "value", "fact_count", "computed_at"),
)


def compute_dirty_metrics(conn: Connection, program: Program, now: datetime) -> int:
    """Recompute every metric for the dirty pairs; return how many values were written."""
    written = 0
    aggregates = [m for m in program.config.metrics if m.ratio is None]
    ratios = [m for m in program.config.metrics if m.ratio is not None]
    for kind in program.period_kinds():
        values = _aggregate(conn, kind.value, aggregates)
        rows: list[dict[str, Any]] = []
        for (pid, period), per_metric in values.items():
            for r in ratios:
                assert r.ratio is not None
                num = per_metric.get(r.ratio.numerator, (None, 0))[0]
                den = per_metric.get(r.ratio.denominator, (None, 0))[0]
                value = None
                if num is not None and den is not None and den >= r.ratio.min_denominator and den:
                    value = num / den
                per_metric[r.name] = (value, 0)
            for name, (value, count) in per_metric.items():
                rows.append(
                    {
                        "metric": name,
                        "participant_id": pid,
                        "period_kind": kind.value,
                        "period": period,
                        "value": value,
                        "fact_count": count,
                        "computed_at": now,
                    }
                )
        METRIC_UPSERT.execute(conn, rows)
        written += len(rows)
    return written


def _aggregate(
    conn: Connection, kind: str, metrics: Sequence[MetricConfig]
) -> dict[tuple[int, str], dict[str, tuple[Decimal | None, int]]]:
    f, d = s.facts, s.dirty
    columns: list[ColumnElement[Any]] = []
    for m in metrics:
        cond = fact_filter(m)
        columns.append(func.count(case((cond, literal(1)))).label(f"{m.name}__n"))
        if m.agg in (Agg.SUM, Agg.AVG):
            raw = type_coerce(f.c[m.field or "amount"], BigInteger)
            columns.append(func.sum(case((cond, raw))).label(f"{m.name}__v"))
        elif m.agg is Agg.COUNT_DISTINCT:
            columns.append(
                func.count(distinct(case((cond, _column(m.field or "external_id"))))).label(
                    f"{m.name}__v"
                )
            )
    period_col = f.c[kind]
    join = and_(
        f.c.participant_id == d.c.participant_id,
        period_col == d.c.period,
        f.c.deleted == false(),
    )
    query = (
        select(d.c.participant_id, d.c.period, *columns)
        .select_from(d.outerjoin(f, join))
        .where(d.c.period_kind == kind)
        .group_by(d.c.participant_id, d.c.period)
    )
    out: dict[tuple[int, str], dict[str, tuple[Decimal | None, int]]] = {}
    for row in conn.execute(query).mappings():
        per: dict[str, tuple[Decimal | None, int]] = {}
        for m in metrics:
            n = int(row[f"{m.name}__n"] or 0)
            value: Decimal | None
            if m.agg is Agg.COUNT:
                value = Decimal(n)
            elif m.agg is Agg.SUM:
                raw_sum = row[f"{m.name}__v"]
                value = from_scaled(int(raw_sum)) if raw_sum is not None else Decimal(0)
            elif m.agg is Agg.AVG:
                raw_sum = row[f"{m.name}__v"]
                value = from_scaled(int(raw_sum)) / n if n and raw_sum is not None else None
            else:
                value = Decimal(int(row[f"{m.name}__v"] or 0))
            per[m.name] = (value, n)
        out[(row["participant_id"], row["period"])] = per
    return out


__all__ = ["compute_dirty_metrics", "default_value", "fact_filter"]
