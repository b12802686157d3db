"""``rewards_catalog``: a reward provider that fulfils orders from a local catalog file."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from premia import (
    CatalogItem,
    OrderRequest,
    OrderResult,
    OrderStatus,
    ProviderContext,
    ProviderError,
    RedemptionRefused,
    RewardProvider,
)
from premia_rewards_catalog.catalog_file import Catalog, load_catalog
from premia_rewards_catalog.settings import LocalCatalogSettings
from premia_rewards_catalog.store import StateStore, StateTransaction, StoredOrder

_FileStamp = tuple[int, int, int]


class LocalCatalog(RewardProvider[LocalCatalogSettings]):
    """Rewards from a YAML catalog the company keeps itself; orders in a SQLite file.

    The catalog file says what is on offer and how many units exist; the state file records
    every order, so what is left is the catalog's ``inventory`` minus the units of orders
    not cancelled or failed. The catalog file is validated when the provider is created and
    read again whenever it changes on disk.

    Orders are idempotent on their key, across instances and processes sharing the state
    file: a key seen before returns its order as it now is and never takes stock twice. A
    key reused for a different SKU, quantity or participant is refused with a
    non-retryable :class:`premia.ProviderError` (it is a bug in the caller, and returning
    the other order would deliver the wrong thing).

    With ``auto_fulfil`` (the default) an order is ``fulfilled`` as soon as it is accepted.
    Without it, an order stays ``submitted`` until :meth:`fulfil` (or :meth:`fail`) is
    called, and may be cancelled until then.

    Args:
        settings: the provider's settings.
        context: the provider's name and the program's folder.

    Raises:
        premia.ConfigError: the catalog file is missing or wrong.
    """

    type_name = "rewards_catalog"
    Settings = LocalCatalogSettings

    def __init__(self, settings: LocalCatalogSettings, context: ProviderContext):
        super().__init__(settings, context)
        self.catalog_path: Path = settings.catalog_path(context)
        """The catalog file."""
        self.state_path: Path = settings.state_path(context)
        """The SQLite state file."""
        self.store = StateStore(self.state_path)
        """The orders (opened on first use)."""
        self._catalog_lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._catalog_stamp: _FileStamp | None = None
        self.items()

    # -- the catalog ---------------------------------------------------------------------
    def items(self) -> Catalog:
        """Return the catalog file's items as declared (inventory = total stock).

        The file is read again if it changed since the last call.

        Raises:
            premia.ConfigError: the catalog file is missing or wrong.
        """
        with self._catalog_lock:
            stamp = _stamp(self.catalog_path)
            if self._catalog is None or stamp is None or stamp != self._catalog_stamp:
                self._catalog = load_catalog(self.catalog_path)
                self._catalog_stamp = stamp
            return self._catalog

    def catalog(self) -> list[CatalogItem]:
        """List the items on offer; ``inventory`` is the number of units left.

        Items without an ``inventory`` in the catalog file are unlimited (``None``). An item
        whose catalog inventory was lowered below the units already ordered shows 0.

        Raises:
            premia.ConfigError: the catalog file is missing or wrong.
            premia.ProviderError: the state file could not be read.
        """
        items = self.items()
        held = self.store.units_held()
        return [
            item
            if item.inventory is None
            else replace(item, inventory=max(item.inventory - held.get(item.sku, 0), 0))
            for item in items
        ]

    # -- orders --------------------------------------------------------------------------
    def submit_order(self, order: OrderRequest) -> OrderResult:
        """Place ``order``; idempotent on ``order.idempotency_key``.

        The key is looked up, the stock checked and the order recorded in one transaction
        that holds the state file's write lock, so neither a retry nor another process can
        take the same units twice.

        Returns:
            A new order (``fulfilled``, or ``submitted`` without ``auto_fulfil``), or the
            order first placed with this key, with its current status.

        Raises:
            premia.RedemptionRefused: unknown SKU, quantity below 1, not offered in
                ``order.region``, or not enough units left. Nothing is recorded.
            premia.ProviderError: the key was used before for another SKU, quantity or
                participant (not retryable); the state file failed (retryable when busy).
        """
        if not order.idempotency_key:
            raise ProviderError("an order needs a non-empty idempotency key", retryable=False)
        catalog = self.items()
        with self.store.write() as tx:
            existing = tx.order_by_key(order.idempotency_key)
            if existing is not None:
                _check_same_request(existing, order)
                return existing.result()
            item = self._orderable(catalog, order, tx)
            summary = f"{order.quantity} x {item.name} ({item.sku})"
            if self.settings.auto_fulfil:
                status, detail = (
                    OrderStatus.FULFILLED,
                    f"fulfilled from the local catalog: {summary}",
                )
            else:
                status, detail = OrderStatus.SUBMITTED, f"awaiting manual fulfilment: {summary}"
            stored = tx.insert_order(order, status, detail)
        return stored.result()

    def _orderable(
        self, catalog: Catalog, order: OrderRequest, tx: StateTransaction
    ) -> CatalogItem:
        """Return the item ``order`` asks for, or raise why it cannot be had."""
        item = catalog.get(order.sku)
        if item is None:
            raise RedemptionRefused(
                f"unknown SKU {order.sku!r}: the catalog {self.catalog_path.name} has no such item"
            )
        label = f"{item.name} ({item.sku})"
        if order.quantity < 1:
            raise RedemptionRefused(f"{label}: quantity must be at least 1, got {order.quantity}")
        if not item.available_in(order.region):
            offered = ", ".join(sorted(item.regions or ()))
            where = f"region {order.region!r}" if order.region else "participants without a region"
            raise RedemptionRefused(f"{label} is not available to {where}; offered in: {offered}")
        if item.inventory is not None:
            left = max(item.inventory - tx.units_held(item.sku), 0)
            if order.quantity > left:
                raise RedemptionRefused(
                    f"{label} is out of stock"
                    if left == 0
                    else f"{label}: only {left} left, {order.quantity} asked"
                )
        return item

    def order_status(self, provider_order_id: str) -> OrderResult:
        """Return the current status of an order.

        Raises:
            premia.ProviderError: no such order in the state file (not retryable).
        """
        stored = self.store.order(provider_order_id)
        if stored is None:
            raise self._unknown(provider_order_id)
        return stored.result()

    def cancel_order(self, provider_order_id: str) -> OrderResult:
        """Cancel a ``submitted`` order; its units go back to the inventory.

        Cancelling an order that is already cancelled or failed returns it unchanged.

        Raises:
            premia.ProviderError: unknown order, or the order is already fulfilled (neither
                retryable).
        """
        with self.store.write() as tx:
            stored = self._get(tx, provider_order_id)
            if stored.status in (OrderStatus.CANCELLED, OrderStatus.FAILED):
                return stored.result()
            if stored.status is OrderStatus.FULFILLED:
                raise ProviderError(
                    f"order {provider_order_id} is already fulfilled and cannot be cancelled",
                    retryable=False,
                )
            stored = tx.set_status(stored, OrderStatus.CANCELLED, "cancelled before fulfilment")
        return stored.result()

    def fulfil(self, provider_order_id: str, detail: str = "") -> OrderResult:
        """Mark a ``submitted`` order delivered (manual mode).

        Fulfilling an order that is already fulfilled returns it unchanged.

        Args:
            provider_order_id: the order.
            detail: a note for the record (e.g. a tracking number); never a secret.

        Raises:
            premia.ProviderError: unknown order, or it was cancelled or failed (neither
                retryable).
        """
        with self.store.write() as tx:
            stored = self._get(tx, provider_order_id)
            if stored.status is OrderStatus.FULFILLED:
                return stored.result()
            if stored.status is not OrderStatus.SUBMITTED:
                raise ProviderError(
                    f"order {provider_order_id} is {stored.status.value} and cannot be fulfilled",
                    retryable=False,
                )
            stored = tx.set_status(stored, OrderStatus.FULFILLED, detail or "fulfilled manually")
        return stored.result()

    def fail(self, provider_order_id: str, reason: str) -> OrderResult:
        """Mark a ``submitted`` order as failed (manual mode): it cannot be delivered.

        Its units go back to the inventory; the engine refunds the points. Failing an order
        that already failed returns it unchanged.

        Args:
            provider_order_id: the order.
            reason: why, for the participant and the record; never a secret.

        Raises:
            premia.ProviderError: unknown order, or it was fulfilled or cancelled (neither
                retryable).
        """
        with self.store.write() as tx:
            stored = self._get(tx, provider_order_id)
            if stored.status is OrderStatus.FAILED:
                return stored.result()
            if stored.status is not OrderStatus.SUBMITTED:
                raise ProviderError(
                    f"order {provider_order_id} is {stored.status.value} and cannot fail",
                    retryable=False,
                )
            stored = tx.set_status(stored, OrderStatus.FAILED, reason or "failed")
        return stored.result()

    def orders(self, status: OrderStatus | None = None) -> list[StoredOrder]:
        """Return the orders in the state file, oldest first, optionally of one status.

        ``orders(OrderStatus.SUBMITTED)`` is the work list of manual mode.
        """
        everything = self.store.orders()
        return everything if status is None else [o for o in everything if o.status is status]

    def close(self) -> None:
        """Close the state file (it is opened again if the provider is used afterwards)."""
        self.store.close()

    def _get(self, tx: StateTransaction, provider_order_id: str) -> StoredOrder:
        stored = tx.order_by_id(provider_order_id)
        if stored is None:
            raise self._unknown(provider_order_id)
        return stored

    def _unknown(self, provider_order_id: str) -> ProviderError:
        return ProviderError(
            f"unknown order {provider_order_id!r}: the state file {self.state_path} has no such "
            "order",
            retryable=False,
        )


def _check_same_request(existing: StoredOrder, order: OrderRequest) -> None:
    """Refuse a known idempotency key that now comes with a different request."""
    before = (existing.sku, existing.quantity, existing.participant_key)
    now = (order.sku, order.quantity, order.participant_key)
    if before != now:
        what = "another participant" if before[2] != now[2] else f"{order.quantity} x {order.sku}"
        raise ProviderError(
            f"idempotency key {order.idempotency_key!r} was used for order "
            f"{existing.provider_order_id} ({existing.quantity} x {existing.sku}); it cannot "
            f"be reused for {what}",
            retryable=False,
        )


def _stamp(path: Path) -> _FileStamp | None:
    """Return what identifies the file's current content cheaply, or None if unreadable."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
