"""Money is Decimal, never float: in facts, metrics, ratios, points and the code itself."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

import premia

CORE = Path(premia.__file__).resolve().parent


def program(kit, **overrides):
    metrics = [
        *kit.METRICS,
        {"name": "avg_won", "agg": "avg", "field": "amount", "where": {"stage": "Won"}},
        {"name": "win_rate", "ratio": {"numerator": "won_deals", "denominator": "closed"}},
    ]
    return kit.program_dict(metrics=metrics, **overrides)


def test_tenths_sum_to_exactly_one(kit, feed, db_url) -> None:
    feed.put(*(kit.deal(f"d{i}", "ana@example.com", "0.1") for i in range(10)))
    runtime = kit.open(program(kit), db_url)
    kit.sync(runtime)
    total = kit.metric(runtime, "won_revenue", "ana@example.com", "2024-Q1")
    # 10 x 0.1 = 1 exactly (as binary floats the sum is 0.9999999999999999)
    assert sum([0.1] * 10) != 1.0
    assert type(total) is Decimal
    assert total == Decimal("1")
    assert kit.metric(runtime, "avg_won", "ana@example.com", "2024-Q1") == Decimal("0.1")
    assert all(f["amount"] == Decimal("0.1") for f in kit.rows(runtime, "facts"))


def test_large_amounts_survive_exactly(kit, feed, db_url) -> None:
    feed.put(
        kit.deal("big", "ana@example.com", "12345678901.2345"),
        kit.deal("small", "ana@example.com", "0.0001"),
        kit.deal("neg", "ana@example.com", "-0.0002"),
    )
    runtime = kit.open(program(kit), db_url)
    kit.sync(runtime)
    amounts = {f["external_id"]: f["amount"] for f in kit.rows(runtime, "facts")}
    assert amounts == {
        "big": Decimal("12345678901.2345"),
        "small": Decimal("0.0001"),
        "neg": Decimal("-0.0002"),
    }
    # 12345678901.2345 + 0.0001 - 0.0002 = 12345678901.2344
    total = kit.metric(runtime, "won_revenue", "ana@example.com", "2024-Q1")
    assert total == Decimal("12345678901.2344")
    assert str(total) == "12345678901.2344"


def test_five_decimal_amount_is_quarantined_not_rounded(kit, feed, db_url) -> None:
    feed.put(
        kit.deal("ok", "ana@example.com", "1.2345"),
        kit.deal("too-fine", "ana@example.com", "1.23456"),
    )
    runtime = kit.open(program(kit), db_url)
    report = kit.sync(runtime)
    assert report.bad_records == 1
    assert [f["external_id"] for f in kit.rows(runtime, "facts")] == ["ok"]
    (bad,) = kit.rows(runtime, "bad_records")
    assert bad["record_id"] == "too-fine"
    assert "1.23456" in bad["reason"]
    assert "4 decimal places" in bad["reason"]
    # The good fact around it was processed; nothing was rounded into the metric.
    assert kit.metric(runtime, "won_revenue", "ana@example.com", "2024-Q1") == Decimal("1.2345")


def test_ratios_are_exact_decimal_quotients(kit, feed, db_url) -> None:
    feed.put(
        kit.deal("w1", "ana@example.com", "1"),
        kit.deal("w2", "ana@example.com", "2"),
        kit.deal("l1", "ana@example.com", "4", stage="Lost"),
    )
    runtime = kit.open(program(kit), db_url)
    kit.sync(runtime)
    rate = kit.metric(runtime, "win_rate", "ana@example.com", "2024-Q1")
    # 2 won / 3 closed, divided as Decimals (28 significant digits), stored as text and read
    # back without a float in between
    assert type(rate) is Decimal
    assert rate == Decimal(2) / Decimal(3) == Decimal("0.6666666666666666666666666667")
    # avg of the won amounts 1 and 2 = 1.5
    assert kit.metric(runtime, "avg_won", "ana@example.com", "2024-Q1") == Decimal("1.5")


def test_ratio_below_min_denominator_is_undefined(kit, feed, db_url) -> None:
    feed.put(kit.deal("w1", "ana@example.com", "1"), kit.deal("w2", "ben@example.com", "1"))
    feed.put(kit.deal("l1", "ben@example.com", "1", stage="Lost"))
    doc = program(kit)
    doc["metrics"][-1]["ratio"]["min_denominator"] = 2
    runtime = kit.open(doc, db_url)
    kit.sync(runtime)
    assert kit.metric(runtime, "win_rate", "ana@example.com", "2024-Q1") is None  # 1 closed < 2
    assert kit.metric(runtime, "win_rate", "ben@example.com", "2024-Q1") == Decimal("0.5")


def test_points_are_whole_integers(kit, feed, db_url) -> None:
    feed.put(kit.deal("d1", "ana@example.com", "1234.5678"))
    runtime = kit.open(
        program(
            kit,
            rules=[
                {
                    "name": "rate",
                    "type": "threshold",
                    "metric": "won_revenue",
                    "target": 1,
                    "reward": {"rate": {"points": 1, "per": 7}},
                }
            ],
            rewards={"rounding": "half_up"},
        ),
        db_url,
    )
    kit.sync(runtime)
    # 1234.5678 / 7 = 176.366828... -> 176 (half up)
    (grant,) = kit.rows(runtime, "grants")
    (entry,) = kit.rows(runtime, "ledger")
    assert type(grant["points"]) is int
    assert type(entry["points"]) is int
    assert grant["points"] == entry["points"] == 176


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("down", 2), ("up", 3), ("half_up", 3), ("half_even", 2)],
)
def test_rounding_policies(kit, feed, sqlite_url, rounding, expected) -> None:
    # 250 * 1/100 = 2.5 points exactly
    feed.put(kit.deal("d1", "ana@example.com", "250"))
    runtime = kit.open(
        program(
            kit,
            rules=[
                {
                    "name": "rate",
                    "type": "threshold",
                    "metric": "won_revenue",
                    "target": 1,
                    "reward": {"rate": {"points": 1, "per": 100}},
                }
            ],
            rewards={"rounding": rounding},
        ),
        sqlite_url,
    )
    kit.sync(runtime)
    assert kit.balance(runtime, "ana@example.com") == expected


# -- no float in the money paths ------------------------------------------------------------

MONEY_PATHS = [
    *sorted((CORE / "engine").glob("*.py")),
    *sorted((CORE / "store").glob("*.py")),
    CORE / "rewards.py",
    *sorted((CORE / "builtin_rules").glob("*.py")),
]


# Floats that are not money, each with its reason: (file, source line) -> why.
NOT_MONEY = {
    ("sync.py", "self.since = 0.0"): "phase timing in seconds (time.perf_counter)",
}


def float_uses(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "float"
        ):
            what = "float(...)"
        elif isinstance(node, ast.Constant) and type(node.value) is float:
            what = f"float literal {node.value!r}"
        else:
            continue
        if (path.name, lines[node.lineno - 1].strip()) in NOT_MONEY:
            continue
        found.append(f"{path.name}:{node.lineno}: {what}")
    return found


def test_money_paths_exist() -> None:
    names = {p.name for p in MONEY_PATHS}
    assert {
        "evaluate.py",
        "metrics.py",
        "ledger.py",
        "types.py",
        "rewards.py",
        "tiered.py",
    } <= names


@pytest.mark.parametrize("path", MONEY_PATHS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_float_in_money_paths(path: Path) -> None:
    assert float_uses(path) == []


def test_the_float_detector_detects(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("x = float('1.5')\ny = 0.5\nz = 1\n", encoding="utf-8")
    assert float_uses(sample) == ["sample.py:1: float(...)", "sample.py:2: float literal 0.5"]


def test_amount_too_large_for_the_store_is_quarantined(kit, feed, db_url) -> None:
    """Bug: an amount beyond the store's range fails the whole batch instead of one record."""
    # Amounts are stored as BIGINT counts of 1/10,000: the largest is
    # 9223372036854775807 / 10000 = 922337203685477.5807. 10^20 is far beyond it.
    feed.put(
        kit.deal("ok", "ana@example.com", "5"),
        kit.deal("huge", "ana@example.com", "100000000000000000000"),
        kit.deal("max", "ben@example.com", "922337203685477.5807"),
    )
    runtime = kit.open(program(kit), db_url)
    report = kit.sync(runtime)
    # Good data around the bad record is still processed; the bad one is named.
    assert report.complete, report.errors
    assert report.bad_records == 1
    (bad,) = kit.rows(runtime, "bad_records")
    assert bad["record_id"] == "huge"
    amounts = {f["external_id"]: f["amount"] for f in kit.rows(runtime, "facts")}
    assert amounts == {"ok": Decimal(5), "max": Decimal("922337203685477.5807")}
