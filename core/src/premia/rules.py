"""The rule-evaluator contract.

A rule type is a pure function of its inputs: the metric values of the eligible participants
for one period -> progress per participant and the grants earned. No I/O, no clock, no
randomness: the same inputs always give the same outcome. Built-in types (``threshold``,
``tiered``, ``rank``, ``every``) are registered through the same hook as third-party ones.

The engine handles what is common to every rule: the segment, the period, the ``gate``
option, rounding of points and reconciling grants with what was granted before.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel

ParamsT = TypeVar("ParamsT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class RuleParticipant:
    """A participant as a rule sees it.

    Attributes:
        key: stable participant key (the email where known).
        attributes: roster attributes (name, role, channel, region, manager, ...).
    """

    key: str
    attributes: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class RuleInput:
    """Everything a rule may look at for one period.

    Attributes:
        period: the period label, e.g. ``2017-Q2``.
        participants: the eligible participants (in the rule's segment, past its gate), sorted
            by key.
        values: the rule's metric value per participant key; ``None`` where the metric is
            undefined (e.g. a ratio below its minimum denominator).
    """

    period: str
    participants: Sequence[RuleParticipant]
    values: Mapping[str, Decimal | None]


@dataclass(frozen=True, slots=True)
class GrantSpec:
    """A reward a participant earned.

    Attributes:
        participant_key: who earned it.
        step: what part of the rule it is for (``achieved``, ``tier-2``, ``step-7``, ``rank-1``);
            with the program, rule, participant and period it makes the grant's unique key.
        points: exact points before rounding (the engine rounds with the program's policy).
        item: a catalog SKU to send, if any.
        badge: a badge to award, if any.
        reason: one line saying why, shown by ``premia explain``.
    """

    participant_key: str
    step: str
    points: Decimal = Decimal(0)
    item: str | None = None
    badge: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a participant stands on a rule in a period.

    Attributes:
        participant_key: whose progress.
        value: the metric value (``None`` when undefined).
        target: the next level to reach (the next tier, step or rank cut-off); ``None`` if none.
        remaining: how much is left to reach ``target`` (0 when reached).
        achieved: the rule has paid something this period.
        rank: position within the ranking group, for ranking rules.
        note: one line, e.g. ``3 more won deals to tier 2 (500 points + badge Ace)``.
    """

    participant_key: str
    value: Decimal | None
    target: Decimal | None
    remaining: Decimal | None
    achieved: bool
    rank: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """Progress for every participant of the input and the grants they earned."""

    progress: list[Progress]
    grants: list[GrantSpec]


class RuleType(ABC, Generic[ParamsT]):
    """Base class of a rule type.

    A plugin subclasses it, sets :attr:`type_name` and :attr:`Params`, implements
    :meth:`evaluate` and registers the class through ``premia_register_rules``.

    Args:
        params: the validated parameters (an instance of :attr:`Params`).
    """

    type_name: ClassVar[str]
    """The ``type:`` a program file uses, e.g. ``threshold``."""

    Params: ClassVar[type[BaseModel]]
    """The pydantic model of the rule's own parameters (everything in the rule entry except
    the common keys ``name``, ``type``, ``metric``, ``segment``, ``period``, ``gate``)."""

    attribute_params: ClassVar[tuple[str, ...]] = ()
    """Parameters whose value names a roster attribute (e.g. ``within: region``): the program
    loader refuses a name no participant has, so a typo cannot silently change who is paid."""

    def __init__(self, params: ParamsT):
        self.params = params

    @abstractmethod
    def evaluate(self, inputs: RuleInput) -> RuleOutcome:
        """Return progress for every participant in ``inputs`` and the grants earned.

        Must be deterministic and free of I/O.
        """
