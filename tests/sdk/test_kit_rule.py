"""RuleContract passes a sound rule and catches each kind of flawed one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest_plugins = ["pytester"]

FAKE_RULE = """
import random
import socket
import sqlite3
from decimal import Decimal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from premia import GrantSpec, Progress, RuleOutcome, RuleType
from premia_sdk.testing import RuleContract


class StrictParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: Decimal = Field(gt=0)


class LaxParams(BaseModel):
    target: Decimal


class FakeRule(RuleType[StrictParams]):
    type_name = "fake_rule"
    Params = StrictParams
    flaws = frozenset()

    def evaluate(self, inputs):
        if "reads_file" in self.flaws:
            with open("rates.csv") as f:
                f.read()
        if "swallows_io" in self.flaws:
            try:
                open("rates.csv")
            except Exception:
                pass
        if "uses_socket" in self.flaws:
            socket.create_connection(("example.com", 80))
        if "uses_sqlite" in self.flaws:
            sqlite3.connect(":memory:")
        if "mutates_input" in self.flaws:
            inputs.values.clear()
        target = self.params.target
        progress, grants = [], []
        for person in inputs.participants:
            value = inputs.values.get(person.key)
            achieved = value is not None and value >= target
            if achieved:
                points = Decimal(100)
                if "random" in self.flaws:
                    points = Decimal(random.randint(1, 10**9))
                if "float_points" in self.flaws:
                    points = 100.0
                grants.append(GrantSpec(person.key, "achieved", points))
                if "duplicate_step" in self.flaws:
                    grants.append(GrantSpec(person.key, "achieved", points))
            if achieved or "skips_unachieved" not in self.flaws:
                remaining = None if value is None else max(target - value, Decimal(0))
                marked = achieved and "forgets_achieved" not in self.flaws
                progress.append(Progress(person.key, value, target, remaining, marked))
        if "stranger" in self.flaws:
            grants.append(GrantSpec("nobody@example.com", "achieved", Decimal(1)))
        if "never_grants" in self.flaws:
            grants = []
        return RuleOutcome(progress, grants)


class FakeContract(RuleContract):
    check_registration = False
    flaws = frozenset()

    @pytest.fixture
    def rule_type(self):
        params = LaxParams if "lax_params" in self.flaws else StrictParams
        return type("Flawed", (FakeRule,), {"flaws": frozenset(self.flaws), "Params": params})

    @pytest.fixture
    def valid_params(self):
        return {"target": "100"}

    @pytest.fixture
    def invalid_params(self):
        return [{"target": "-1"}, {"target": "100", "surprise": 1}]
"""

ALL_TESTS = {
    "test_declares_type_name_and_params",
    "test_registered_by_an_installed_plugin",
    "test_valid_params_are_accepted",
    "test_invalid_params_are_rejected_clearly",
    "test_evaluate_is_deterministic",
    "test_evaluate_does_no_io",
    "test_grants_only_for_participants_with_unique_steps",
    "test_progress_for_every_participant",
}

Outcomes = dict[str, tuple[str, str]]


@pytest.fixture
def run_contract(contract_runner: Any) -> Callable[[str], Outcomes]:
    """Run a test module against the fake rule; return {test name: (outcome, report)}."""
    run: Callable[[str], Outcomes] = contract_runner("fake_rule", FAKE_RULE)
    return run


def _flawed(flaws: set[str]) -> str:
    return f"""
from fake_rule import FakeContract

class TestFlawed(FakeContract):
    flaws = {flaws!r}
"""


def test_a_sound_rule_passes_every_check(run_contract: Callable[[str], Outcomes]) -> None:
    outcomes = run_contract(_flawed(set()))
    assert set(outcomes) == ALL_TESTS
    failed = {name: text for name, (outcome, text) in outcomes.items() if outcome == "failed"}
    assert not failed


@pytest.mark.parametrize(
    ("flaw", "caught_by", "says"),
    [
        ("lax_params", "test_invalid_params_are_rejected_clearly", "were accepted"),
        ("reads_file", "test_evaluate_does_no_io", "open('rates.csv')"),
        ("swallows_io", "test_evaluate_does_no_io", "open('rates.csv')"),
        ("uses_socket", "test_evaluate_does_no_io", "socket.create_connection"),
        ("uses_sqlite", "test_evaluate_does_no_io", "sqlite3.connect"),
        ("random", "test_evaluate_is_deterministic", "differ"),
        ("mutates_input", "test_evaluate_is_deterministic", "changed its input"),
        ("float_points", "test_grants_only_for_participants_with_unique_steps", "not a Decimal"),
        ("duplicate_step", "test_grants_only_for_participants_with_unique_steps", "twice"),
        ("stranger", "test_grants_only_for_participants_with_unique_steps", "not in the input"),
        ("never_grants", "test_grants_only_for_participants_with_unique_steps", "expect_grants"),
        ("skips_unachieved", "test_progress_for_every_participant", "exactly once"),
        ("forgets_achieved", "test_progress_for_every_participant", "granted but not achieved"),
    ],
)
def test_each_flaw_is_caught(
    run_contract: Callable[[str], Outcomes], flaw: str, caught_by: str, says: str
) -> None:
    outcome, report = run_contract(_flawed({flaw}))[caught_by]
    assert outcome == "failed", f"{flaw} was not caught by {caught_by}"
    assert says in report


def test_io_is_allowed_again_after_the_block() -> None:
    from premia_sdk.testing import IOForbidden, forbid_io

    with forbid_io() as attempts, pytest.raises(IOForbidden):
        open(__file__)  # noqa: SIM115
    assert attempts == [f"open({__file__!r})"]
    with open(__file__, encoding="utf-8") as again:
        assert again.readline()
