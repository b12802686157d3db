from __future__ import annotations

import pytest

from premia import OrderRequest, OrderResult, OrderStatus, ProviderError, RedemptionRefused
from premia_rewards_catalog import LocalCatalog

from .conftest import MakeProvider, inventory, order


def test_same_key_twice_is_one_order_and_one_unit(provider: LocalCatalog) -> None:
    first = provider.submit_order(order("k-1"))
    again = provider.submit_order(order("k-1"))

    assert first == OrderResult("LC-000001", OrderStatus.FULFILLED, first.detail)
    assert again == first
    assert len(provider.orders()) == 1
    assert inventory(provider)["DINNER"] == 2  # 3 in the catalog, 1 ordered once


def test_two_keys_are_two_orders(provider: LocalCatalog) -> None:
    a = provider.submit_order(order("k-1"))
    b = provider.submit_order(order("k-2"))

    assert (a.provider_order_id, b.provider_order_id) == ("LC-000001", "LC-000002")
    assert len(provider.orders()) == 2
    assert inventory(provider)["DINNER"] == 1


def test_quantity_takes_that_many_units(provider: LocalCatalog) -> None:
    provider.submit_order(order("k-1", quantity=2))
    assert inventory(provider)["DINNER"] == 1


def test_unlimited_items_stay_unlimited(provider: LocalCatalog) -> None:
    provider.submit_order(order("k-1", "GC-25", 5, points=12500))
    assert inventory(provider)["GC-25"] is None


def test_auto_fulfilled_order_says_what_it_is(provider: LocalCatalog) -> None:
    result = provider.submit_order(order("k-1", quantity=2))
    assert result.detail == "fulfilled from the local catalog: 2 x Team dinner (DINNER)"


@pytest.mark.parametrize(
    "reused",
    [
        order("k-1", "GC-25"),
        order("k-1", quantity=2),
        order("k-1", participant="bob@example.com"),
    ],
    ids=["other-sku", "other-quantity", "other-participant"],
)
def test_key_reused_for_another_request_is_refused(
    provider: LocalCatalog, reused: OrderRequest
) -> None:
    provider.submit_order(order("k-1"))
    with pytest.raises(ProviderError, match="cannot be reused") as caught:
        provider.submit_order(reused)

    assert caught.value.retryable is False
    assert len(provider.orders()) == 1
    assert inventory(provider)["DINNER"] == 2


def test_region_name_or_points_may_differ_on_a_retry(provider: LocalCatalog) -> None:
    first = provider.submit_order(order("k-1", region="East"))
    assert provider.submit_order(order("k-1", region="West", points=1)) == first


def test_replay_returns_the_order_as_it_is_now(make_provider: MakeProvider) -> None:
    provider = make_provider(auto_fulfil=False)
    placed = provider.submit_order(order("k-1"))
    provider.cancel_order(placed.provider_order_id)

    replay = provider.submit_order(order("k-1"))

    assert replay.provider_order_id == placed.provider_order_id
    assert replay.status is OrderStatus.CANCELLED
    assert len(provider.orders()) == 1
    assert inventory(provider)["DINNER"] == 3  # the cancel gave the unit back; no new order


def test_replay_succeeds_even_when_the_item_is_now_sold_out(provider: LocalCatalog) -> None:
    first = provider.submit_order(order("k-1", "LAST-ONE", points=100))
    with pytest.raises(RedemptionRefused):
        provider.submit_order(order("k-2", "LAST-ONE", points=100))
    assert provider.submit_order(order("k-1", "LAST-ONE", points=100)) == first


def test_empty_key_is_refused(provider: LocalCatalog) -> None:
    with pytest.raises(ProviderError, match="idempotency key") as caught:
        provider.submit_order(order(""))
    assert caught.value.retryable is False
    assert provider.orders() == []
