"""The reward-fulfillment contract: what a reward vendor or catalog plugin implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class OrderStatus(StrEnum):
    """The life of an order at a provider."""

    PENDING = "pending"
    """In the outbox, not yet accepted by the provider."""
    SUBMITTED = "submitted"
    """Accepted by the provider, not yet delivered."""
    FULFILLED = "fulfilled"
    """Delivered to the participant."""
    FAILED = "failed"
    """The provider refused or could not deliver it; the points are refunded."""
    CANCELLED = "cancelled"
    """Cancelled before delivery; the points are refunded."""


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """An item participants can redeem points for, or be granted by a rule.

    Attributes:
        sku: the provider's stable identifier.
        name: display name.
        kind: ``gift_card``, ``experience``, ``merchandise``, ``donation`` or ``badge``.
        points: price in points (whole number).
        value: face value in ``currency``, when it has one.
        currency: ISO 4217 code of ``value``.
        inventory: units left; ``None`` means unlimited.
        regions: regions the item may be delivered to; ``None`` means everywhere.
        description: one line for the catalog listing.
    """

    sku: str
    name: str
    kind: str
    points: int
    value: Decimal | None = None
    currency: str | None = None
    inventory: int | None = None
    regions: frozenset[str] | None = None
    description: str = ""

    def available_in(self, region: str | None) -> bool:
        """Return True if the item can be delivered to ``region``."""
        return self.regions is None or (region is not None and region in self.regions)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order to place at a provider.

    Attributes:
        idempotency_key: submitting the same key twice must never create two orders.
        sku: the catalog item.
        quantity: units ordered.
        participant_key: the participant's stable key (the email where known).
        participant_name: for delivery.
        region: the participant's region, for availability and routing.
        points: the points the participant paid (0 for a rule-granted item).
    """

    idempotency_key: str
    sku: str
    quantity: int
    participant_key: str
    participant_name: str
    region: str | None
    points: int


@dataclass(frozen=True, slots=True)
class OrderResult:
    """What a provider says of an order.

    Attributes:
        provider_order_id: the provider's id for the order.
        status: where the order is.
        detail: a human-readable note (never a secret).
    """

    provider_order_id: str
    status: OrderStatus
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What the engine tells a provider about where it runs.

    Attributes:
        provider_name: the name the program gives this provider.
        base_dir: the program file's folder; relative paths resolve against it.
        state_dir: a writable folder for the provider's own state files (``PREMIA_STATE_DIR``;
            by default ``.premia`` in the program's folder). It stays the same from run to run.
    """

    provider_name: str
    base_dir: Path
    state_dir: Path | None = None

    @property
    def state_folder(self) -> Path:
        """Return :attr:`state_dir`, or ``<base_dir>/.premia`` when none was given."""
        return self.state_dir if self.state_dir is not None else self.base_dir / ".premia"


class RewardProvider(ABC, Generic[SettingsT]):
    """Base class of a reward-fulfillment provider type (a catalog, a gift-card vendor...).

    A plugin subclasses it, sets :attr:`type_name` and :attr:`Settings`, and registers the
    class through the ``premia_register_providers`` hook.

    Args:
        settings: the validated settings (an instance of :attr:`Settings`).
        context: where the provider runs.
    """

    type_name: ClassVar[str]
    """The ``type:`` a program file uses to pick this provider."""

    Settings: ClassVar[type[BaseModel]]
    """The pydantic model of the provider's settings. Secrets are ``SecretStr`` fields."""

    def __init__(self, settings: SettingsT, context: ProviderContext):
        self.settings = settings
        self.context = context

    @abstractmethod
    def catalog(self) -> list[CatalogItem]:
        """List the items on offer, with current inventory."""

    @abstractmethod
    def submit_order(self, order: OrderRequest) -> OrderResult:
        """Place ``order``; idempotent on ``order.idempotency_key``.

        Submitting a key the provider has seen returns the existing order unchanged. A key
        reused for a different request (another SKU, quantity or participant) raises a
        non-retryable :class:`~premia.errors.ProviderError`.

        Raises:
            premia.errors.RedemptionRefused: out of stock, not available in the region, unknown
                SKU: the order will never succeed as asked.
            premia.errors.ProviderError: the provider failed; ``retryable`` says whether the
                same request may be sent again.
        """

    @abstractmethod
    def order_status(self, provider_order_id: str) -> OrderResult:
        """Return the current status of an order placed earlier."""

    def cancel_order(self, provider_order_id: str) -> OrderResult:
        """Cancel an order where the provider allows it.

        Raises:
            premia.errors.ProviderError: the provider does not allow cancelling this order.
        """
        from premia.errors import ProviderError

        raise ProviderError(f"{self.type_name} does not support cancelling orders", retryable=False)

    def close(self) -> None:
        """Release connections. Called once when the engine is done with the provider."""
