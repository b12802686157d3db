"""The read commands and ``redeem`` of the ``premia`` CLI on a synced copy of the demo.

The copy is synced once for the module with ``premia sync`` (store chosen by
``PREMIA_DATABASE_URL``); the commands run through click's CliRunner and their JSON output
is compared with the numbers computed independently from the demo's CSV files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from premia.cli import cli
from premia.plugins import Registry
from premia.store.db import connect


class Cli:
    """Runs ``premia`` commands on the module's demo copy and store."""

    def __init__(self, program: Path, url: str, env: dict[str, str | None]):
        self.program = program
        self.url = url
        self.env = env
        self.registry = Registry()
        self.runner = CliRunner()

    def run(self, *args: str, program: bool = True) -> Result:
        argv = list(args) + (["-p", str(self.program)] if program else [])
        return self.runner.invoke(
            cli, argv, obj={"registry": self.registry}, env=self.env, catch_exceptions=True
        )

    def json(self, *args: str, program: bool = True) -> Any:
        result = self.run(*args, "--json", program=program)
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def premia(tmp_path_factory: pytest.TempPathFactory, e2e: Any, premia_env: Any) -> Cli:
    """A demo copy synced by ``premia sync`` into a store named by PREMIA_DATABASE_URL."""
    base = tmp_path_factory.mktemp("cli")
    program = e2e.copy_demo(base / "demo")
    url = f"sqlite:///{base / 'store' / 'premia.db'}"
    runner = Cli(program, url, premia_env(PREMIA_DATABASE_URL=url))
    report = runner.json("sync")
    assert report["complete"] is True
    assert report["facts_read"] == 8800
    return runner


@pytest.fixture
def store(premia: Cli, e2e: Any) -> Iterator[Any]:
    engine = connect(premia.url)
    try:
        yield e2e.Store(engine)
    finally:
        engine.dispose()


def test_store_follows_the_environment(premia: Cli) -> None:
    assert Path(premia.url.removeprefix("sqlite:///")).is_file()
    assert not (premia.program.parent / "premia.db").exists()


@pytest.mark.parametrize("agent", ["Boris Faz", "Darcel Schlecht", "Carl Lin"])
def test_progress(premia: Cli, expected: Any, agent: str) -> None:
    data = premia.json("progress", agent)
    assert data["participant"]["key"] == agent
    assert data["participant"]["region"] == expected.region[agent]
    assert data["earned"] == expected.total(agent)
    assert data["balance"] == expected.total(agent)  # no redemption by these three
    assert sorted(data["badges"]) == sorted({b for a, _q, b in expected.badges if a == agent})
    rows = {(r["rule"], r["period"]): r for r in data["progress"]}
    if agent == "Carl Lin":  # on the roster, never closed a deal
        assert all(r["points"] == 0 for r in rows.values())
        assert data["earned"] == 0
    for quarter in expected.quarters:
        cell = expected.cell(agent, quarter)
        want = {
            "won_deal_points": Decimal(cell.won_deals),
            "gtx_pro_tiers": Decimal(cell.gtx_pro_won),
            "top_closer": cell.won_revenue,
            "win_rate_bonus": cell.win_rate,
        }
        for rule, value in want.items():
            row = rows[(rule, quarter)]
            got = None if row["value"] is None else Decimal(row["value"])
            assert got == value, (rule, quarter)
            assert row["points"] == expected.rule_points.get((agent, quarter, rule), 0)
        ranked = expected.ranking[(quarter, expected.region[agent])]
        assert rows[("top_closer", quarter)]["rank"] == (
            ranked.index(agent) + 1 if agent in ranked else None
        )


def test_progress_of_one_period(premia: Cli, expected: Any) -> None:
    data = premia.json("progress", "Cassey Cress", "--period", "2017-Q3")
    assert {r["period"] for r in data["progress"]} == {"2017-Q3"}
    tiers = next(r for r in data["progress"] if r["rule"] == "gtx_pro_tiers")
    assert Decimal(tiers["value"]) == expected.cell("Cassey Cress", "2017-Q3").gtx_pro_won == 10
    assert tiers["achieved"] is True
    assert tiers["points"] == 500


def test_leaderboard_defaults_to_the_rank_rule(premia: Cli, expected: Any) -> None:
    data = premia.json("leaderboard")
    quarter = expected.quarters[-1]
    assert (data["metric"], data["period"], data["by"]) == ("won_revenue", quarter, "region")
    groups = {g["group"]: g["entries"] for g in data["groups"]}
    assert list(groups) == ["Central", "East", "West"]
    for region, entries in groups.items():
        members = sorted(a for a, r in expected.region.items() if r == region)
        assert sorted(e["key"] for e in entries) == members
        assert entries[0]["key"] == expected.top_closer(quarter, region)
        assert [e["rank"] for e in entries] == list(range(1, len(entries) + 1))
        ranked = expected.ranking[(quarter, region)]
        assert [e["key"] for e in entries[: len(ranked)]] == ranked
        for e in entries:
            assert Decimal(e["value"]) == expected.cell(e["key"], quarter).won_revenue
            assert e["points"] == expected.period_points(e["key"], quarter), e["key"]


def test_leaderboard_of_an_earlier_period(premia: Cli, expected: Any) -> None:
    data = premia.json("leaderboard", "--period", "2017-Q1", "--limit", "2")
    for group in data["groups"]:
        assert len(group["entries"]) == 2
        assert group["entries"][0]["key"] == expected.top_closer("2017-Q1", group["group"])
        assert group["entries"][1]["key"] == expected.ranking[("2017-Q1", group["group"])][1]


@pytest.mark.parametrize(("agent", "quarter"), [("Cassey Cress", "2017-Q3"), (None, "2017-Q4")])
def test_explain_gtx_pro_tiers(premia: Cli, expected: Any, agent: str | None, quarter: str) -> None:
    if agent is None:  # the agent with the most GTX Pro wins in the quarter (ties: key)
        agent = min(expected.agents, key=lambda a: (-expected.cell(a, quarter).gtx_pro_won, a))
    gtx = expected.cell(agent, quarter).gtx_pro_won
    data = premia.json("explain", agent, "--rule", "gtx_pro_tiers", "--period", quarter)
    assert (data["rule"], data["type"], data["period"]) == ("gtx_pro_tiers", "tiered", quarter)
    assert data["participant"]["key"] == agent
    metric = next(m for m in data["metrics"] if m["metric"] == "gtx_pro_won")
    assert Decimal(metric["value"]) == gtx
    assert metric["fact_count"] == gtx
    assert metric["sample"], "explain shows facts"
    for fact in metric["sample"]:
        assert fact["product"] == "GTX Pro"  # the alias, never GTXPro
        assert fact["stage"] == "Won"
    assert Decimal(data["progress"]["value"]) == gtx
    assert data["progress"]["achieved"] is (gtx >= 5)
    active = [g for g in data["grants"] if g["status"] == "active"]
    assert sum(g["points"] for g in active) == expected.tier_points(gtx)
    assert sum(e["points"] for e in data["ledger"]) == expected.tier_points(gtx)
    badges = {g["badge"] for g in active if g["badge"]}
    assert badges == ({"GTX Pro Champion"} if gtx >= 10 else set())
    assert data["verdict"].startswith("fired" if gtx >= 5 else "did not fire")


def test_explain_win_rate_shows_its_parts(premia: Cli, expected: Any) -> None:
    agent, quarter = "Rosie Papadopoulos", "2017-Q2"
    cell = expected.cell(agent, quarter)
    data = premia.json("explain", agent, "--rule", "win_rate_bonus", "--period", quarter)
    metrics = {m["metric"]: m for m in data["metrics"]}
    assert Decimal(metrics["win_rate"]["value"]) == cell.win_rate == Decimal("0.65")
    assert Decimal(metrics["won_deals"]["value"]) == cell.won_deals
    assert metrics["won_deals"]["fact_count"] == cell.won_deals
    assert Decimal(metrics["closed_deals"]["value"]) == cell.closed_deals
    assert metrics["closed_deals"]["fact_count"] == cell.closed_deals
    assert data["progress"]["achieved"] is True
    assert sum(e["points"] for e in data["ledger"]) == 500


def test_catalog(premia: Cli) -> None:
    rows = premia.json("catalog")
    items = yaml.safe_load((premia.program.parent / "catalog.yaml").read_text())["items"]
    assert [r["sku"] for r in rows] == [i["sku"] for i in items]
    for row, item in zip(rows, items, strict=True):
        assert row["provider"] == "catalog"
        assert (row["name"], row["kind"], row["points"]) == (
            item["name"],
            item["kind"],
            item["points"],
        )
        assert row["inventory"] == item.get("inventory")
        assert row["regions"] == (sorted(item["regions"]) if "regions" in item else None)
        if "value" in item:
            assert Decimal(row["value"]) == Decimal(item["value"])


def test_plugins(premia: Cli) -> None:
    data = premia.json("plugins", program=False)
    assert data["problems"] == []
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["csv"]["sources"] == ["csv"]
    assert by_name["rewards_catalog"]["providers"] == ["rewards_catalog"]
    rules = {r for p in data["plugins"] for r in p["rules"]}
    assert {"threshold", "tiered", "rank", "every"} <= rules
    builtin = [p for p in data["plugins"] if p["builtin"]]
    assert {"threshold", "tiered", "rank", "every"} <= {r for p in builtin for r in p["rules"]}
    for p in data["plugins"]:
        assert p["hooks"], p["name"]


def test_schema(premia: Cli) -> None:
    result = premia.run("schema", program=False)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    props = schema["properties"]
    for key in ("name", "timezone", "sources", "metrics", "rules", "rewards", "roster"):
        assert key in props, key


def test_check(premia: Cli) -> None:
    results = premia.json("check")
    assert all(r["ok"] for r in results), results
    subjects = [r["subject"] for r in results]
    assert "program" in subjects
    assert any("crm" in s and "csv" in s for s in subjects)
    assert any("catalog" in s and "rewards_catalog" in s for s in subjects)
    program = next(r for r in results if r["subject"] == "program")
    assert "35 participants" in program["message"]


def test_redeem_twice_with_one_request_id(premia: Cli, store: Any, expected: Any) -> None:
    agent = "Vicki Laflamme"
    before = store.balances()[agent]
    orders_before = store.orders()
    first = premia.json("redeem", agent, "GC-25", "--request-id", "e2e-once")
    second = premia.json("redeem", agent, "GC-25", "--request-id", "e2e-once")
    assert first["created"] is True
    assert second["created"] is False
    assert first["order"]["key"] == second["order"]["key"]
    assert second["order"]["status"] == "fulfilled"
    orders = store.orders()
    new = orders[len(orders_before) :]
    assert [(o["participant"], o["sku"], o["points"]) for o in new] == [(agent, "GC-25", 2500)]
    assert store.balances()[agent] == before - 2500
    redemptions = [
        r for r in store.ledger() if r["entry_type"] == "redemption" and r["participant"] == agent
    ]
    assert [r["points"] for r in redemptions] == [-2500]
    assert expected.total(agent) - 2500 == store.balances()[agent]


def test_redeem_with_too_low_a_balance(premia: Cli, store: Any, expected: Any) -> None:
    agent = "Elease Gluck"
    assert expected.total(agent) < 2500
    ledger, orders = store.ledger(), store.orders()
    result = premia.run("redeem", agent, "GC-25", "--request-id", "e2e-too-low")
    assert result.exit_code == 4, result.output
    assert "balance too low" in result.stderr
    assert "Traceback" not in result.output
    assert store.ledger() == ledger
    assert store.orders() == orders
    assert store.balances()[agent] == expected.total(agent)


def test_a_badge_cannot_be_redeemed(premia: Cli, store: Any) -> None:
    ledger, orders = store.ledger(), store.orders()
    result = premia.run("redeem", "Vicki Laflamme", "BADGE-TOP-CLOSER", "--request-id", "e2e-b")
    assert result.exit_code == 4, result.output
    assert "awarded by rules, not redeemed" in result.stderr
    assert store.ledger() == ledger
    assert store.orders() == orders


@pytest.mark.parametrize(
    "command",
    [
        ("redeem", "Nobody Atall", "GC-25"),
        ("progress", "Nobody Atall"),
        ("explain", "Nobody Atall", "--rule", "top_closer", "--period", "2017-Q4"),
    ],
)
def test_unknown_participant(premia: Cli, store: Any, command: tuple[str, ...]) -> None:
    orders = store.orders()
    result = premia.run(*command)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "no participant 'Nobody Atall'" in result.stderr
    assert "Traceback" not in result.output
    assert store.orders() == orders


def test_unknown_rule_and_bad_period(premia: Cli) -> None:
    result = premia.run("explain", "Boris Faz", "--rule", "nope", "--period", "2017-Q4")
    assert result.exit_code == 2, (result.output, result.exception)
    assert "nope" in result.stderr
    result = premia.run("explain", "Boris Faz", "--rule", "top_closer", "--period", "2017-13")
    assert result.exit_code == 2, (result.output, result.exception)
    assert "2017-13" in result.stderr


def test_progress_rejects_a_bad_period(premia: Cli) -> None:
    """A period label that cannot exist is an error, as it is for explain and leaderboard."""
    result = premia.run("progress", "Boris Faz", "--period", "2017-Q9")
    assert result.exit_code == 2, result.output
    assert "2017-Q9" in result.stderr


def test_second_sync_reads_nothing_new(premia: Cli, store: Any) -> None:
    grants = store.grants()
    report = premia.json("sync")
    assert report["complete"] is True
    assert report["facts_changed"] == 0
    assert (report["grants"], report["reversals"], report["adjustments"]) == (0, 0, 0)
    assert store.grants() == grants


def test_check_warns_about_a_filter_value_no_fact_has(premia: Cli) -> None:
    program = premia.program.read_text(encoding="utf-8")
    typo = premia.program.with_name("typo.yaml")
    typo.write_text(program.replace("where: {stage: Won}\n", "where: {stage: Wonn}\n", 1))
    result = premia.run("check", "--json", "-p", str(typo), program=False)
    assert result.exit_code == 0, result.output
    warnings = [c for c in json.loads(result.stdout) if c["warning"]]
    assert warnings == [
        {
            "subject": "metric won_revenue",
            "ok": True,
            "warning": True,
            "message": "no stored fact has stage 'Wonn' (a typo?); values seen: Engaging, "
            "Lost, Prospecting, Won",
        }
    ]
