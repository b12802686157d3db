"""The local rewards catalog passes the SDK's provider contract kit, in both modes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from premia import OrderRequest, ProviderContext, ProviderError
from premia_rewards_catalog import LocalCatalog, LocalCatalogSettings
from premia_sdk.testing import ProviderContract

CATALOG = """\
items:
  - sku: GC-25
    name: "$25 gift card"
    kind: gift_card
    points: 2500
    value: "25.00"
    currency: USD
  - sku: DINNER
    name: Team dinner
    kind: experience
    points: 15000
    inventory: 3
    regions: [East, West]
"""


class TestLocalCatalogContract(ProviderContract):
    @pytest.fixture(params=[True, False], ids=["auto-fulfil", "manual"])
    def provider_factory(
        self, request: pytest.FixtureRequest, tmp_path: Path, provider_context: ProviderContext
    ) -> Callable[[], LocalCatalog]:
        (tmp_path / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
        settings = LocalCatalogSettings(catalog=Path("catalog.yaml"), auto_fulfil=request.param)
        return lambda: LocalCatalog(settings, provider_context)

    @pytest.fixture
    def orderable_request(self) -> OrderRequest:
        return OrderRequest(
            idempotency_key="contract-order-1",
            sku="DINNER",
            quantity=1,
            participant_key="ana@example.com",
            participant_name="Ana Silva",
            region="East",
            points=15000,
        )

    @pytest.fixture(params=["unknown-sku", "other-region", "out-of-stock"])
    def refused_request(
        self, request: pytest.FixtureRequest, orderable_request: OrderRequest
    ) -> OrderRequest:
        changes: dict[str, Any] = {
            "unknown-sku": {"sku": "NO-SUCH-SKU"},
            "other-region": {"region": "Central"},
            "out-of-stock": {"quantity": 4},
        }[request.param]
        return dataclasses.replace(orderable_request, idempotency_key="refused", **changes)

    @pytest.fixture
    def vendor_orders(
        self, provider_factory: Callable[[], LocalCatalog]
    ) -> Callable[[], list[str]]:
        def orders() -> list[str]:
            provider = provider_factory()
            try:
                return [o.provider_order_id for o in provider.orders()]
            finally:
                provider.close()

        return orders

    @pytest.fixture
    def fail_next_submit_after_create(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> Callable[[LocalCatalog], None]:
        """The order is stored, then the caller sees a failure (as a 5xx after the commit)."""

        def arm(provider: LocalCatalog) -> None:
            submit = provider.submit_order

            def submit_then_fail(order: OrderRequest) -> object:
                monkeypatch.setattr(provider, "submit_order", submit)
                submit(order)
                raise ProviderError("simulated: connection lost after the commit")

            monkeypatch.setattr(provider, "submit_order", submit_then_fail)

        return arm
