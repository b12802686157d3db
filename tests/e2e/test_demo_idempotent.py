"""Running the demo again in the same folder reads nothing new and changes nothing.

Twice through the library, then a third time through the installed ``premia`` command in a
child process: the ledger, grants and orders stay exactly as the first run left them.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from premia.demo import run_demo
from premia.store.db import default_url

PREMIA = Path(sys.executable).parent / "premia"


def _child_env() -> dict[str, str]:
    """The test's environment without PREMIA_* settings, and a wide terminal."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREMIA_") or k == "PREMIA_TEST_POSTGRES_URL"
    }
    env["COLUMNS"] = "160"
    return env


def _snapshot(store: Any) -> dict[str, Any]:
    return {
        "ledger": store.ledger(),
        "grants": store.grants(),
        "orders": store.orders(),
        "balances": store.balances(),
        "facts": store.fact_counts(),
        "metrics": store.metric_values(),
    }


@pytest.mark.slow
def test_demo_twice_then_the_cli_changes_nothing(
    tmp_path: Path,
    e2e: Any,
    open_store: Any,
    expected: Any,
    demo_redemption: tuple[str, str, int],
) -> None:
    target = tmp_path / "demo"
    first = run_demo(target, Console(file=io.StringIO(), width=160))
    store = open_store(default_url(target))
    before = _snapshot(store)
    assert first.first.facts_changed == 8800
    assert first.redemption_created is True
    assert len(before["orders"]) == 1

    second_out = io.StringIO()
    second = run_demo(target, Console(file=second_out, width=160))
    after = _snapshot(store)

    report = second.first
    assert report.complete
    assert report.facts_changed == 0
    assert report.grants == 0
    assert report.reversals == 0
    assert report.adjustments == 0
    assert report.orders_submitted == 0
    assert second.redemption_created is False
    assert second.redemption_key == first.redemption_key
    assert "already redeemed" in second_out.getvalue()

    # every row identical, ids and timestamps included: nothing was appended or rewritten
    assert after["ledger"] == before["ledger"]
    assert after["grants"] == before["grants"]
    assert after["orders"] == before["orders"]
    assert after["balances"] == before["balances"]
    assert after["facts"] == before["facts"]
    assert after["metrics"] == before["metrics"]

    # the sums still are the independently computed ones
    agent, _sku, price = demo_redemption
    assert after["balances"] == {
        a: expected.total(a) - (price if a == agent else 0) for a in expected.agents
    }
    assert len(after["ledger"]) == len({r["entry_key"] for r in after["ledger"]})

    # a third run, through the installed console script
    assert PREMIA.is_file(), f"no premia script next to {sys.executable}"
    proc = subprocess.run(
        [str(PREMIA), "demo", "--dir", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_child_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    quarter = expected.quarters[-1]
    for region in e2e.REGIONS:
        assert region in out
        assert f"{region} - won revenue, {quarter}" in out
        assert expected.top_closer(quarter, region) in out
    assert "Progress of" in out  # the featured agent's progress table
    assert "gtx_pro_tiers" in out
    assert "Orders" in out
    assert "GC-25" in out
    assert "Traceback" not in out + proc.stderr

    third = _snapshot(store)
    assert third["ledger"] == before["ledger"]
    assert third["grants"] == before["grants"]
    assert third["orders"] == before["orders"]
