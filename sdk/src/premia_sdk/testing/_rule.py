"""The contract suite of rule types."""

from __future__ import annotations

import contextlib
import copy
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ValidationError

from premia import (
    ConfigError,
    GrantSpec,
    Progress,
    RuleError,
    RuleInput,
    RuleOutcome,
    RuleParticipant,
    RuleType,
)
from premia.plugins import Registry
from premia_sdk.testing._checks import IOForbidden, forbid_io

RuleClass = type[RuleType[Any]]
"""What a rule author's ``rule_type`` fixture returns."""

_SAMPLE_VALUES: tuple[Decimal | None, ...] = (
    None,
    Decimal("-5"),
    Decimal("0"),
    Decimal("1"),
    Decimal("2.5"),
    Decimal("10"),
    Decimal("100"),
    Decimal("1000"),
    Decimal("10000"),
    Decimal("1000000"),
)


def sample_rule_inputs() -> list[RuleInput]:
    """Return the kit's default rule inputs: a spread of values, an empty period, a tie.

    The first input has ten participants whose values run from undefined (``None``) and
    negative through 0 and fractions to a million; the second has no participant; in the
    third, four participants tie on 100.
    """
    regions = ("East", "West", "Central")

    def person(i: int) -> RuleParticipant:
        return RuleParticipant(
            key=f"p{i:02d}@example.com",
            attributes={
                "name": f"Participant {i}",
                "role": "rep",
                "region": regions[i % len(regions)],
                "channel": "direct",
                "manager": None,
            },
        )

    spread = [person(i) for i in range(len(_SAMPLE_VALUES))]
    tied = [person(i) for i in range(4)]
    return [
        RuleInput(
            period="2024-Q1",
            participants=spread,
            values={p.key: v for p, v in zip(spread, _SAMPLE_VALUES, strict=True)},
        ),
        RuleInput(period="2024-Q2", participants=[], values={}),
        RuleInput(period="2024-Q3", participants=tied, values={p.key: Decimal(100) for p in tied}),
    ]


class RuleContract:
    """The contract every rule type keeps, as tests a plugin's test class inherits.

    Subclass it in a test module under a name pytest collects and provide the fixtures
    below::

        from premia_sdk.testing import RuleContract

        class TestStreakRule(RuleContract):
            @pytest.fixture
            def rule_type(self):
                return StreakRule

            @pytest.fixture
            def valid_params(self):
                return {"weeks": 4, "reward": {"points": 100}}

            @pytest.fixture
            def invalid_params(self):
                return {"weeks": -1, "reward": {"points": 100}}

    Fixtures you provide (in the class, the module or a ``conftest.py``):

    ``rule_type`` -> ``type[premia.RuleType]``
        The rule class.
    ``valid_params`` -> ``Mapping[str, Any]``
        Parameters as a program file's rule entry gives them (without the common keys
        ``name``, ``type``, ``metric``, ``segment``, ``period``, ``gate``).
    ``invalid_params`` -> ``Mapping[str, Any]`` or a list of them
        Parameter sets the rule must reject, with a pydantic ``ValidationError`` from
        ``Params.model_validate`` or a :class:`premia.RuleError`/:class:`premia.ConfigError`
        from the constructor.

    Fixtures you may override (in the class):

    ``rule_inputs`` -> ``Sequence[premia.RuleInput]``
        The inputs the kit evaluates (default: :func:`sample_rule_inputs`, a spread of values
        from undefined and negative to a million, an empty period and a tie).

    Class attributes you may set:

    ``expect_grants``
        At least one of the inputs must earn a grant (default True), so the kit checks
        grants for real.
    ``check_registration``
        Check that an installed plugin registers the rule type (default True).

    What the kit checks: the type declares ``type_name`` and a pydantic ``Params`` and is
    registered; valid parameters build a rule and invalid ones are rejected with a message;
    ``evaluate`` is deterministic (twice on one instance, and on a new instance with a deep
    copy of the input, give equal outcomes) and leaves its input unchanged; it does no I/O
    (files, sockets, httpx, SQLite, subprocesses raise while it runs); it returns progress
    for every participant exactly once and grants only for participants of the input, with
    non-empty steps unique per participant, exact non-negative points, and ``achieved`` set
    for everyone granted.
    """

    pytestmark = [pytest.mark.premia_contract]

    expect_grants: ClassVar[bool] = True
    check_registration: ClassVar[bool] = True

    @pytest.fixture
    def rule_inputs(self) -> Sequence[RuleInput]:
        """The inputs the kit evaluates (override for inputs your rule cares about)."""
        return sample_rule_inputs()

    @pytest.fixture
    def premia_rule(self, rule_type: RuleClass, valid_params: Mapping[str, Any]) -> Any:
        """A rule built from ``valid_params``, as the engine builds it."""
        return _build(rule_type, valid_params)

    # -- the type ------------------------------------------------------------------------
    def test_declares_type_name_and_params(self, rule_type: RuleClass) -> None:
        """The class subclasses RuleType and names its ``type_name`` and pydantic ``Params``."""
        assert isinstance(rule_type, type), f"rule_type is {rule_type!r}, not a class"
        assert issubclass(rule_type, RuleType), f"{rule_type!r} does not subclass premia.RuleType"
        type_name = getattr(rule_type, "type_name", None)
        assert isinstance(type_name, str), f"{rule_type.__name__}.type_name is not set"
        assert type_name.strip(), f"{rule_type.__name__}.type_name is empty"
        params = getattr(rule_type, "Params", None)
        assert isinstance(params, type), f"{rule_type.__name__}.Params is not set"
        assert issubclass(params, BaseModel), f"{rule_type.__name__}.Params is not pydantic"
        params.model_json_schema()

    def test_registered_by_an_installed_plugin(
        self, rule_type: RuleClass, premia_registry: Registry
    ) -> None:
        """An installed plugin (or the core) registers the class under its ``type_name``."""
        if not self.check_registration:
            pytest.skip("check_registration is False")
        registered = premia_registry.rules.get(rule_type.type_name)
        assert registered is rule_type, (
            f"no installed plugin registers {rule_type.__name__} as rule type "
            f"{rule_type.type_name!r} (registered: {registered!r})"
        )

    # -- parameters ----------------------------------------------------------------------
    def test_valid_params_are_accepted(
        self, rule_type: RuleClass, valid_params: Mapping[str, Any]
    ) -> None:
        """``valid_params`` validate and build a rule."""
        try:
            rule = _build(rule_type, valid_params)
        except (ValidationError, RuleError, ConfigError) as exc:
            pytest.fail(f"valid_params were rejected: {exc}")
        assert isinstance(rule.params, rule_type.Params)

    def test_invalid_params_are_rejected_clearly(
        self, rule_type: RuleClass, invalid_params: Any
    ) -> None:
        """Every set in ``invalid_params`` is rejected, with a message."""
        sets = invalid_params if isinstance(invalid_params, list) else [invalid_params]
        assert sets, "invalid_params is empty"
        for params in sets:
            message = ""
            try:
                _build(rule_type, params)
            except (ValidationError, RuleError, ConfigError) as exc:
                message = str(exc)
            else:
                pytest.fail(f"invalid_params {params!r} were accepted")
            assert message.strip(), f"{params!r}: rejected without a message"

    # -- evaluation ----------------------------------------------------------------------
    def test_evaluate_is_deterministic(
        self,
        premia_rule: Any,
        rule_type: RuleClass,
        valid_params: Mapping[str, Any],
        rule_inputs: Sequence[RuleInput],
    ) -> None:
        """The same input gives equal outcomes; the input is left unchanged."""
        for inputs in rule_inputs:
            snapshot = copy.deepcopy(inputs)
            first = premia_rule.evaluate(inputs)
            second = premia_rule.evaluate(inputs)
            fresh = _build(rule_type, valid_params).evaluate(copy.deepcopy(snapshot))
            where = f"period {inputs.period}"
            assert isinstance(first, RuleOutcome), (
                f"{where}: evaluate returned a {type(first).__name__}, not premia.RuleOutcome"
            )
            assert second == first, f"{where}: two evaluations of one input differ"
            assert fresh == first, f"{where}: a new rule instance gives another outcome"
            assert _same_input(inputs, snapshot), f"{where}: evaluate changed its input"

    def test_evaluate_does_no_io(self, premia_rule: Any, rule_inputs: Sequence[RuleInput]) -> None:
        """No file, socket, HTTP, database or subprocess is touched during ``evaluate``."""
        for inputs in rule_inputs:
            with forbid_io() as attempts, contextlib.suppress(IOForbidden):
                premia_rule.evaluate(inputs)
            assert not attempts, (
                f"period {inputs.period}: evaluate did I/O: {', '.join(attempts)}; a rule is a "
                "pure function of its input"
            )

    def test_grants_only_for_participants_with_unique_steps(
        self, premia_rule: Any, rule_inputs: Sequence[RuleInput]
    ) -> None:
        """Grants name participants of the input, with unique steps and exact points."""
        granted = 0
        for inputs in rule_inputs:
            outcome = premia_rule.evaluate(inputs)
            where = f"period {inputs.period}"
            keys = {p.key for p in inputs.participants}
            assert isinstance(outcome.grants, list), f"{where}: grants is not a list"
            for grant in outcome.grants:
                assert isinstance(grant, GrantSpec), f"{where}: a grant is a {type(grant)}"
                assert grant.participant_key in keys, (
                    f"{where}: a grant for {grant.participant_key!r}, who is not in the input"
                )
                assert isinstance(grant.step, str), f"{where}: a grant's step is not text"
                assert grant.step.strip(), (
                    f"{where}: a grant for {grant.participant_key!r} has no step"
                )
                assert isinstance(grant.points, Decimal), (
                    f"{where}: grant points {grant.points!r} are not a Decimal"
                )
                assert grant.points.is_finite(), f"{where}: grant points are {grant.points}"
                assert grant.points >= 0, f"{where}: negative grant points {grant.points}"
            pairs = Counter((g.participant_key, g.step) for g in outcome.grants)
            doubled = sorted(p for p, c in pairs.items() if c > 1)
            assert not doubled, f"{where}: (participant, step) granted twice: {doubled}"
            granted += len(outcome.grants)
        if self.expect_grants:
            assert granted, (
                "no input earned a grant, so grants were not really checked; override "
                "rule_inputs with one where someone earns a reward, or set expect_grants = False"
            )

    def test_progress_for_every_participant(
        self, premia_rule: Any, rule_inputs: Sequence[RuleInput]
    ) -> None:
        """Progress names every participant exactly once; everyone granted has achieved."""
        for inputs in rule_inputs:
            outcome = premia_rule.evaluate(inputs)
            where = f"period {inputs.period}"
            assert isinstance(outcome.progress, list), f"{where}: progress is not a list"
            for item in outcome.progress:
                assert isinstance(item, Progress), f"{where}: progress holds a {type(item)}"
                for name in ("value", "target", "remaining"):
                    value = getattr(item, name)
                    assert value is None or isinstance(value, Decimal), (
                        f"{where}: {item.participant_key}: {name} {value!r} is not a Decimal"
                    )
                assert isinstance(item.achieved, bool)
            got = Counter(p.participant_key for p in outcome.progress)
            expected = Counter(p.key for p in inputs.participants)
            assert got == expected, (
                f"{where}: progress is for {sorted(got.elements())}, expected each of "
                f"{sorted(expected)} exactly once"
            )
            achieved = {p.participant_key for p in outcome.progress if p.achieved}
            unmarked = sorted({g.participant_key for g in outcome.grants} - achieved)
            assert not unmarked, f"{where}: granted but not achieved in progress: {unmarked}"


def _build(rule_type: RuleClass, params: Mapping[str, Any]) -> RuleType[Any]:
    """Validate ``params`` and build the rule, as the engine does when it loads a program."""
    return rule_type(rule_type.Params.model_validate(params))


def _same_input(a: RuleInput, b: RuleInput) -> bool:
    return (
        a.period == b.period
        and list(a.participants) == list(b.participants)
        and dict(a.values) == dict(b.values)
    )
