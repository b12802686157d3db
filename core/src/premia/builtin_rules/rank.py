"""``rank``: reward the top N by the metric, overall or within each value of an attribute.

Example: the top closer per region is ``top: 1`` with ``within: region``.

Ranking is by metric value, highest first (``order: asc`` ranks lowest first). Participants
whose value is undefined, or not above ``min_value`` (default 0, so nobody wins a ranking with
nothing), are not ranked. Ties are broken deterministically by participant key in ascending
order (the key is the email where known): two participants with the same value get
consecutive ranks, the one with the smaller key first. Every rank is unique, so "top 1" pays
exactly one participant per group.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from premia.rewards import Reward
from premia.rules import GrantSpec, Progress, RuleInput, RuleOutcome, RuleType


class RankOrder(StrEnum):
    """Which end of the ranking wins."""

    DESC = "desc"
    ASC = "asc"


class RankParams(BaseModel):
    """Parameters of a ``rank`` rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    top: int = Field(default=1, ge=1, description="How many places pay.")
    within: str | None = Field(
        default=None, description="Rank separately within each value of this roster attribute."
    )
    order: RankOrder = RankOrder.DESC
    min_value: Decimal = Field(
        default=Decimal(0),
        description="Only values above this are ranked (below it for `order: asc`).",
    )
    reward: Reward | None = Field(default=None, description="Paid to every paying place.")
    rewards: list[Reward] | None = Field(
        default=None, description="One reward per place (1st, 2nd...), instead of `reward`."
    )

    @model_validator(mode="after")
    def _rewards(self) -> RankParams:
        if (self.reward is None) == (self.rewards is None):
            raise ValueError("give either `reward` or `rewards` (one per place)")
        if self.rewards is not None and len(self.rewards) != self.top:
            raise ValueError(f"`rewards` lists {len(self.rewards)} places but `top` is {self.top}")
        return self

    def reward_for(self, rank: int) -> Reward:
        """Return the reward of place ``rank`` (1-based)."""
        if self.rewards is not None:
            return self.rewards[rank - 1]
        assert self.reward is not None
        return self.reward


class RankRule(RuleType[RankParams]):
    """Pays the best ``top`` participants of each group."""

    type_name = "rank"
    Params = RankParams
    attribute_params = ("within",)

    def evaluate(self, inputs: RuleInput) -> RuleOutcome:
        """Rank each group and pay its top places; progress shows the gap to the last paid place."""
        p = self.params
        desc = p.order is RankOrder.DESC
        groups: dict[str | None, list[tuple[str, Decimal]]] = defaultdict(list)
        group_of: dict[str, str | None] = {}
        for person in inputs.participants:
            group = person.attributes.get(p.within) if p.within else None
            group_of[person.key] = group
            value = inputs.values.get(person.key)
            if value is None or (value <= p.min_value if desc else value >= p.min_value):
                continue
            groups[group].append((person.key, value))
        ranks: dict[str, int] = {}
        cutoff: dict[str | None, Decimal] = {}
        for group, members in groups.items():
            members.sort(key=lambda kv: (-kv[1] if desc else kv[1], kv[0]))
            for position, (key, _value) in enumerate(members, start=1):
                ranks[key] = position
            if members:
                cutoff[group] = members[min(p.top, len(members)) - 1][1]
        progress: list[Progress] = []
        grants: list[GrantSpec] = []
        for person in inputs.participants:
            key = person.key
            value = inputs.values.get(key)
            rank = ranks.get(key)
            group = group_of[key]
            where = f" in {p.within} {group}" if p.within else ""
            paid = rank is not None and rank <= p.top
            target = cutoff.get(group)
            if paid:
                assert rank is not None
                assert value is not None
                reward = p.reward_for(rank)
                grants.append(
                    GrantSpec(
                        key,
                        f"rank-{rank}",
                        reward.pay(value),
                        item=reward.item,
                        badge=reward.badge,
                        reason=f"ranked #{rank}{where} with {value}",
                    )
                )
                remaining: Decimal | None = Decimal(0)
                note = f"#{rank}{where}: {reward.describe()}"
            elif value is None or target is None:
                remaining = None
                note = f"not ranked{where}"
            else:
                remaining = abs(target - value)
                note = (
                    f"#{rank}{where}; {remaining} to reach the paid places"
                    if rank
                    else (f"not ranked{where}")
                )
            progress.append(Progress(key, value, target, remaining, paid, rank=rank, note=note))
        return RuleOutcome(progress, grants)
