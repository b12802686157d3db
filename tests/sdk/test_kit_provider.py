"""ProviderContract passes a sound provider and catches each kind of flawed one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest_plugins = ["pytester"]

FAKE_PROVIDER = '''
from decimal import Decimal

import pytest
from pydantic import BaseModel

import premia
from premia import CatalogItem, OrderResult, OrderStatus, ProviderError, RedemptionRefused
from premia_sdk.testing import ProviderContract


class FakeSettings(BaseModel):
    api_key: str = "key"


class Vendor:
    """The vendor's side: the orders it holds, by id and by idempotency key."""

    def __init__(self):
        self.orders = {}
        self.by_key = {}
        self.fail_next = False

    def create(self, key, sku):
        order_id = f"ord-{len(self.orders) + 1}"
        self.orders[order_id] = {"sku": sku, "status": OrderStatus.SUBMITTED}
        self.by_key[key] = order_id
        return order_id


class FakeProvider(premia.RewardProvider[FakeSettings]):
    type_name = "fake_rewards"
    Settings = FakeSettings
    flaws = frozenset()

    def __init__(self, settings, context, vendor):
        super().__init__(settings, context)
        self.vendor = vendor

    def catalog(self):
        value = 25.0 if "float_value" in self.flaws else Decimal("25.00")
        items = [CatalogItem("GC-25", "$25 gift card", "gift_card", 2500, value, "USD")]
        if "duplicate_sku" in self.flaws:
            items = items * 2
        return items

    def submit_order(self, order):
        if order.sku != "GC-25":
            if "refusal_records" in self.flaws:
                self.vendor.create(order.idempotency_key, order.sku)
            if "refuses_with_provider_error" in self.flaws:
                raise ProviderError("unknown sku", retryable=False)
            raise RedemptionRefused(f"unknown SKU {order.sku!r}")
        key = order.idempotency_key
        if "key_per_instance" in self.flaws:
            key = f"{key}-{id(self)}"
        if key not in self.vendor.by_key or "ignores_key" in self.flaws:
            self.vendor.create(key, order.sku)
        order_id = self.vendor.by_key[key]
        if self.vendor.fail_next:
            self.vendor.fail_next = False
            retryable = "nonretryable_5xx" not in self.flaws
            raise ProviderError("502 Bad Gateway", retryable=retryable)
        return OrderResult(order_id, self.vendor.orders[order_id]["status"])

    def order_status(self, provider_order_id):
        if "status_lies" in self.flaws:
            return OrderResult(provider_order_id, OrderStatus.CANCELLED)
        return OrderResult(provider_order_id, self.vendor.orders[provider_order_id]["status"])

    def cancel_order(self, provider_order_id):
        if "cancel_retryable" in self.flaws:
            raise ProviderError("try again later")
        if "cannot_cancel" in self.flaws:
            raise ProviderError("cancelling is not supported", retryable=False)
        self.vendor.orders[provider_order_id]["status"] = OrderStatus.CANCELLED
        return OrderResult(provider_order_id, OrderStatus.CANCELLED)


class FakeContract(ProviderContract):
    check_registration = False
    flaws = frozenset()

    @pytest.fixture
    def vendor(self):
        return Vendor()

    @pytest.fixture
    def provider_factory(self, vendor, provider_context):
        cls = type("Flawed", (FakeProvider,), {"flaws": frozenset(self.flaws)})
        return lambda: cls(FakeSettings(), provider_context, vendor)

    @pytest.fixture
    def orderable_request(self):
        return premia.OrderRequest("key-1", "GC-25", 1, "ana@example.com", "Ana", None, 2500)

    @pytest.fixture
    def vendor_orders(self, vendor):
        return lambda: list(vendor.orders)

    @pytest.fixture
    def fail_next_submit_after_create(self, vendor):
        def arm(provider):
            vendor.fail_next = True

        return arm
'''

ALL_TESTS = {
    "test_declares_type_name_and_settings",
    "test_registered_by_an_installed_plugin",
    "test_catalog_lists_catalog_items",
    "test_same_idempotency_key_twice_is_one_order",
    "test_order_status_is_consistent_with_submit",
    "test_cancel_is_supported_or_refused_cleanly",
    "test_failure_after_vendor_created_order_does_not_duplicate",
    "test_refusal_changes_nothing",
}

Outcomes = dict[str, tuple[str, str]]


@pytest.fixture
def run_contract(contract_runner: Any) -> Callable[[str], Outcomes]:
    """Run a test module against the fake provider; return {test name: (outcome, report)}."""
    run: Callable[[str], Outcomes] = contract_runner("fake_provider", FAKE_PROVIDER)
    return run


def _flawed(flaws: set[str], **attributes: object) -> str:
    extra = "".join(f"    {k} = {v!r}\n" for k, v in attributes.items())
    return f"""
from fake_provider import FakeContract

class TestFlawed(FakeContract):
    flaws = {flaws!r}
{extra}"""


def test_a_sound_provider_passes_every_check(run_contract: Callable[[str], Outcomes]) -> None:
    outcomes = run_contract(_flawed(set()))
    assert set(outcomes) == ALL_TESTS
    failed = {name: text for name, (outcome, text) in outcomes.items() if outcome == "failed"}
    assert not failed


@pytest.mark.parametrize(
    ("flaw", "caught_by", "says"),
    [
        ("duplicate_sku", "test_catalog_lists_catalog_items", "SKUs twice"),
        ("float_value", "test_catalog_lists_catalog_items", "value is a float"),
        ("ignores_key", "test_same_idempotency_key_twice_is_one_order", "gave orders"),
        ("key_per_instance", "test_same_idempotency_key_twice_is_one_order", "new provider"),
        ("key_per_instance", "test_failure_after_vendor_created_order_does_not_duplicate", "ord-"),
        ("status_lies", "test_order_status_is_consistent_with_submit", "order_status said"),
        ("cancel_retryable", "test_cancel_is_supported_or_refused_cleanly", "retryable"),
        (
            "nonretryable_5xx",
            "test_failure_after_vendor_created_order_does_not_duplicate",
            "non-retryable",
        ),
        ("refusal_records", "test_refusal_changes_nothing", "created an order"),
        ("refuses_with_provider_error", "test_refusal_changes_nothing", "ProviderError"),
    ],
)
def test_each_flaw_is_caught(
    run_contract: Callable[[str], Outcomes], flaw: str, caught_by: str, says: str
) -> None:
    outcome, report = run_contract(_flawed({flaw}))[caught_by]
    assert outcome == "failed", f"{flaw} was not caught by {caught_by}"
    assert says in report


@pytest.mark.parametrize(
    ("flaws", "supports_cancel", "outcome"),
    [
        (set(), True, "passed"),
        (set(), False, "failed"),
        ({"cannot_cancel"}, None, "passed"),
        ({"cannot_cancel"}, False, "passed"),
        ({"cannot_cancel"}, True, "failed"),
    ],
)
def test_supports_cancel_is_enforced_when_declared(
    run_contract: Callable[[str], Outcomes],
    flaws: set[str],
    supports_cancel: bool | None,
    outcome: str,
) -> None:
    outcomes = run_contract(_flawed(flaws, supports_cancel=supports_cancel))
    assert outcomes["test_cancel_is_supported_or_refused_cleanly"][0] == outcome
