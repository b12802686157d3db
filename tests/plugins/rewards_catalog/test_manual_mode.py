from __future__ import annotations

from datetime import timedelta

import pytest

from premia import OrderStatus, ProviderError
from premia_rewards_catalog import LocalCatalog

from .conftest import MakeProvider, inventory, order


@pytest.fixture
def manual(make_provider: MakeProvider) -> LocalCatalog:
    return make_provider(auto_fulfil=False)


def test_order_waits_as_submitted_then_is_fulfilled(manual: LocalCatalog) -> None:
    placed = manual.submit_order(order("k-1"))
    assert placed.status is OrderStatus.SUBMITTED
    assert placed.detail == "awaiting manual fulfilment: 1 x Team dinner (DINNER)"
    assert manual.order_status(placed.provider_order_id).status is OrderStatus.SUBMITTED
    assert [o.provider_order_id for o in manual.orders(OrderStatus.SUBMITTED)] == ["LC-000001"]
    assert inventory(manual)["DINNER"] == 2  # a submitted order holds its unit

    done = manual.fulfil(placed.provider_order_id, "booked for Friday")

    assert done.status is OrderStatus.FULFILLED
    assert done.detail == "booked for Friday"
    assert manual.order_status(placed.provider_order_id) == done
    assert manual.orders(OrderStatus.SUBMITTED) == []
    assert inventory(manual)["DINNER"] == 2
    assert manual.fulfil(placed.provider_order_id) == done  # fulfilling twice is harmless


def test_cancel_restores_inventory(manual: LocalCatalog) -> None:
    placed = manual.submit_order(order("k-1", quantity=2))
    assert inventory(manual)["DINNER"] == 1

    cancelled = manual.cancel_order(placed.provider_order_id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert manual.order_status(placed.provider_order_id).status is OrderStatus.CANCELLED
    assert inventory(manual)["DINNER"] == 3
    assert manual.cancel_order(placed.provider_order_id) == cancelled  # idempotent


def test_cancel_after_fulfilled_is_refused(manual: LocalCatalog) -> None:
    placed = manual.submit_order(order("k-1"))
    manual.fulfil(placed.provider_order_id)

    with pytest.raises(ProviderError, match="already fulfilled") as caught:
        manual.cancel_order(placed.provider_order_id)

    assert caught.value.retryable is False
    assert manual.order_status(placed.provider_order_id).status is OrderStatus.FULFILLED
    assert inventory(manual)["DINNER"] == 2


def test_auto_fulfilled_orders_cannot_be_cancelled(provider: LocalCatalog) -> None:
    placed = provider.submit_order(order("k-1"))
    with pytest.raises(ProviderError) as caught:
        provider.cancel_order(placed.provider_order_id)
    assert caught.value.retryable is False


def test_cancelled_order_cannot_be_fulfilled(manual: LocalCatalog) -> None:
    placed = manual.submit_order(order("k-1"))
    manual.cancel_order(placed.provider_order_id)
    with pytest.raises(ProviderError, match="is cancelled and cannot be fulfilled") as caught:
        manual.fulfil(placed.provider_order_id)
    assert caught.value.retryable is False


def test_fail_gives_the_units_back(manual: LocalCatalog) -> None:
    placed = manual.submit_order(order("k-1"))
    failed = manual.fail(placed.provider_order_id, "restaurant closed")

    assert failed.status is OrderStatus.FAILED
    assert failed.detail == "restaurant closed"
    assert inventory(manual)["DINNER"] == 3
    assert manual.cancel_order(placed.provider_order_id) == failed  # nothing left to cancel
    with pytest.raises(ProviderError):
        manual.fulfil(placed.provider_order_id)


def test_unknown_order_ids(manual: LocalCatalog) -> None:
    for call in (manual.order_status, manual.cancel_order, manual.fulfil):
        with pytest.raises(ProviderError, match="unknown order 'LC-999999'") as caught:
            call("LC-999999")
        assert caught.value.retryable is False


def test_every_status_change_is_recorded_with_utc_times(manual: LocalCatalog) -> None:
    placed = manual.submit_order(order("k-1"))
    manual.fulfil(placed.provider_order_id, "delivered")

    events = manual.store.events(placed.provider_order_id)
    assert [(e.status, e.detail) for e in events] == [
        (OrderStatus.SUBMITTED, "awaiting manual fulfilment: 1 x Team dinner (DINNER)"),
        (OrderStatus.FULFILLED, "delivered"),
    ]
    assert all(e.at.utcoffset() == timedelta(0) for e in events)
    (stored,) = manual.orders()
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.updated_at >= stored.created_at
    assert (stored.participant_key, stored.region, stored.points) == (
        "ana@example.com",
        "East",
        15000,
    )
