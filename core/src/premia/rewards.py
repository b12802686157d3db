"""Reward specifications shared by rules and the program file.

A reward is fixed (points, a catalog item, a badge) or a rate per unit of the rule's metric
(``rate: {points: 1, per: 100}`` is one point per 100 of the metric). Points computed by
rules are exact Decimals; the engine rounds them to whole points with the program's
``rewards.rounding`` setting.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Rate(BaseModel):
    """``points`` for every ``per`` units of the metric (pro rata, then rounded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    points: Decimal = Field(gt=0, description="Points paid per `per` units.")
    per: Decimal = Field(default=Decimal(1), gt=0, description="Units of the metric.")

    def pay(self, units: Decimal) -> Decimal:
        """Return the exact points for ``units`` of the metric (never below zero).

        A negative metric value (refunds exceeding sales) pays nothing rather than taking
        points: taking points back is the clawback policy's job, through reversals.
        """
        return max(Decimal(0), units * self.points / self.per)


class Reward(BaseModel):
    """What a rule pays: fixed points, a rate, a catalog item and/or a badge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    points: int | None = Field(default=None, ge=0, description="Fixed points.")
    rate: Rate | None = Field(default=None, description="Points per unit of the metric.")
    item: str | None = Field(default=None, description="SKU of a catalog item to send.")
    badge: str | None = Field(default=None, description="Name of a badge to award.")

    @model_validator(mode="after")
    def _one_kind_of_points(self) -> Reward:
        if self.points is not None and self.rate is not None:
            raise ValueError("give either `points` or `rate`, not both")
        if self.points is None and self.rate is None and self.item is None and self.badge is None:
            raise ValueError("a reward needs at least one of points, rate, item, badge")
        return self

    def pay(self, units: Decimal) -> Decimal:
        """Return the exact points this reward pays for a metric value of ``units``."""
        if self.rate is not None:
            return self.rate.pay(units)
        return Decimal(self.points or 0)

    def describe(self) -> str:
        """Return a short human description, e.g. ``500 points + badge Ace``."""
        parts: list[str] = []
        if self.points:
            parts.append(plural(self.points, "point"))
        if self.rate is not None:
            parts.append(f"{plural(self.rate.points, 'point')} per {self.rate.per}")
        if self.item:
            parts.append(f"item {self.item}")
        if self.badge:
            parts.append(f"badge {self.badge}")
        return " + ".join(parts) or "nothing"


def plural(count: int | Decimal, word: str) -> str:
    """Return ``1 point``, ``2 points``, ``1.5 points``."""
    return f"{count} {word}" + ("" if count == 1 else "s")


class Rounding(StrEnum):
    """How rate rewards become whole points (a program setting, ``rewards.rounding``)."""

    DOWN = "down"
    """Drop the fraction (the default: never pay a point that was not fully earned)."""
    HALF_UP = "half_up"
    """Round to nearest; .5 goes up."""
    HALF_EVEN = "half_even"
    """Round to nearest; .5 goes to the even neighbour (banker's rounding)."""
    UP = "up"
    """Any fraction pays a whole point."""

    def apply(self, points: Decimal) -> int:
        """Return ``points`` rounded to a whole number under this policy."""
        mode = {
            Rounding.DOWN: ROUND_FLOOR if points < 0 else ROUND_DOWN,
            Rounding.HALF_UP: ROUND_HALF_UP,
            Rounding.HALF_EVEN: ROUND_HALF_EVEN,
            Rounding.UP: ROUND_CEILING,
        }[self]
        return int(points.quantize(Decimal(1), rounding=mode))
