"""HttpRewardProvider: an order is placed at most once, whatever fails in between."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import respx
from pydantic import BaseModel

import premia
from premia_sdk import HttpClient, HttpRewardProvider, RetryPolicy, response_json

VENDOR = "https://rewards.example.test"


class FakeVendor:
    """An order API that does NOT deduplicate on the idempotency header (the worst case).

    ``script`` lists what the next POSTs do: ``ok``, ``created-then-502``,
    ``created-then-timeout``, ``connect-error``, ``503``, ``409``, ``out-of-stock``.
    """

    def __init__(self, *script: str):
        self.script = list(script)
        self.orders: list[dict[str, Any]] = []
        self.posts: list[httpx.Request] = []
        self.lookups = 0
        self._ids = itertools.count(1)

    def post(self, request: httpx.Request) -> httpx.Response:
        self.posts.append(request)
        step = self.script.pop(0) if self.script else "ok"
        if step == "connect-error":
            raise httpx.ConnectError("connection refused")
        if step in ("503", "409"):
            return httpx.Response(int(step), json={"message": "nope"})
        if step == "out-of-stock":
            return httpx.Response(400, json={"code": "OUT_OF_STOCK", "message": "sold out"})
        body = json.loads(request.content)
        order = {"id": f"ord-{next(self._ids)}", "reference": body["reference"], "sku": body["sku"]}
        self.orders.append(order)
        if step == "created-then-502":
            return httpx.Response(502, text="Bad Gateway")
        if step == "created-then-timeout":
            raise httpx.ReadTimeout("read timed out")
        return httpx.Response(201, json=order)

    def find(self, request: httpx.Request) -> httpx.Response:
        self.lookups += 1
        key = request.url.params["reference"]
        return httpx.Response(200, json=[o for o in self.orders if o["reference"] == key])


class VendorSettings(BaseModel):
    base_url: str = VENDOR


class Vendor(HttpRewardProvider[VendorSettings]):
    type_name = "testvendor"
    Settings = VendorSettings
    fake_time: ClassVar[Any] = None

    def build_client(self) -> HttpClient:
        return HttpClient(
            self.base_url(),
            plugin_name="premia-testvendor",
            retry=RetryPolicy(max_attempts=4, jitter=0),
            sleep=self.fake_time.sleep,
            clock=self.fake_time.monotonic,
        )

    def catalog(self) -> list[premia.CatalogItem]:
        items = self.request_json("GET", "/catalog")
        return [premia.CatalogItem(i["sku"], i["name"], "gift_card", i["points"]) for i in items]

    def submit_order(self, order: premia.OrderRequest) -> premia.OrderResult:
        body = {"sku": order.sku, "quantity": order.quantity, "reference": order.idempotency_key}
        return self.idempotent_post("/orders", body, order.idempotency_key)

    def order_status(self, provider_order_id: str) -> premia.OrderResult:
        data = self.request_json("GET", f"/orders/{provider_order_id}")
        return premia.OrderResult(data["id"], premia.OrderStatus(data["status"]))

    def parse_order(self, response: httpx.Response) -> premia.OrderResult:
        return premia.OrderResult(response_json(response)["id"], premia.OrderStatus.SUBMITTED)

    def find_order(self, idempotency_key: str) -> premia.OrderResult | None:
        found = self.client().get_json("/orders", params={"reference": idempotency_key})
        return premia.OrderResult(found[0]["id"], premia.OrderStatus.SUBMITTED) if found else None

    def refusal_reason(self, response: httpx.Response) -> str | None:
        body = response_json(response)
        return "out of stock" if body.get("code") == "OUT_OF_STOCK" else None


ORDER = premia.OrderRequest(
    idempotency_key="grant:q2:ana:tier1",
    sku="GIFT-25",
    quantity=1,
    participant_key="ana@example.com",
    participant_name="Ana",
    region="EU",
    points=0,
)


@pytest.fixture
def vendor_api() -> Iterator[Callable[..., FakeVendor]]:
    with respx.mock:

        def install(*script: str) -> FakeVendor:
            vendor = FakeVendor(*script)
            respx.post(f"{VENDOR}/orders").mock(side_effect=vendor.post)
            respx.get(f"{VENDOR}/orders").mock(side_effect=vendor.find)
            return vendor

        yield install


@pytest.fixture
def make_vendor(fake_time: Any, tmp_path: Path) -> Iterator[Callable[[], Vendor]]:
    made: list[Vendor] = []

    def make() -> Vendor:
        Vendor.fake_time = fake_time
        provider = Vendor(VendorSettings(), premia.ProviderContext("gifts", tmp_path))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.mark.parametrize("failure", ["created-then-502", "created-then-timeout"])
def test_a_5xx_after_the_order_was_created_never_makes_a_second_order(
    vendor_api: Callable[..., FakeVendor],
    make_vendor: Callable[[], Vendor],
    fake_time: Any,
    failure: str,
) -> None:
    vendor = vendor_api(failure)
    result = make_vendor().submit_order(ORDER)
    assert result == premia.OrderResult("ord-1", premia.OrderStatus.SUBMITTED)
    assert len(vendor.orders) == 1
    assert len(vendor.posts) == 1
    assert vendor.lookups == 2  # before the POST, and after the ambiguous failure
    assert fake_time.sleeps == [0.5]
    assert vendor.posts[0].headers["Idempotency-Key"] == ORDER.idempotency_key


def test_without_lookup_first_the_ambiguous_failure_is_still_looked_up(
    vendor_api: Callable[..., FakeVendor],
    make_vendor: Callable[[], Vendor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Vendor, "lookup_before_post", False)
    vendor = vendor_api("created-then-502")
    assert make_vendor().submit_order(ORDER).provider_order_id == "ord-1"
    assert (len(vendor.orders), len(vendor.posts), vendor.lookups) == (1, 1, 1)


def test_a_request_that_never_left_is_sent_again_without_lookup(
    vendor_api: Callable[..., FakeVendor],
    make_vendor: Callable[[], Vendor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Vendor, "lookup_before_post", False)
    vendor = vendor_api("connect-error")
    assert make_vendor().submit_order(ORDER).provider_order_id == "ord-1"
    assert (len(vendor.orders), len(vendor.posts), vendor.lookups) == (1, 2, 0)


def test_submitting_a_key_again_returns_the_existing_order(
    vendor_api: Callable[..., FakeVendor], make_vendor: Callable[[], Vendor]
) -> None:
    vendor = vendor_api()
    first = make_vendor().submit_order(ORDER)
    again = make_vendor().submit_order(ORDER)  # e.g. the next drain after a crash
    assert first == again
    assert len(vendor.orders) == 1


def test_a_conflict_is_a_permanent_provider_error(
    vendor_api: Callable[..., FakeVendor], make_vendor: Callable[[], Vendor]
) -> None:
    vendor_api("409")
    with pytest.raises(premia.ProviderError, match="409 Conflict") as info:
        make_vendor().submit_order(ORDER)
    assert info.value.retryable is False


def test_a_recognised_refusal_is_a_redemption_refused(
    vendor_api: Callable[..., FakeVendor], make_vendor: Callable[[], Vendor]
) -> None:
    vendor_api("out-of-stock")
    with pytest.raises(premia.RedemptionRefused, match="out of stock"):
        make_vendor().submit_order(ORDER)


def test_an_outage_leaves_the_order_for_the_next_drain(
    vendor_api: Callable[..., FakeVendor], make_vendor: Callable[[], Vendor], fake_time: Any
) -> None:
    vendor = vendor_api("503", "503", "503", "503")
    with pytest.raises(premia.ProviderError, match="503") as info:
        make_vendor().submit_order(ORDER)
    assert info.value.retryable is True
    assert vendor.orders == []
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


def test_helpers_raise_the_contract_errors(
    vendor_api: Callable[..., FakeVendor], make_vendor: Callable[[], Vendor]
) -> None:
    vendor_api()
    respx.get(f"{VENDOR}/catalog").mock(return_value=httpx.Response(401))
    with pytest.raises(premia.ProviderError, match="credentials were refused") as info:
        make_vendor().catalog()
    assert info.value.retryable is True
    respx.get(f"{VENDOR}/orders/ord-9").mock(return_value=httpx.Response(404))
    with pytest.raises(premia.ProviderError, match="404"):
        make_vendor().order_status("ord-9")


def test_a_custom_idempotency_header(
    vendor_api: Callable[..., FakeVendor],
    make_vendor: Callable[[], Vendor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Vendor, "idempotency_header", "X-Request-Id")
    vendor = vendor_api()
    make_vendor().submit_order(ORDER)
    assert vendor.posts[0].headers["X-Request-Id"] == ORDER.idempotency_key
    assert "Idempotency-Key" not in vendor.posts[0].headers


def test_find_order_must_be_implemented(tmp_path: Path, fake_time: Any) -> None:
    class Lazy(Vendor):
        find_order = HttpRewardProvider.find_order

    Vendor.fake_time = fake_time
    with pytest.raises(NotImplementedError, match="placed twice"):
        Lazy(VendorSettings(), premia.ProviderContext("g", tmp_path)).submit_order(ORDER)
