"""The contract suite of reward fulfillment providers."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from premia import (
    CatalogItem,
    OrderRequest,
    OrderResult,
    OrderStatus,
    ProviderError,
    RedemptionRefused,
    RewardProvider,
)
from premia.plugins import Registry

ProviderFactory = Callable[[], RewardProvider[Any]]
"""What a provider author's ``provider_factory`` fixture returns: a new provider per call."""

_LATER: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.SUBMITTED: frozenset(
        {OrderStatus.SUBMITTED, OrderStatus.FULFILLED, OrderStatus.FAILED}
    ),
    OrderStatus.FULFILLED: frozenset({OrderStatus.FULFILLED}),
}
"""What ``order_status`` may say right after a submit returned the key's status."""


class ProviderContract:
    """The contract every reward provider keeps, as tests a plugin's test class inherits.

    Subclass it in a test module under a name pytest collects and provide the fixtures
    below::

        from premia_sdk.testing import ProviderContract

        class TestAcmeRewards(ProviderContract):
            @pytest.fixture
            def provider_factory(self, provider_context, recorded_http):
                recorded_http.load("cassettes/acme-rewards.json")
                settings = AcmeRewardsSettings(api_key="test-key")
                return lambda: AcmeRewards(settings, provider_context)

            @pytest.fixture
            def orderable_request(self):
                return OrderRequest("contract-1", "GC-25", 1, "ana@example.com", "Ana", None, 2500)

            ...  # vendor_orders, fail_next_submit_after_create

    Fixtures you provide (in the class, the module or a ``conftest.py``):

    ``provider_factory`` -> ``Callable[[], premia.RewardProvider]``
        Returns a **new** provider instance on each call, over the same vendor state (the
        same state file, the same fake vendor or cassette): a retry may come from another
        process. The kit closes every provider it builds.
    ``orderable_request`` -> ``premia.OrderRequest``
        An order the provider accepts; its SKU must be in ``catalog()``. The kit submits it
        as it is, idempotency key included (so a cassette may match on the key); every test
        gets fresh fixtures, so the vendor state should start empty in each.
    ``vendor_orders`` -> ``Callable[[], Collection[str]]``
        Returns the provider order ids of every order that exists *at the vendor* now (for
        a local store, its orders; for an HTTP vendor, the orders your fake vendor or
        cassette created). The kit compares it before and after to count orders.
    ``fail_next_submit_after_create`` -> ``Callable[[premia.RewardProvider], None]``
        Arms a failure: the next ``submit_order`` on the given provider must fail *after*
        the vendor created the order (for an HTTP provider, a ``recorded_http`` interaction
        that answers 5xx once, ``times: 1``, layered over the success; for a local store,
        wrap ``submit_order`` to raise a retryable :class:`premia.ProviderError` after the
        real call). The kit then submits the same request again from a new instance, as the
        engine does on retry, and asserts exactly one order exists.

    Fixtures you may override (in the class):

    ``refused_request`` -> ``premia.OrderRequest``
        An order the provider must refuse with :class:`premia.RedemptionRefused` (default:
        ``orderable_request`` with the unknown SKU ``PREMIA-CONTRACT-NO-SUCH-SKU`` and the
        idempotency key ``<orderable key>-refused``).

    Class attributes you may set:

    ``supports_cancel``
        ``True``: cancelling a just-submitted order must succeed; ``False``: it must raise
        a non-retryable :class:`premia.ProviderError`; ``None`` (default): either.
    ``check_registration``
        Check that an installed plugin registers the provider type (default True).

    What the kit checks: the type declares ``type_name`` and a pydantic ``Settings`` and is
    registered; ``catalog()`` returns :class:`premia.CatalogItem` objects with unique SKUs,
    whole non-negative points, Decimal values and sane inventory; the same idempotency key
    submitted twice, and again from a new instance, is one order (same
    ``provider_order_id``, one new order at the vendor); ``order_status`` agrees with what
    the submit returned; ``cancel_order`` cancels or raises a non-retryable
    :class:`premia.ProviderError`; a failure after the vendor created the order is
    retryable and the retry yields that same order, never a second one; a refused order
    raises :class:`premia.RedemptionRefused` and changes neither the vendor's orders nor the
    catalog.
    """

    pytestmark = [pytest.mark.premia_contract]

    supports_cancel: ClassVar[bool | None] = None
    check_registration: ClassVar[bool] = True

    @pytest.fixture
    def refused_request(self, orderable_request: OrderRequest) -> OrderRequest:
        """An order the provider must refuse (default: an unknown SKU)."""
        return dataclasses.replace(
            orderable_request,
            sku="PREMIA-CONTRACT-NO-SUCH-SKU",
            idempotency_key=f"{orderable_request.idempotency_key}-refused",
        )

    @pytest.fixture
    def premia_make_provider(self, provider_factory: ProviderFactory) -> Iterator[ProviderFactory]:
        """Build providers with the author's factory and close them all after the test."""
        made: list[RewardProvider[Any]] = []

        def make() -> RewardProvider[Any]:
            provider = provider_factory()
            made.append(provider)
            return provider

        yield make
        for provider in made:
            provider.close()

    # -- the type ------------------------------------------------------------------------
    def test_declares_type_name_and_settings(self, premia_make_provider: ProviderFactory) -> None:
        """The class names its ``type_name`` and a pydantic ``Settings`` the instance uses."""
        provider = premia_make_provider()
        cls = type(provider)
        assert isinstance(provider, RewardProvider), (
            f"{cls.__name__} does not subclass premia.RewardProvider"
        )
        type_name = getattr(cls, "type_name", None)
        assert isinstance(type_name, str), f"{cls.__name__}.type_name is not set"
        assert type_name.strip(), f"{cls.__name__}.type_name is empty"
        settings_cls = getattr(cls, "Settings", None)
        assert isinstance(settings_cls, type), f"{cls.__name__}.Settings is not set"
        assert issubclass(settings_cls, BaseModel), (
            f"{cls.__name__}.Settings is not a pydantic model"
        )
        assert isinstance(provider.settings, settings_cls)
        settings_cls.model_json_schema()

    def test_registered_by_an_installed_plugin(
        self, premia_make_provider: ProviderFactory, premia_registry: Registry
    ) -> None:
        """An installed plugin registers the class under its ``type_name``."""
        if not self.check_registration:
            pytest.skip("check_registration is False")
        cls = type(premia_make_provider())
        registered = premia_registry.providers.get(cls.type_name)
        assert registered is cls, (
            f"no installed plugin registers {cls.__name__} as provider type "
            f"{cls.type_name!r} (registered: {registered!r}); is the package installed with "
            "an entry point in the `premia` group?"
        )

    # -- catalog -------------------------------------------------------------------------
    def test_catalog_lists_catalog_items(
        self, premia_make_provider: ProviderFactory, orderable_request: OrderRequest
    ) -> None:
        """``catalog()`` returns well-formed items with unique SKUs, the orderable one too."""
        items = premia_make_provider().catalog()
        assert isinstance(items, list), f"catalog() returned a {type(items).__name__}"
        assert items, "catalog() is empty; give the provider at least the orderable item"
        for item in items:
            _check_item(item)
        skus = [i.sku for i in items]
        doubled = sorted(s for s, c in Counter(skus).items() if c > 1)
        assert not doubled, f"catalog() lists SKUs twice: {doubled}"
        assert orderable_request.sku in skus, (
            f"orderable_request's SKU {orderable_request.sku!r} is not in catalog(): {skus}"
        )

    # -- orders --------------------------------------------------------------------------
    def test_same_idempotency_key_twice_is_one_order(
        self,
        premia_make_provider: ProviderFactory,
        orderable_request: OrderRequest,
        vendor_orders: Callable[[], Collection[str]],
    ) -> None:
        """The same key twice, and again from a new instance, is one order at the vendor."""
        before = set(vendor_orders())
        provider = premia_make_provider()
        first = provider.submit_order(orderable_request)
        _check_result(first, "the first submit")
        assert first.status in (OrderStatus.SUBMITTED, OrderStatus.FULFILLED), (
            f"a new order is {first.status.value}; an accepted order is submitted or fulfilled "
            "(refuse with RedemptionRefused instead)"
        )
        again = provider.submit_order(orderable_request)
        later = premia_make_provider().submit_order(orderable_request)
        assert again.provider_order_id == first.provider_order_id, (
            f"the same idempotency key gave orders {first.provider_order_id!r} and "
            f"{again.provider_order_id!r}"
        )
        assert later.provider_order_id == first.provider_order_id, (
            "the same idempotency key from a new provider instance gave order "
            f"{later.provider_order_id!r}, not {first.provider_order_id!r}"
        )
        created = set(vendor_orders()) - before
        assert created == {first.provider_order_id}, (
            f"three submits of one key left {sorted(created)} as new orders at the vendor; "
            f"expected only {first.provider_order_id!r}"
        )

    def test_order_status_is_consistent_with_submit(
        self, premia_make_provider: ProviderFactory, orderable_request: OrderRequest
    ) -> None:
        """``order_status`` of a new order names it and agrees with the submit's status."""
        placed = premia_make_provider().submit_order(orderable_request)
        _check_result(placed, "submit_order")
        status = premia_make_provider().order_status(placed.provider_order_id)
        _check_result(status, "order_status")
        assert status.provider_order_id == placed.provider_order_id
        allowed = _LATER.get(placed.status, frozenset({placed.status}))
        assert status.status in allowed, (
            f"submit_order said {placed.status.value}, then order_status said {status.status.value}"
        )

    def test_cancel_is_supported_or_refused_cleanly(
        self, premia_make_provider: ProviderFactory, orderable_request: OrderRequest
    ) -> None:
        """``cancel_order`` cancels, or raises a non-retryable ProviderError and changes nothing."""
        provider = premia_make_provider()
        placed = provider.submit_order(orderable_request)
        order_id = placed.provider_order_id
        before = provider.order_status(order_id)
        refusal: ProviderError | None = None
        try:
            cancelled = provider.cancel_order(order_id)
        except ProviderError as exc:
            refusal = exc
        if refusal is not None:
            assert refusal.retryable is False, (
                f"cancel_order refused with a retryable ProviderError ({refusal}); a refusal "
                "that will not change must say retryable=False"
            )
            assert self.supports_cancel is not True, (
                f"supports_cancel is True, but cancelling a new order failed: {refusal}"
            )
            after = provider.order_status(order_id)
            assert after.status == before.status, "a refused cancel changed the order's status"
            return
        assert self.supports_cancel is not False, (
            "supports_cancel is False, but cancel_order did not raise ProviderError"
        )
        _check_result(cancelled, "cancel_order")
        assert cancelled.provider_order_id == order_id
        assert cancelled.status is OrderStatus.CANCELLED, (
            f"cancel_order returned {cancelled.status.value}, not cancelled"
        )
        status = premia_make_provider().order_status(order_id)
        assert status.status is OrderStatus.CANCELLED, (
            f"after cancel_order, order_status says {status.status.value}"
        )

    def test_failure_after_vendor_created_order_does_not_duplicate(
        self,
        premia_make_provider: ProviderFactory,
        orderable_request: OrderRequest,
        vendor_orders: Callable[[], Collection[str]],
        fail_next_submit_after_create: Callable[[RewardProvider[Any]], None],
    ) -> None:
        """A 5xx after the vendor created the order, then a retry: exactly one order."""
        before = set(vendor_orders())
        provider = premia_make_provider()
        fail_next_submit_after_create(provider)
        first: OrderResult | None = None
        failure: ProviderError | None = None
        try:
            first = provider.submit_order(orderable_request)
        except ProviderError as exc:
            failure = exc
        assert failure is None or failure.retryable, (
            f"a failure after the vendor may have created the order raised a non-retryable "
            f"ProviderError ({failure}); the engine would refund the points of an order that "
            "exists. It must be retryable (the idempotency key makes the retry safe)."
        )
        retry = premia_make_provider().submit_order(orderable_request)
        _check_result(retry, "the retried submit")
        if first is not None:
            assert first.provider_order_id == retry.provider_order_id, (
                f"the retry placed order {retry.provider_order_id!r}, the first submit "
                f"returned {first.provider_order_id!r}"
            )
        created = set(vendor_orders()) - before
        assert created == {retry.provider_order_id}, (
            f"after a failure and a retry the vendor has new orders {sorted(created)}; "
            f"expected exactly {retry.provider_order_id!r}"
        )

    def test_refusal_changes_nothing(
        self,
        premia_make_provider: ProviderFactory,
        refused_request: OrderRequest,
        vendor_orders: Callable[[], Collection[str]],
    ) -> None:
        """A refused order raises RedemptionRefused and leaves orders and catalog as they were."""
        provider = premia_make_provider()
        orders_before = set(vendor_orders())
        catalog_before = provider.catalog()
        with pytest.raises(RedemptionRefused) as refused:
            provider.submit_order(refused_request)
        assert str(refused.value).strip(), "RedemptionRefused without a message"
        assert set(vendor_orders()) == orders_before, "a refused order created an order"
        assert premia_make_provider().catalog() == catalog_before, (
            "a refused order changed the catalog"
        )


def _check_result(result: object, what: str) -> None:
    assert isinstance(result, OrderResult), f"{what} returned a {type(result).__name__}"
    assert isinstance(result.provider_order_id, str), f"{what}: provider_order_id is not text"
    assert result.provider_order_id.strip(), f"{what} returned no provider_order_id"
    assert isinstance(result.status, OrderStatus), (
        f"{what} returned status {result.status!r}, not a premia.OrderStatus"
    )


def _check_item(item: object) -> None:
    assert isinstance(item, CatalogItem), f"catalog() lists a {type(item).__name__}"
    sku = item.sku
    assert isinstance(sku, str), f"an item has the SKU {sku!r}, not text"
    assert sku.strip(), "an item has an empty SKU"
    assert isinstance(item.name, str), f"{sku}: the name is not text"
    assert item.name.strip(), f"{sku}: no name"
    assert isinstance(item.kind, str), f"{sku}: the kind is not text"
    assert item.kind.strip(), f"{sku}: no kind"
    assert isinstance(item.points, int), f"{sku}: points {item.points!r} is not a whole number"
    assert not isinstance(item.points, bool), f"{sku}: points is a bool"
    assert item.points >= 0, f"{sku}: negative points {item.points}"
    if item.value is not None:
        assert isinstance(item.value, Decimal), f"{sku}: value is a {type(item.value).__name__}"
        assert item.currency, f"{sku}: a value without a currency"
    if item.inventory is not None:
        assert isinstance(item.inventory, int), f"{sku}: inventory is not a whole number"
        assert item.inventory >= 0, f"{sku}: negative inventory {item.inventory}"
    if item.regions is not None:
        assert isinstance(item.regions, frozenset), f"{sku}: regions is not a frozenset"
