"""A fact change that undoes an achievement is clawed back (``clawback: reverse``), and undone.

Each case syncs a copy of the demo, edits one deal in data/sales_pipeline.csv, syncs again,
then restores the deal and syncs a third time. The ledger entries each sync appends are
compared with what the edit changes in the points computed independently from the CSV:

- a lost ``won_deal_points`` step: a ``reversal`` of -10 on that step's grant;
- a threshold or rank reward no longer earned: a ``reversal`` of its points;
- a whole-mode tier that drops to a lower tier: an ``adjustment`` of the difference (the
  higher tier's badge grant is reversed, it carries no points);
- something earned again (or newly earned): a ``grant`` entry.

Nothing is deleted: every grant row and ledger row of the first sync is still there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

STEP_POINTS = 10


@dataclass(frozen=True)
class Case:
    """One edit: whose deal, in which quarter, and how it is picked and changed."""

    id: str
    agent: str
    quarter: str
    stage: str  # the stage of the deal picked
    gtx: bool  # pick a GTX Pro deal (True) or another product's (False)
    premise: str  # what the edit does (checked by _check_premise)


CASES = [
    Case(
        "gtx-tier-drop",
        "Cassey Cress",
        "2017-Q3",
        "Won",
        True,
        "10 GTX Pro wins -> 9: from tier 2 (500 + badge) to tier 1 (200)",
    ),
    Case(
        "win-rate-at-boundary",
        "Rosie Papadopoulos",
        "2017-Q2",
        "Won",
        False,
        "26/40 = 0.65 exactly -> 25/40: the win-rate bonus is lost",
    ),
    Case(
        "moved-to-another-agent-and-quarter",
        "Cassey Cress",
        "2017-Q3",
        "Won",
        True,
        "a GTX Pro win moves to Boris Faz on 2017-10-01: Cassey 10 -> 9, Boris 9 -> 10 in Q4",
    ),
    Case(
        "top-closer-overtaken",
        "Kary Hendrixson",
        "2017-Q4",
        "Lost",
        False,
        "Kary wins a lost deal worth the gap + 1: Vicki Laflamme loses top closer in West",
    ),
]


def _pick(rows: list[dict[str, str]], case: Case, e2e: Any) -> int:
    """Index of the deal the case edits: the first matching one by opportunity id."""
    matches = sorted(
        (r["opportunity_id"], i)
        for i, r in enumerate(rows)
        if r["sales_agent"] == case.agent
        and e2e.quarter_of(r["close_date"]) == case.quarter
        and r["deal_stage"] == case.stage
        and (r["product"] in ("GTX Pro", "GTXPro")) == case.gtx
    )
    assert matches, f"no deal for {case}"
    return matches[0][1]


def _edited(rows: list[dict[str, str]], index: int, case: Case, expected: Any) -> list[dict]:
    out = [dict(r) for r in rows]
    if case.id == "moved-to-another-agent-and-quarter":
        out[index].update(sales_agent="Boris Faz", close_date="2017-10-01")
    elif case.stage == "Won":  # lost after all
        out[index].update(deal_stage="Lost", close_value="0")
    else:  # a lost deal won, worth one more than the gap to the region's top closer
        quarter, region = case.quarter, expected.region[case.agent]
        leader = expected.top_closer(quarter, region)
        gap = (
            expected.cell(leader, quarter).won_revenue
            - expected.cell(case.agent, quarter).won_revenue
        )
        out[index].update(deal_stage="Won", close_value=str(gap + 1))
    return out


def _effects(before: Any, after: Any) -> list[tuple[str, str, str, str | None, str, int]]:
    """The ledger entries a change from ``before`` to ``after`` must append.

    (agent, quarter, rule, step of won_deal_points or None, entry type, points), sorted.
    """
    out = []
    for key in set(before.rule_points) | set(after.rule_points):
        agent, quarter, rule = key
        old, new = before.rule_points.get(key, 0), after.rule_points.get(key, 0)
        if old == new:
            continue
        if rule == "won_deal_points":
            lo, hi = sorted((old // STEP_POINTS, new // STEP_POINTS))
            for step in range(lo + 1, hi + 1):
                kind, points = ("reversal", -STEP_POINTS) if new < old else ("grant", STEP_POINTS)
                out.append((agent, quarter, rule, f"step-{step}", kind, points))
        elif rule == "gtx_pro_tiers" and old and new:
            out.append((agent, quarter, rule, None, "adjustment", new - old))
        elif old:
            out.append((agent, quarter, rule, None, "reversal", -old))
        else:
            out.append((agent, quarter, rule, None, "grant", new))
    return sorted(out)


def _appended(store: Any, known: set[str]) -> list[tuple[str, str, str, str | None, str, int]]:
    """The ledger entries not in ``known``, in the shape of :func:`_effects`."""
    grants = {g["key"]: g for g in store.grants()}
    out = []
    for row in store.ledger():
        if row["entry_key"] in known:
            continue
        g = grants[row["grant_key"]]
        assert g["participant"] == row["participant"]
        step = g["step"] if g["rule"] == "won_deal_points" else None
        out.append(
            (g["participant"], g["period"], g["rule"], step, row["entry_type"], int(row["points"]))
        )
    return sorted(out)


def _active_points(store: Any) -> dict[tuple[str, str, str], int]:
    """Points of the active grants per (agent, quarter, rule), zero sums left out."""
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    for g in store.grants():
        if g["status"] == "active":
            out[(g["participant"], g["period"], g["rule"])] += int(g["points"])
    return {k: v for k, v in out.items() if v}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reversal_and_restore(
    case: Case,
    demo_dir: Path,
    sqlite_url: str,
    e2e: Any,
    open_store: Any,
    expected: Any,
    compute: Any,
) -> None:
    program = demo_dir / "program.yaml"
    pipeline = demo_dir / e2e.PIPELINE
    original_text = pipeline.read_bytes()
    rows = e2e.read_csv(pipeline)

    e2e.sync_program(program, sqlite_url)
    store = open_store(sqlite_url)
    grants0 = store.grants()
    ledger0 = store.ledger()
    balances0 = store.balances()
    assert balances0 == {a: expected.total(a) for a in expected.agents}
    active0 = {g["key"] for g in grants0 if g["status"] == "active"}
    assert len(active0) == len(grants0)

    # ---- the edit
    index = _pick(rows, case, e2e)
    edited_rows = _edited(rows, index, case, expected)
    after = compute(edited_rows)
    effects = _effects(expected, after)
    _check_premise(case, expected, after)
    e2e.write_pipeline(pipeline, edited_rows)

    report = e2e.sync_program(program, sqlite_url)
    assert report.facts_changed == 1

    appended = _appended(store, {r["entry_key"] for r in ledger0})
    assert appended == effects
    reversals = [e for e in appended if e[4] == "reversal"]
    assert reversals, "the case must undo an achievement"
    assert all(e[5] < 0 for e in reversals)

    # the original ledger rows are untouched (append-only)
    ledger1 = store.ledger()
    assert ledger1[: len(ledger0)] == ledger0

    # grants: nothing deleted; what is no longer earned is 'reversed'
    grants1 = {g["key"]: g for g in store.grants()}
    assert len(grants1) >= len(grants0)
    assert set(grants1) >= {g["key"] for g in grants0}
    lost = {k for k in active0 if grants1[k]["status"] != "active"}
    assert lost, "some grant must be undone"
    assert {grants1[k]["status"] for k in lost} == {"reversed"}
    assert _active_points(store) == after.rule_points
    assert store.active_badges() == after.badges
    assert report.reversals == len(lost)

    # balances moved by exactly the computed delta, for every agent
    balances1 = store.balances()
    delta = {a: after.total(a) - expected.total(a) for a in expected.agents}
    assert {a: balances1[a] - balances0[a] for a in expected.agents} == delta
    assert any(delta.values())
    for agent, _q, _r, _s, _t, points in effects:
        assert points != 0, agent

    # every metric value is the recomputed one (old and new owner, old and new quarter)
    assert _metric_problems(store, after) == []

    # ---- restore the deal
    pipeline.write_bytes(original_text)
    report = e2e.sync_program(program, sqlite_url)
    assert report.facts_changed == 1

    appended2 = _appended(store, {r["entry_key"] for r in ledger1})
    assert appended2 == _effects(after, expected)
    assert store.ledger()[: len(ledger1)] == ledger1

    grants2 = {g["key"]: g for g in store.grants()}
    assert set(grants2) == set(grants1)
    assert {k for k, g in grants2.items() if g["status"] == "active"} == active0
    assert {grants2[k]["status"] for k in lost} == {"active"}
    assert _active_points(store) == expected.rule_points
    assert store.active_badges() == expected.badges
    assert store.balances() == balances0
    assert _metric_problems(store, expected) == []


def _metric_problems(store: Any, want: Any) -> list[str]:
    values = store.metric_values()
    problems = []
    for agent in want.agents:
        for quarter in want.quarters:
            cell = want.cell(agent, quarter)
            for metric in ("won_revenue", "won_deals", "closed_deals", "win_rate", "gtx_pro_won"):
                got = values.get((metric, agent, quarter))
                if got is None:
                    if cell.facts:
                        problems.append(f"{agent} {quarter} {metric}: missing")
                    continue
                value, wanted = got[0], cell.metric(metric)
                if value != wanted or (value is None) != (wanted is None):
                    problems.append(f"{agent} {quarter} {metric}: {value!r} != {wanted!r}")
    return problems


def _check_premise(case: Case, before: Any, after: Any) -> None:
    """The edit does what the case says it does (on the independent numbers)."""
    b, a = before.cell(case.agent, case.quarter), after.cell(case.agent, case.quarter)
    q = case.quarter
    if case.id == "gtx-tier-drop":
        assert (b.gtx_pro_won, a.gtx_pro_won) == (10, 9)
        assert before.rule_points[(case.agent, q, "gtx_pro_tiers")] == 500
        assert after.rule_points[(case.agent, q, "gtx_pro_tiers")] == 200
        assert (case.agent, q, "GTX Pro Champion") not in after.badges
    elif case.id == "win-rate-at-boundary":
        assert (b.won_deals, b.closed_deals, a.won_deals, a.closed_deals) == (26, 40, 25, 40)
        assert (case.agent, q, "win_rate_bonus") in before.rule_points
        assert (case.agent, q, "win_rate_bonus") not in after.rule_points
        # the same gtx tier before and after: only the bonus and one step change
        assert before.rule_points.get((case.agent, q, "gtx_pro_tiers")) == after.rule_points.get(
            (case.agent, q, "gtx_pro_tiers")
        )
    elif case.id == "moved-to-another-agent-and-quarter":
        assert (b.gtx_pro_won, a.gtx_pro_won) == (10, 9)
        boris_b, boris_a = before.cell("Boris Faz", "2017-Q4"), after.cell("Boris Faz", "2017-Q4")
        assert (boris_b.gtx_pro_won, boris_a.gtx_pro_won) == (9, 10)
        assert ("Boris Faz", "2017-Q4", "GTX Pro Champion") in after.badges
    else:
        region = before.region[case.agent]
        assert before.top_closer(q, region) == "Vicki Laflamme"
        assert after.top_closer(q, region) == case.agent
