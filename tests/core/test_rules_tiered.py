"""The built-in ``tiered`` rule: boundaries, whole vs marginal, fixed points and rates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from premia.builtin_rules.tiered import TieredRule

RATE_TIERS = [
    {"at": "0", "reward": {"rate": {"points": 1, "per": 100}}},
    {"at": "10000", "reward": {"rate": {"points": 2, "per": 100}}},
    {"at": "20000", "reward": {"rate": {"points": 3, "per": 100}}},
]
FIXED_TIERS = [
    {"at": "5", "reward": {"points": 200}},
    {"at": "10", "name": "Champion", "reward": {"points": 500, "badge": "Champ"}},
]


def rule(mode: str, tiers: list[dict[str, object]]) -> TieredRule:
    return TieredRule(TieredRule.Params.model_validate({"mode": mode, "tiers": tiers}))


def grants(out) -> list[tuple[str, str, Decimal]]:
    return [(g.participant_key, g.step, g.points) for g in out.grants]


def test_marginal_rates_pay_each_band(make_input) -> None:
    out = rule("marginal", RATE_TIERS).evaluate(make_input({"a@x": "25000"}))
    # band 0..10000 at 1/100 = 100; 10000..20000 at 2/100 = 200; 20000..25000 at 3/100 = 150
    assert grants(out) == [
        ("a@x", "tier-1", Decimal(100)),
        ("a@x", "tier-2", Decimal(200)),
        ("a@x", "tier-3", Decimal(150)),
    ]
    assert sum(g.points for g in out.grants) == Decimal(450)


def test_whole_rate_pays_the_top_tier_rate_on_the_whole_value(make_input) -> None:
    out = rule("whole", RATE_TIERS).evaluate(make_input({"a@x": "25000"}))
    # tier 3 reached: 25000 * 3 / 100 = 750, one grant carrying the amount
    assert grants(out) == [("a@x", "whole", Decimal(750))]


def test_value_at_a_tier_boundary_belongs_to_the_higher_tier(make_input) -> None:
    out = rule("whole", RATE_TIERS).evaluate(make_input({"at@x": "10000", "below@x": "9999.99"}))
    # at: 10000 is tier 2 -> 10000 * 2/100 = 200; below: tier 1 -> 9999.99 * 1/100 = 99.9999
    assert grants(out) == [
        ("at@x", "whole", Decimal(200)),
        ("below@x", "whole", Decimal("99.9999")),
    ]
    by = {p.participant_key: p for p in out.progress}
    # at: next tier starts at 20000 -> 10000 to go; below: 10000 - 9999.99 = 0.01 to tier 2
    assert (by["at@x"].target, by["at@x"].remaining) == (Decimal(20000), Decimal(10000))
    assert (by["below@x"].target, by["below@x"].remaining) == (Decimal(10000), Decimal("0.01"))


def test_fixed_points_whole_pays_highest_tier_not_the_sum(make_input) -> None:
    out = rule("whole", FIXED_TIERS).evaluate(
        make_input({"a@x": "4", "b@x": "5", "c@x": "9.9999", "d@x": "10", "e@x": "12"})
    )
    # a: below 5 -> nothing; b: exactly 5 -> tier 1 (200); c: just below 10 -> still tier 1;
    # d: exactly 10 -> tier 2 (500, not 200 + 500); e: above the top tier -> 500.
    points = [(k, st, p) for k, st, p in grants(out) if st == "whole"]
    assert points == [
        ("b@x", "whole", Decimal(200)),
        ("c@x", "whole", Decimal(200)),
        ("d@x", "whole", Decimal(500)),
        ("e@x", "whole", Decimal(500)),
    ]
    # The Champion badge is granted per tier reached (d and e reached tier 2).
    badges = [(g.participant_key, g.step, g.badge) for g in out.grants if g.badge]
    assert badges == [("d@x", "tier-2", "Champ"), ("e@x", "tier-2", "Champ")]
    by = {p.participant_key: p for p in out.progress}
    assert by["a@x"].achieved is False
    assert (by["a@x"].target, by["a@x"].remaining) == (Decimal(5), Decimal(1))
    assert by["e@x"].remaining == Decimal(0)


def test_fixed_points_marginal_pays_each_tier_reached(make_input) -> None:
    out = rule("marginal", FIXED_TIERS).evaluate(make_input({"c@x": "9.9999", "d@x": "10"}))
    # c: tier 1 only -> 200; d: tier 1 + tier 2 -> 200 + 500 = 700
    assert grants(out) == [
        ("c@x", "tier-1", Decimal(200)),
        ("d@x", "tier-1", Decimal(200)),
        ("d@x", "tier-2", Decimal(500)),
    ]


def test_marginal_rate_below_the_first_band_and_undefined(make_input) -> None:
    tiers = [
        {"at": "100", "reward": {"rate": {"points": 1, "per": 10}}},
        {"at": "200", "reward": {"rate": {"points": 2, "per": 10}}},
    ]
    out = rule("marginal", tiers).evaluate(make_input({"a@x": "99", "b@x": "150", "n@x": None}))
    # a: below 100 -> nothing; b: band 100..150 = 50 * 1/10 = 5; n: undefined -> nothing
    assert grants(out) == [("b@x", "tier-1", Decimal(5))]
    by = {p.participant_key: p for p in out.progress}
    assert (by["a@x"].target, by["a@x"].remaining) == (Decimal(100), Decimal(1))
    assert by["n@x"].remaining is None


def test_mode_is_required() -> None:
    with pytest.raises(ValidationError) as info:
        TieredRule.Params.model_validate({"tiers": FIXED_TIERS})
    assert [e["loc"] for e in info.value.errors()] == [("mode",)]
    assert info.value.errors()[0]["type"] == "missing"


@pytest.mark.parametrize(
    "ats",
    [["10", "5"], ["5", "5"], ["0", "10", "9"]],
)
def test_tiers_must_ascend(ats) -> None:
    tiers = [{"at": a, "reward": {"points": 1}} for a in ats]
    with pytest.raises(ValidationError, match="increasing"):
        TieredRule.Params.model_validate({"mode": "whole", "tiers": tiers})


def test_needs_at_least_one_tier_and_a_known_mode() -> None:
    with pytest.raises(ValidationError):
        TieredRule.Params.model_validate({"mode": "whole", "tiers": []})
    with pytest.raises(ValidationError):
        TieredRule.Params.model_validate({"mode": "progressive", "tiers": FIXED_TIERS})


def test_deterministic_and_free_of_io(make_input, no_io) -> None:
    r = rule("marginal", RATE_TIERS)
    inputs = make_input({f"p{i:02d}@x": str(i * 1234) for i in range(30)})
    with no_io():
        first = r.evaluate(inputs)
        second = r.evaluate(inputs)
    assert first == second
    # p20: 24680 -> 100 + 200 + (4680 * 3 / 100 = 140.4) = 440.4
    total = sum(g.points for g in first.grants if g.participant_key == "p20@x")
    assert total == Decimal("440.4")
