"""The demo's numbers, checked against values computed independently from its CSV files.

The demo runs once for the module (``premia.demo.run_demo``: copy, sync on SQLite, one
redemption); every test reads what it stored. Expected values come from the ``expected``
fixture (stdlib csv + Decimal only).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from premia.demo import run_demo
from premia.store.db import connect, default_url

METRICS = ("won_revenue", "won_deals", "closed_deals", "win_rate", "gtx_pro_won")
COUNTS = ("won_deals", "closed_deals", "gtx_pro_won")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, e2e: Any) -> Iterator[dict[str, Any]]:
    """Run the demo once in a fresh folder; yield its result, printed output and store."""
    target = tmp_path_factory.mktemp("demo-numbers")
    out = io.StringIO()
    result = run_demo(target, Console(file=out, width=160))
    engine = connect(default_url(target))
    try:
        yield {
            "dir": target,
            "result": result,
            "output": out.getvalue(),
            "store": e2e.Store(engine),
        }
    finally:
        engine.dispose()


def test_sync_report_counts_every_fact(demo: dict[str, Any], expected: Any) -> None:
    report = demo["result"].first
    assert report.complete
    assert report.errors == []
    assert report.facts_read == expected.facts == 8800
    assert report.facts_changed == 8800
    assert report.bad_records == 0
    assert not report.unmatched_owners


def test_fact_counts(demo: dict[str, Any], expected: Any) -> None:
    counts = demo["store"].fact_counts()
    assert counts["all"] == expected.facts == 8800
    assert counts["undated"] == expected.undated == 2089
    # the alias: both spellings of the product are stored as "GTX Pro"
    assert counts["GTXPro"] == 0
    pipeline_spellings = expected.gtx_spellings
    assert set(pipeline_spellings) == {"GTXPro"}  # the raw file only has the alias spelling
    assert counts["GTX Pro"] == 1480


def test_quarters(demo: dict[str, Any], expected: Any) -> None:
    values = demo["store"].metric_values()
    assert sorted({q for (_m, _a, q) in values}) == expected.quarters
    assert expected.quarters == ["2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4"]
    assert demo["result"].quarter == expected.quarters[-1]


def test_metric_values_of_every_agent_and_quarter(demo: dict[str, Any], expected: Any) -> None:
    """won_revenue, won_deals, closed_deals, win_rate, gtx_pro_won: exact, all 35 x 4."""
    values = demo["store"].metric_values()
    defaults = {"win_rate": None}
    problems = []
    checked = 0
    for agent in expected.agents:
        for quarter in expected.quarters:
            cell = expected.cell(agent, quarter)
            for metric in METRICS:
                stored = values.get((metric, agent, quarter))
                want = cell.metric(metric)
                if stored is None:
                    # no row: only allowed when the agent has no fact in the quarter, and the
                    # metric's default then must be what we expect
                    if cell.facts:
                        problems.append(f"{agent} {quarter} {metric}: no stored value")
                    elif want != defaults.get(metric, Decimal(0)):
                        problems.append(f"{agent} {quarter} {metric}: missing, expected {want}")
                    continue
                value, fact_count = stored
                checked += 1
                if value != want or (value is None) != (want is None):
                    problems.append(
                        f"{agent} {quarter} {metric}: stored {value!r}, expected {want!r}"
                    )
                if metric in COUNTS and fact_count != int(want or 0):
                    problems.append(
                        f"{agent} {quarter} {metric}: fact_count {fact_count}, expected {want}"
                    )
    assert problems == []
    assert checked >= 5 * 4 * len(METRICS)


@pytest.mark.parametrize(
    ("agent", "quarter"),
    [
        ("Darcel Schlecht", "2017-Q2"),
        ("Rosie Papadopoulos", "2017-Q2"),  # win rate exactly 0.65
        ("Hayden Neloms", "2017-Q1"),  # 11 closed: just measurable
        ("Cassey Cress", "2017-Q3"),  # exactly 10 GTX Pro wins
        ("Boris Faz", "2017-Q4"),
        ("Carl Lin", "2017-Q4"),  # on the roster, no deal at all
    ],
)
def test_selected_metric_values(
    demo: dict[str, Any], expected: Any, agent: str, quarter: str
) -> None:
    """A few agents spelled out, with the premise of each case checked too."""
    values = demo["store"].metric_values()
    cell = expected.cell(agent, quarter)
    for metric in METRICS:
        got = values.get((metric, agent, quarter), (None if metric == "win_rate" else 0, 0))[0]
        want = cell.metric(metric)
        assert got == want, f"{agent} {quarter} {metric}: {got!r} != {want!r}"
        assert (got is None) == (want is None)
    if agent == "Rosie Papadopoulos":
        assert (cell.won_deals, cell.closed_deals) == (26, 40)
        assert cell.win_rate == Decimal("0.65")
    if agent == "Hayden Neloms":
        assert cell.closed_deals == 11
    if agent == "Cassey Cress":
        assert cell.gtx_pro_won == 10


def test_win_rate_undefined_below_ten_closed(demo: dict[str, Any], expected: Any) -> None:
    values = demo["store"].metric_values()
    few = [
        (a, q) for (a, q), cell in expected.cells.items() if cell.facts and cell.closed_deals < 10
    ]
    for agent, quarter in few:
        assert values[("win_rate", agent, quarter)][0] is None, (agent, quarter)
    measured = [(a, q) for (a, q), c in expected.cells.items() if c.closed_deals >= 10]
    assert measured
    for agent, quarter in measured:
        assert values[("win_rate", agent, quarter)][0] is not None, (agent, quarter)


def test_top_closer_of_every_region_and_quarter(demo: dict[str, Any], expected: Any) -> None:
    store = demo["store"]
    got = {}
    for period, agent, points, badge in store.active_top_closers():
        region = expected.region[agent]
        assert (period, region) not in got, f"two active top closers in {region} {period}"
        got[(period, region)] = agent
        assert points == 1000
        assert badge == "Top Closer"
    want = {
        (q, r): expected.top_closer(q, r)
        for q in expected.quarters
        for r in ("Central", "East", "West")
    }
    assert got == want
    assert len(got) == 12


def test_points_per_agent_quarter_and_rule(demo: dict[str, Any], expected: Any) -> None:
    """Every rule's ledger points per agent and quarter equal the independent computation."""
    assert demo["store"].points_by_rule() == expected.rule_points


def test_total_points_of_every_agent(
    demo: dict[str, Any], expected: Any, demo_redemption: tuple[str, str, int]
) -> None:
    store = demo["store"]
    earned = store.balances(without=("redemption",))
    balances = store.balances()
    agent, _sku, price = demo_redemption
    assert set(earned) == set(expected.agents)
    assert earned == {a: expected.total(a) for a in expected.agents}
    assert balances == {
        a: expected.total(a) - (price if a == agent else 0) for a in expected.agents
    }
    # a few spelled out, as a reader would check them by hand
    assert expected.total("Darcel Schlecht") == 9990
    assert expected.total("Boris Faz") == 2410
    assert expected.total("Carl Lin") == 0


def test_badge_holders(demo: dict[str, Any], expected: Any) -> None:
    store = demo["store"]
    assert store.active_badges() == expected.badges
    champions = {(a, q) for a, q, b in expected.badges if b == "GTX Pro Champion"}
    assert champions == {(a, q) for (a, q), c in expected.cells.items() if c.gtx_pro_won >= 10}
    # whole mode: a champion gets 500 for the rule in that quarter, not 200 + 500
    for agent, quarter in champions:
        assert expected.rule_points[(agent, quarter, "gtx_pro_tiers")] == 500
    assert store.points_by_rule()[("Cassey Cress", "2017-Q3", "gtx_pro_tiers")] == 500


def test_demo_redemption(
    demo: dict[str, Any], expected: Any, demo_redemption: tuple[str, str, int]
) -> None:
    agent, sku, price = demo_redemption
    assert (agent, sku, price) == ("Darcel Schlecht", "GC-25", 2500)
    result = demo["result"]
    assert result.redemption_created is True
    orders = demo["store"].orders()
    assert len(orders) == 1
    order = orders[0]
    assert order["key"] == result.redemption_key
    assert order["key"].endswith(f"demo-{agent}-{sku}")
    assert (order["participant"], order["sku"], order["points"]) == (agent, sku, price)
    assert order["origin"] == "redemption"
    assert order["status"] == "fulfilled"
    redemptions = [r for r in demo["store"].ledger() if r["entry_type"] == "redemption"]
    assert [(r["participant"], r["points"]) for r in redemptions] == [(agent, -price)]


def test_featured_agent_is_closest_to_the_next_gtx_tier(
    demo: dict[str, Any], expected: Any
) -> None:
    quarter = expected.quarters[-1]

    def remaining(agent: str) -> int:
        gtx = expected.cell(agent, quarter).gtx_pro_won
        return next((at - gtx for at in (5, 10) if gtx < at), 0)

    waiting = [(remaining(a), a) for a in expected.agents if remaining(a) > 0]
    assert demo["result"].featured == min(waiting)[1]


def test_printed_output(demo: dict[str, Any], expected: Any) -> None:
    text = demo["output"]
    quarter = expected.quarters[-1]
    for region in ("Central", "East", "West"):
        assert f"{region} - won revenue, {quarter}" in text
        assert expected.top_closer(quarter, region) in text
    assert "Orders" in text
    assert "redeemed" in text


def test_store_is_beside_the_program(demo: dict[str, Any]) -> None:
    target: Path = demo["dir"]
    assert (target / "premia.db").is_file()
    assert (target / "program.yaml").is_file()
