"""``every``: a micro-reward for each full ``every`` units of the metric (10 points per won deal).

Step ``k`` (step-1, step-2...) is earned when the metric reaches ``k * every``. Each step is its
own grant, so a fact change that lowers the metric reverses exactly the steps it undoes.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from premia.rewards import Reward, plural
from premia.rules import GrantSpec, Progress, RuleInput, RuleOutcome, RuleType


class EveryParams(BaseModel):
    """Parameters of an ``every`` rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: Decimal = Field(default=Decimal(1), gt=0, description="Units per step.")
    reward: Reward = Field(description="Paid for each step (fixed points, item or badge).")
    max_steps: int | None = Field(default=None, ge=1, description="Cap on steps per period.")

    @model_validator(mode="after")
    def _fixed(self) -> EveryParams:
        if self.reward.rate is not None:
            raise ValueError(
                "an `every` rule pays fixed rewards per step; use `threshold` with a rate"
            )
        return self


class EveryRule(RuleType[EveryParams]):
    """Pays ``reward`` once for each full ``every`` units."""

    type_name = "every"
    Params = EveryParams

    def evaluate(self, inputs: RuleInput) -> RuleOutcome:
        """Return one grant per completed step and the distance to the next step."""
        p = self.params
        progress: list[Progress] = []
        grants: list[GrantSpec] = []
        for person in inputs.participants:
            value = inputs.values.get(person.key)
            steps = int(value // p.every) if value is not None and value > 0 else 0
            if p.max_steps is not None:
                steps = min(steps, p.max_steps)
            for step in range(1, steps + 1):
                grants.append(
                    GrantSpec(
                        person.key,
                        f"step-{step}",
                        p.reward.pay(value or Decimal(0)),
                        item=p.reward.item,
                        badge=p.reward.badge,
                        reason=f"step {step}: {step * p.every} reached",
                    )
                )
            capped = p.max_steps is not None and steps >= p.max_steps
            if value is None:
                target, remaining, note = p.every, None, "not measurable yet this period"
            elif capped:
                target, remaining = p.every * steps, Decimal(0)
                note = f"all {plural(steps, 'step')} earned"
            else:
                target = p.every * (steps + 1)
                remaining = target - value
                note = (
                    f"{plural(steps, 'step')} earned; {remaining} more for the next "
                    f"({p.reward.describe()})"
                )
            progress.append(Progress(person.key, value, target, remaining, steps > 0, note=note))
        return RuleOutcome(progress, grants)
