"""The built-in ``threshold`` rule, evaluated as a pure function."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from premia.builtin_rules.threshold import ThresholdRule


def rule(**params: object) -> ThresholdRule:
    return ThresholdRule(ThresholdRule.Params.model_validate(params))


def test_value_equal_to_target_achieves(make_input) -> None:
    r = rule(target="100", reward={"points": 50})
    out = r.evaluate(make_input({"a@x": "100", "b@x": "99.99", "c@x": "150"}))
    # a: 100 >= 100 -> achieved; b: 99.99 < 100 -> 0.01 short; c: 150 >= 100.
    assert [(g.participant_key, g.step, g.points) for g in out.grants] == [
        ("a@x", "achieved", Decimal(50)),
        ("c@x", "achieved", Decimal(50)),
    ]
    by = {p.participant_key: p for p in out.progress}
    assert by["a@x"].achieved is True
    assert by["a@x"].remaining == Decimal(0)
    assert by["b@x"].achieved is False
    assert by["b@x"].remaining == Decimal("0.01")  # 100 - 99.99
    assert by["b@x"].target == Decimal(100)
    assert by["c@x"].remaining == Decimal(0)


def test_undefined_value_never_achieves(make_input) -> None:
    r = rule(target="0", reward={"points": 5})
    out = r.evaluate(make_input({"a@x": None, "b@x": "0"}))
    # a's metric is undefined (e.g. a ratio under its minimum denominator): no grant even
    # though the target is 0; b has 0 >= 0.
    assert [g.participant_key for g in out.grants] == ["b@x"]
    (a,) = [p for p in out.progress if p.participant_key == "a@x"]
    assert a.achieved is False
    assert a.value is None
    assert a.remaining is None


def test_missing_value_is_undefined(make_input) -> None:
    r = rule(target="1", reward={"points": 5})
    inputs = make_input({"a@x": "3"})
    # A participant the input lists but whose value is absent counts as undefined.
    from premia.rules import RuleInput, RuleParticipant

    inputs = RuleInput(
        inputs.period, [*inputs.participants, RuleParticipant("z@x", {})], inputs.values
    )
    out = r.evaluate(inputs)
    assert [g.participant_key for g in out.grants] == ["a@x"]
    assert len(out.progress) == 2


def test_rate_reward_pays_exact_points_on_the_whole_value(make_input) -> None:
    r = rule(target="1000", reward={"rate": {"points": "1", "per": "100"}})
    out = r.evaluate(make_input({"a@x": "1234", "b@x": "999.99"}))
    # a: 1234 * 1 / 100 = 12.34 points (exact; the engine rounds later); b below target.
    assert [(g.participant_key, g.points) for g in out.grants] == [("a@x", Decimal("12.34"))]


def test_reward_with_item_and_badge(make_input) -> None:
    r = rule(target="3", reward={"item": "GC-25", "badge": "Closer"})
    (g,) = r.evaluate(make_input({"a@x": "3"})).grants
    assert (g.points, g.item, g.badge) == (Decimal(0), "GC-25", "Closer")


@pytest.mark.parametrize(
    "params",
    [
        {"reward": {"points": 1}},  # no target
        {"target": "1"},  # no reward
        {"target": "1", "reward": {}},  # empty reward
        {"target": "1", "reward": {"points": 1, "rate": {"points": 1}}},  # both
        {"target": "1", "reward": {"points": 1}, "unknown": 2},  # unknown key
        {"target": "1", "reward": {"points": -1}},  # negative points
    ],
)
def test_invalid_params_are_refused(params) -> None:
    with pytest.raises(ValidationError):
        ThresholdRule.Params.model_validate(params)


def test_deterministic_and_free_of_io(make_input, no_io) -> None:
    r = rule(target="10", reward={"rate": {"points": "3", "per": "7"}})
    inputs = make_input({f"p{i}@x": str(i * 3) for i in range(20)})
    with no_io():
        first = r.evaluate(inputs)
        second = r.evaluate(inputs)
    assert first == second
    # p4: 12 * 3 / 7 = 36/7 as an exact Decimal quotient.
    by = {g.participant_key: g.points for g in first.grants}
    assert by["p4@x"] == Decimal(36) / Decimal(7)
    assert "p3@x" not in by  # 9 < 10
