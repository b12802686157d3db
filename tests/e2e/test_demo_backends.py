"""The demo sync gives the same, independently checked numbers on SQLite and PostgreSQL.

A reference sync on SQLite (once per session) is compared row for row (ids and timestamps
aside) with the sync on each backend of the ``db_url`` fixture; a handful of the numbers
computed from the CSV files are checked on each backend too.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from premia.store.db import connect


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, e2e: Any) -> Iterator[dict[str, Any]]:
    """Ledger and grants of the demo synced on a SQLite file (library calls, no redemption)."""
    base = tmp_path_factory.mktemp("reference")
    program = e2e.copy_demo(base / "demo")
    url = f"sqlite:///{base / 'reference.db'}"
    e2e.sync_program(program, url)
    engine = connect(url)
    try:
        store = e2e.Store(engine)
        yield {
            "ledger": e2e.ledger_signature(store),
            "grants": e2e.grant_signature(store),
            "metrics": store.metric_values(),
        }
    finally:
        engine.dispose()


def test_demo_sync_on_each_backend(
    db_url: str,
    demo_dir: Path,
    e2e: Any,
    open_store: Any,
    expected: Any,
    reference: dict[str, Any],
) -> None:
    program = demo_dir / "program.yaml"
    report = e2e.sync_program(program, db_url)
    assert report.facts_read == report.facts_changed == 8800
    store = open_store(db_url)

    # independent numbers
    counts = store.fact_counts()
    assert (counts["all"], counts["undated"]) == (8800, 2089)
    assert (counts["GTX Pro"], counts["GTXPro"]) == (1480, 0)
    values = store.metric_values()
    for agent, quarter in [
        ("Darcel Schlecht", "2017-Q3"),
        ("Rosie Papadopoulos", "2017-Q2"),
        ("Hayden Neloms", "2017-Q1"),
        ("Anna Snelling", "2017-Q1"),
        ("Cassey Cress", "2017-Q3"),
    ]:
        cell = expected.cell(agent, quarter)
        for metric in ("won_revenue", "won_deals", "closed_deals", "win_rate", "gtx_pro_won"):
            got = values[(metric, agent, quarter)][0]
            assert got == cell.metric(metric), (agent, quarter, metric)
            assert (got is None) == (cell.metric(metric) is None)
    # a repeating ratio, exact to the last digit of Decimal's default precision
    assert values[("win_rate", "Anna Snelling", "2017-Q1")][0] == Decimal(25) / Decimal(35)
    top = {
        (period, expected.region[agent]): agent
        for period, agent, _p, _b in store.active_top_closers()
    }
    assert top == {
        (q, r): expected.top_closer(q, r) for q in expected.quarters for r in e2e.REGIONS
    }
    assert store.balances() == {a: expected.total(a) for a in expected.agents}
    assert store.points_by_rule() == expected.rule_points
    assert store.active_badges() == expected.badges

    # identical to the SQLite reference
    assert e2e.ledger_signature(store) == reference["ledger"]
    assert e2e.grant_signature(store) == reference["grants"]
    assert values == reference["metrics"]

    # and idempotent there too
    ledger = store.ledger()
    again = e2e.sync_program(program, db_url)
    assert again.facts_changed == 0
    assert (again.grants, again.reversals, again.adjustments) == (0, 0, 0)
    assert store.ledger() == ledger
