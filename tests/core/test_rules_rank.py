"""The built-in ``rank`` rule: top N, within an attribute, ties, min_value, per-place rewards."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from premia.builtin_rules.rank import RankRule


def rule(**params: object) -> RankRule:
    return RankRule(RankRule.Params.model_validate(params))


def paid(out) -> list[tuple[str, str, Decimal]]:
    return [(g.participant_key, g.step, g.points) for g in out.grants]


def test_top_n_pays_the_best(make_input) -> None:
    out = rule(top=2, reward={"points": 100}).evaluate(
        make_input({"a@x": "300", "b@x": "900", "c@x": "600", "d@x": "100"})
    )
    # Order: b 900, c 600, a 300, d 100 -> b and c paid.
    assert paid(out) == [("b@x", "rank-1", Decimal(100)), ("c@x", "rank-2", Decimal(100))]
    by = {p.participant_key: p for p in out.progress}
    assert [by[k].rank for k in ("b@x", "c@x", "a@x", "d@x")] == [1, 2, 3, 4]
    # a: the last paid place has 600 -> 600 - 300 = 300 to go
    assert (by["a@x"].target, by["a@x"].remaining) == (Decimal(600), Decimal(300))
    assert by["b@x"].achieved
    assert not by["a@x"].achieved


def test_ties_are_broken_by_key_ascending(make_input) -> None:
    # The input lists participants sorted by key; give the later key the same value.
    out = rule(top=1, reward={"points": 10}).evaluate(
        make_input({"zed@x": "500", "amy@x": "500", "max@x": "400"})
    )
    # amy and zed tie on 500: amy's key is smaller -> rank 1, zed rank 2 (ranks are unique).
    assert paid(out) == [("amy@x", "rank-1", Decimal(10))]
    by = {p.participant_key: p.rank for p in out.progress}
    assert by == {"amy@x": 1, "max@x": 3, "zed@x": 2}


def test_ties_do_not_depend_on_input_order(make_input) -> None:
    from premia.rules import RuleInput

    inputs = make_input({"zed@x": "500", "amy@x": "500"})
    reversed_input = RuleInput(
        inputs.period, list(reversed(inputs.participants)), dict(inputs.values)
    )
    r = rule(top=1, reward={"points": 10})
    assert paid(r.evaluate(inputs)) == paid(r.evaluate(reversed_input))
    assert paid(r.evaluate(reversed_input)) == [("amy@x", "rank-1", Decimal(10))]


def test_within_an_attribute(make_input) -> None:
    values = {"a@x": "300", "b@x": "500", "c@x": "200", "d@x": "0", "e@x": "100"}
    regions = {
        "a@x": {"region": "East"},
        "b@x": {"region": "East"},
        "c@x": {"region": "West"},
        "d@x": {"region": "West"},
        "e@x": {"region": "West"},
    }
    out = rule(top=1, within="region", reward={"points": 1000, "badge": "Top"}).evaluate(
        make_input(values, regions)
    )
    # East: b 500 > a 300 -> b; West: c 200 > e 100 > d 0 (not ranked) -> c
    assert paid(out) == [("b@x", "rank-1", Decimal(1000)), ("c@x", "rank-1", Decimal(1000))]
    by = {p.participant_key: p for p in out.progress}
    assert by["a@x"].rank == 2
    assert by["e@x"].rank == 2
    assert by["d@x"].rank is None  # 0 is not above min_value 0
    # e trails West's paid place (200) by 100
    assert by["e@x"].remaining == Decimal(100)
    assert all(g.badge == "Top" for g in out.grants)


def test_min_value_excludes_zero_and_undefined(make_input) -> None:
    out = rule(top=3, reward={"points": 5}).evaluate(
        make_input({"a@x": "0", "b@x": None, "c@x": "0.01"})
    )
    # Only c (0.01 > 0) is ranked; a (0) and b (undefined) are not, so only one place pays.
    assert paid(out) == [("c@x", "rank-1", Decimal(5))]
    by = {p.participant_key: p for p in out.progress}
    assert by["a@x"].rank is None
    assert by["b@x"].rank is None


def test_explicit_min_value(make_input) -> None:
    out = rule(top=3, min_value="100", reward={"points": 5}).evaluate(
        make_input({"a@x": "100", "b@x": "100.5", "c@x": "250"})
    )
    # "above min_value": 100 is not above 100 -> a excluded; c 1st, b 2nd
    assert paid(out) == [("b@x", "rank-2", Decimal(5)), ("c@x", "rank-1", Decimal(5))]


def test_rewards_per_place(make_input) -> None:
    out = rule(
        top=3,
        rewards=[{"points": 300}, {"points": 200}, {"points": 100, "item": "MUG"}],
    ).evaluate(make_input({"a@x": "10", "b@x": "40", "c@x": "30", "d@x": "20"}))
    # b 40 -> 300, c 30 -> 200, d 20 -> 100 + MUG, a 10 -> unpaid 4th
    assert paid(out) == [
        ("b@x", "rank-1", Decimal(300)),
        ("c@x", "rank-2", Decimal(200)),
        ("d@x", "rank-3", Decimal(100)),
    ]
    assert [g.item for g in out.grants] == [None, None, "MUG"]


def test_fewer_ranked_than_places(make_input) -> None:
    out = rule(top=3, rewards=[{"points": 3}, {"points": 2}, {"points": 1}]).evaluate(
        make_input({"a@x": "5"})
    )
    assert paid(out) == [("a@x", "rank-1", Decimal(3))]


@pytest.mark.parametrize(
    "params",
    [
        {"top": 1},  # neither reward nor rewards
        {"top": 1, "reward": {"points": 1}, "rewards": [{"points": 1}]},  # both
        {"top": 2, "rewards": [{"points": 1}]},  # one reward for two places
        {"top": 0, "reward": {"points": 1}},
    ],
)
def test_invalid_params_are_refused(params) -> None:
    with pytest.raises(ValidationError):
        RankRule.Params.model_validate(params)


def test_deterministic_and_free_of_io(make_input, no_io) -> None:
    r = rule(top=5, within="region", reward={"points": 1})
    values = {f"p{i:02d}@x": str((i * 7) % 11) for i in range(40)}
    attrs = {k: {"region": "East" if i % 2 else "West"} for i, k in enumerate(sorted(values))}
    inputs = make_input(values, attrs)
    with no_io():
        first = r.evaluate(inputs)
        second = r.evaluate(inputs)
    assert first == second
    assert len(first.grants) == 10  # 5 places in each of 2 regions, all with values > 0
