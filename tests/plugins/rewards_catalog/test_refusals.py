from __future__ import annotations

import pytest

from premia import RedemptionRefused
from premia_rewards_catalog import LocalCatalog

from .conftest import inventory, order


def _unchanged(provider: LocalCatalog, before: dict[str, int | None], orders: int) -> None:
    assert inventory(provider) == before
    assert len(provider.orders()) == orders


def test_out_of_stock_is_refused_and_changes_nothing(provider: LocalCatalog) -> None:
    provider.submit_order(order("k-1", "LAST-ONE", points=100))
    before = inventory(provider)
    assert before["LAST-ONE"] == 0

    with pytest.raises(RedemptionRefused, match=r"The last one \(LAST-ONE\) is out of stock"):
        provider.submit_order(order("k-2", "LAST-ONE", points=100))

    _unchanged(provider, before, 1)


def test_asking_for_more_than_is_left_is_refused(provider: LocalCatalog) -> None:
    before = inventory(provider)
    with pytest.raises(RedemptionRefused, match="only 3 left, 4 asked"):
        provider.submit_order(order("k-1", quantity=4))
    _unchanged(provider, before, 0)


def test_region_not_served_is_refused(provider: LocalCatalog) -> None:
    before = inventory(provider)
    with pytest.raises(RedemptionRefused, match="not available to region 'West'") as caught:
        provider.submit_order(order("k-1", "HEADPHONES", region="West", points=30000))
    assert "offered in: Central, East" in str(caught.value)
    _unchanged(provider, before, 0)


def test_participant_without_region_cannot_get_a_regional_item(provider: LocalCatalog) -> None:
    with pytest.raises(RedemptionRefused, match="without a region"):
        provider.submit_order(order("k-1", "HEADPHONES", region=None, points=30000))
    assert provider.orders() == []


def test_region_served_is_accepted(provider: LocalCatalog) -> None:
    provider.submit_order(order("k-1", "HEADPHONES", region="Central", points=30000))
    assert inventory(provider)["HEADPHONES"] == 1


def test_item_without_regions_goes_everywhere(provider: LocalCatalog) -> None:
    provider.submit_order(order("k-1", "GC-25", region=None, points=2500))
    provider.submit_order(order("k-2", "GC-25", region="Mars", points=2500))
    assert len(provider.orders()) == 2


def test_unknown_sku_is_refused(provider: LocalCatalog) -> None:
    before = inventory(provider)
    with pytest.raises(RedemptionRefused, match="unknown SKU 'GC-1000'"):
        provider.submit_order(order("k-1", "GC-1000"))
    _unchanged(provider, before, 0)


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_below_one_is_refused(provider: LocalCatalog, quantity: int) -> None:
    with pytest.raises(RedemptionRefused, match="at least 1"):
        provider.submit_order(order("k-1", quantity=quantity))
    assert provider.orders() == []


def test_a_refused_key_may_succeed_later(provider: LocalCatalog) -> None:
    # A refusal records nothing, so the key is still free.
    with pytest.raises(RedemptionRefused):
        provider.submit_order(order("k-1", quantity=4))
    result = provider.submit_order(order("k-1", quantity=3))
    assert result.provider_order_id == "LC-000001"
    assert inventory(provider)["DINNER"] == 0
