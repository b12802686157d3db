from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from premia import OrderRequest, ProviderContext
from premia_rewards_catalog import LocalCatalog, LocalCatalogSettings

CATALOG = """
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
  - sku: HEADPHONES
    name: Noise-cancelling headphones
    kind: merchandise
    points: 30000
    inventory: 2
    regions: [Central, East]
  - sku: LAST-ONE
    name: The last one
    kind: merchandise
    points: 100
    inventory: 1
  - sku: TOP-CLOSER
    name: Top Closer
    kind: badge
    points: 0
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def order(
    key: str,
    sku: str = "DINNER",
    quantity: int = 1,
    *,
    participant: str = "ana@example.com",
    region: str | None = "East",
    points: int = 15000,
) -> OrderRequest:
    return OrderRequest(
        idempotency_key=key,
        sku=sku,
        quantity=quantity,
        participant_key=participant,
        participant_name="Ana Silva",
        region=region,
        points=points,
    )


def inventory(provider: LocalCatalog) -> dict[str, int | None]:
    return {item.sku: item.inventory for item in provider.catalog()}


MakeProvider = Callable[..., LocalCatalog]


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    return write(tmp_path / "catalog.yaml", CATALOG)


@pytest.fixture
def make_provider(tmp_path: Path, catalog_file: Path) -> Iterator[MakeProvider]:
    """Build providers on the test's catalog; every one is closed after the test."""
    made: list[LocalCatalog] = []

    def make(name: str = "catalog", **settings: object) -> LocalCatalog:
        settings.setdefault("catalog", catalog_file.name)
        provider = LocalCatalog(
            LocalCatalogSettings.model_validate(settings),
            ProviderContext(provider_name=name, base_dir=tmp_path),
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.fixture
def provider(make_provider: MakeProvider) -> LocalCatalog:
    return make_provider()
