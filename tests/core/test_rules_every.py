"""The built-in ``every`` rule: one fixed reward per full step."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from premia.builtin_rules.every import EveryRule


def rule(**params: object) -> EveryRule:
    return EveryRule(EveryRule.Params.model_validate(params))


def test_one_grant_per_full_step(make_input) -> None:
    out = rule(every="1", reward={"points": 10}).evaluate(make_input({"a@x": "3", "b@x": "0"}))
    # a: 3 // 1 = 3 steps of 10 points; b: 0 steps
    assert [(g.participant_key, g.step, g.points) for g in out.grants] == [
        ("a@x", "step-1", Decimal(10)),
        ("a@x", "step-2", Decimal(10)),
        ("a@x", "step-3", Decimal(10)),
    ]
    by = {p.participant_key: p for p in out.progress}
    assert by["a@x"].achieved is True
    assert (by["a@x"].target, by["a@x"].remaining) == (Decimal(4), Decimal(1))
    assert by["b@x"].achieved is False
    assert (by["b@x"].target, by["b@x"].remaining) == (Decimal(1), Decimal(1))


def test_fractional_step_size(make_input) -> None:
    out = rule(every="2.5", reward={"points": 7}).evaluate(
        make_input({"a@x": "7.5", "b@x": "7.4999"})
    )
    # a: 7.5 / 2.5 = 3 full steps; b: 7.4999 // 2.5 = 2 full steps, 7.5 - 7.4999 = 0.0001 left
    steps = [(g.participant_key, g.step) for g in out.grants]
    assert steps == [
        ("a@x", "step-1"),
        ("a@x", "step-2"),
        ("a@x", "step-3"),
        ("b@x", "step-1"),
        ("b@x", "step-2"),
    ]
    by = {p.participant_key: p for p in out.progress}
    assert (by["b@x"].target, by["b@x"].remaining) == (Decimal("7.5"), Decimal("0.0001"))


def test_max_steps_caps_the_grants(make_input) -> None:
    out = rule(every="1", max_steps=2, reward={"points": 10}).evaluate(make_input({"a@x": "5"}))
    # 5 steps earned, capped at 2 -> 20 points in total
    assert [g.step for g in out.grants] == ["step-1", "step-2"]
    assert sum(g.points for g in out.grants) == Decimal(20)
    (p,) = out.progress
    assert p.remaining == Decimal(0)
    assert p.achieved is True


def test_undefined_and_negative_values_earn_nothing(make_input) -> None:
    out = rule(every="1", reward={"points": 10}).evaluate(make_input({"a@x": None, "b@x": "-3"}))
    assert out.grants == []
    by = {p.participant_key: p for p in out.progress}
    assert by["a@x"].remaining is None
    assert by["b@x"].achieved is False


def test_item_per_step(make_input) -> None:
    out = rule(every="10", reward={"item": "MUG"}).evaluate(make_input({"a@x": "25"}))
    # 25 // 10 = 2 steps, each sends one MUG and pays 0 points
    assert [(g.step, g.item, g.points) for g in out.grants] == [
        ("step-1", "MUG", Decimal(0)),
        ("step-2", "MUG", Decimal(0)),
    ]


def test_rate_reward_is_rejected() -> None:
    with pytest.raises(ValidationError, match="fixed rewards"):
        EveryRule.Params.model_validate({"every": 1, "reward": {"rate": {"points": 1}}})


@pytest.mark.parametrize(
    "params",
    [
        {"every": 0, "reward": {"points": 1}},
        {"every": -1, "reward": {"points": 1}},
        {"every": 1, "max_steps": 0, "reward": {"points": 1}},
        {"every": 1},
    ],
)
def test_invalid_params_are_refused(params) -> None:
    with pytest.raises(ValidationError):
        EveryRule.Params.model_validate(params)


def test_deterministic_and_free_of_io(make_input, no_io) -> None:
    r = rule(every="3", max_steps=4, reward={"points": 2})
    inputs = make_input({f"p{i:02d}@x": str(i) for i in range(25)})
    with no_io():
        first = r.evaluate(inputs)
        second = r.evaluate(inputs)
    assert first == second
    # steps per value v: min(v // 3, 4): 0-2 -> 0, 3-5 -> 1, 6-8 -> 2, 9-11 -> 3, 12-24 -> 4
    # total = 3*1 + 3*2 + 3*3 + 13*4 = 3 + 6 + 9 + 52 = 70
    assert len(first.grants) == 70
