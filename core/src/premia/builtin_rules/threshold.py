"""``threshold``: pay once the metric reaches a target (``metric >= target``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from premia.rewards import Reward
from premia.rules import GrantSpec, Progress, RuleInput, RuleOutcome, RuleType


class ThresholdParams(BaseModel):
    """Parameters of a ``threshold`` rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: Decimal = Field(description="The metric value to reach (inclusive).")
    reward: Reward = Field(description="Paid once per period when the target is reached.")


class ThresholdRule(RuleType[ThresholdParams]):
    """Pays ``reward`` when the metric value is at least ``target``.

    A rate reward pays on the whole metric value. An undefined value (e.g. a ratio under its
    minimum denominator) never reaches the target.
    """

    type_name = "threshold"
    Params = ThresholdParams

    def evaluate(self, inputs: RuleInput) -> RuleOutcome:
        """Return progress towards the target and a grant for everyone who reached it."""
        target = self.params.target
        reward = self.params.reward
        progress: list[Progress] = []
        grants: list[GrantSpec] = []
        for person in inputs.participants:
            value = inputs.values.get(person.key)
            achieved = value is not None and value >= target
            remaining = Decimal(0) if achieved else (target - value if value is not None else None)
            if achieved:
                assert value is not None
                grants.append(
                    GrantSpec(
                        participant_key=person.key,
                        step="achieved",
                        points=reward.pay(value),
                        item=reward.item,
                        badge=reward.badge,
                        reason=f"{value} >= {target}",
                    )
                )
                note = f"target {target} reached: {reward.describe()}"
            elif value is None:
                note = "not measurable yet this period"
            else:
                note = f"{remaining} more to reach {target} ({reward.describe()})"
            progress.append(Progress(person.key, value, target, remaining, achieved, note=note))
        return RuleOutcome(progress, grants)
