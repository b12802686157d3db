"""Payloads of the event hooks. Frozen: a hook implementation reads them, never changes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AchievementUnlocked:
    """A participant earned a grant.

    Attributes:
        program: the program name.
        grant_key: the grant's unique key.
        participant_key: who earned it.
        rule: the rule name.
        period: the period label.
        points: whole points credited (0 for an item or badge only).
        item: catalog SKU sent, if any.
        badge: badge awarded, if any.
        reason: why, in one line.
    """

    program: str
    grant_key: str
    participant_key: str
    rule: str
    period: str
    points: int
    item: str | None
    badge: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class RewardFulfilled:
    """A provider delivered an order.

    Attributes:
        program: the program name.
        order_key: the order's idempotency key.
        participant_key: the recipient.
        sku: the item.
        provider: the provider name.
        provider_order_id: the provider's id for the order.
    """

    program: str
    order_key: str
    participant_key: str
    sku: str
    provider: str
    provider_order_id: str


@dataclass(frozen=True, slots=True)
class RewardFailed:
    """An order failed for good; its points were refunded.

    Attributes:
        program: the program name.
        order_key: the order's idempotency key.
        participant_key: the recipient.
        sku: the item.
        provider: the provider name.
        reason: what the provider said.
    """

    program: str
    order_key: str
    participant_key: str
    sku: str
    provider: str
    reason: str


@dataclass(frozen=True, slots=True)
class SyncFinished:
    """A sync ended.

    Attributes:
        program: the program name.
        run_id: the sync run's id in the store.
        started_at: timezone-aware start.
        finished_at: timezone-aware end.
        complete: False when a source stopped early (quota, error): no reward was paid from
            partial data of that source.
        facts_changed: facts inserted or updated.
        bad_records: records quarantined.
        grants: new grants.
        reversals: grants reversed.
        errors: one line per source that failed.
    """

    program: str
    run_id: int
    started_at: datetime
    finished_at: datetime
    complete: bool
    facts_changed: int
    bad_records: int
    grants: int
    reversals: int
    errors: list[str] = field(default_factory=list)
