"""``tiered``: levels of the metric paying increasing rewards, in ``whole`` or ``marginal`` mode.

A value equal to a tier's ``at`` belongs to that tier (boundaries belong to the higher tier).

- ``whole``: the reached tier's reward is what the period pays. Fixed points: the points of the
  highest tier reached (not the sum). A rate: the highest reached tier's rate on the whole
  value. One points grant (step ``whole``) carries the amount; it is adjusted when a later sync
  reaches another tier. Items and badges are granted per tier reached (step ``tier-N``).
- ``marginal``: each tier pays its band, like tax brackets. A rate pays the part of the value
  between this tier's ``at`` and the next tier's ``at`` (the top band is open); fixed points
  are paid once per tier reached. Each band is its own grant (step ``tier-N``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from premia.rewards import Reward
from premia.rules import GrantSpec, Progress, RuleInput, RuleOutcome, RuleType


class TierMode(StrEnum):
    """How a ``tiered`` rule pays (see the module documentation)."""

    WHOLE = "whole"
    MARGINAL = "marginal"


class Tier(BaseModel):
    """One level: from ``at`` (inclusive) up to the next tier's ``at``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Decimal = Field(description="The metric value where this tier starts (inclusive).")
    reward: Reward
    name: str | None = Field(default=None, description="Display name, e.g. Gold.")


class TieredParams(BaseModel):
    """Parameters of a ``tiered`` rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: TierMode = Field(description="`whole` or `marginal`: required, no default.")
    tiers: list[Tier] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _ascending(cls, tiers: list[Tier]) -> list[Tier]:
        for i in range(1, len(tiers)):
            if tiers[i].at <= tiers[i - 1].at:
                raise ValueError(
                    f"tier {i} starts at {tiers[i].at}, not above tier {i - 1} "
                    f"({tiers[i - 1].at}); list tiers in increasing `at`"
                )
        return tiers


class TieredRule(RuleType[TieredParams]):
    """Pays by the highest tier reached (``whole``) or by band (``marginal``)."""

    type_name = "tiered"
    Params = TieredParams

    def evaluate(self, inputs: RuleInput) -> RuleOutcome:
        """Return progress towards the next tier and the grants of the tiers reached."""
        tiers = self.params.tiers
        progress: list[Progress] = []
        grants: list[GrantSpec] = []
        for person in inputs.participants:
            value = inputs.values.get(person.key)
            reached = [i for i, t in enumerate(tiers) if value is not None and value >= t.at]
            top = reached[-1] if reached else None
            if value is not None and reached:
                grants.extend(self._grants(person.key, value, reached))
            nxt = (top + 1) if top is not None else 0
            if value is None:
                target, remaining, note = tiers[0].at, None, "not measurable yet this period"
            elif nxt < len(tiers):
                target = tiers[nxt].at
                remaining = target - value
                note = f"{remaining} more to {_label(tiers, nxt)} ({tiers[nxt].reward.describe()})"
            else:
                target, remaining = tiers[-1].at, Decimal(0)
                note = f"top tier reached ({_label(tiers, len(tiers) - 1)})"
            progress.append(
                Progress(person.key, value, target, remaining, top is not None, note=note)
            )
        return RuleOutcome(progress, grants)

    def _grants(self, key: str, value: Decimal, reached: list[int]) -> list[GrantSpec]:
        tiers = self.params.tiers
        out: list[GrantSpec] = []
        if self.params.mode is TierMode.WHOLE:
            top = tiers[reached[-1]]
            points = top.reward.pay(value)
            if points:
                out.append(
                    GrantSpec(
                        key, "whole", points, reason=f"{value} reached {_label(tiers, reached[-1])}"
                    )
                )
            for i in reached:
                reward = tiers[i].reward
                if reward.item or reward.badge:
                    out.append(
                        GrantSpec(
                            key,
                            f"tier-{i + 1}",
                            Decimal(0),
                            item=reward.item,
                            badge=reward.badge,
                            reason=f"{value} reached {_label(tiers, i)}",
                        )
                    )
            return out
        for i in reached:
            tier = tiers[i]
            upper = tiers[i + 1].at if i + 1 < len(tiers) else None
            band_top = value if upper is None else min(value, upper)
            band = band_top - tier.at
            if tier.reward.rate is not None:
                points = tier.reward.rate.pay(band)
            else:
                points = Decimal(tier.reward.points or 0)
            out.append(
                GrantSpec(
                    key,
                    f"tier-{i + 1}",
                    points,
                    item=tier.reward.item,
                    badge=tier.reward.badge,
                    reason=f"band {tier.at}..{band_top} of {_label(tiers, i)}",
                )
            )
        return out


def _label(tiers: list[Tier], index: int) -> str:
    name = tiers[index].name
    return f"tier {index + 1}" + (f" ({name})" if name else "")
