from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from premia import ConfigError, OrderStatus, ProviderContext
from premia_rewards_catalog import LocalCatalog, LocalCatalogSettings

from .conftest import CATALOG, MakeProvider, inventory, order, write


def test_state_survives_a_new_instance(make_provider: MakeProvider, tmp_path: Path) -> None:
    first = make_provider()
    placed = first.submit_order(order("k-1"))
    first.close()  # as if the process ended

    second = make_provider()

    assert second.order_status(placed.provider_order_id) == placed
    assert inventory(second)["DINNER"] == 2
    assert second.submit_order(order("k-1")) == placed  # the rerun finds its order
    assert len(second.orders()) == 1
    assert second.submit_order(order("k-2")).provider_order_id == "LC-000002"
    assert (tmp_path / ".premia" / "catalog-catalog.sqlite").is_file()


def test_crash_before_the_answer_reaches_the_caller(
    make_provider: MakeProvider,
) -> None:
    # The order was committed but the caller died before it saw the result: it retries
    # with the same key from a fresh process and must get the same order back.
    make_provider().submit_order(order("k-1", quantity=3))
    rerun = make_provider()
    assert rerun.submit_order(order("k-1", quantity=3)).provider_order_id == "LC-000001"
    assert inventory(rerun)["DINNER"] == 0


def test_manual_order_can_be_fulfilled_by_another_instance(make_provider: MakeProvider) -> None:
    placed = make_provider(auto_fulfil=False).submit_order(order("k-1"))
    operator = make_provider(auto_fulfil=False)
    assert operator.fulfil(placed.provider_order_id).status is OrderStatus.FULFILLED


def test_providers_with_different_names_keep_separate_state(make_provider: MakeProvider) -> None:
    make_provider("east").submit_order(order("k-1"))
    west = make_provider("west")
    assert inventory(west)["DINNER"] == 3
    assert west.orders() == []


def test_catalog_inventory_change_keeps_the_units_ordered(
    make_provider: MakeProvider, catalog_file: Path
) -> None:
    provider = make_provider()
    provider.submit_order(order("k-1", quantity=2))
    assert inventory(provider)["DINNER"] == 1

    write(catalog_file, CATALOG.replace("inventory: 3", "inventory: 10"))
    assert inventory(provider)["DINNER"] == 8  # read again on change: 10 - 2
    assert inventory(make_provider())["DINNER"] == 8

    write(catalog_file, CATALOG.replace("inventory: 3", "inventory: 1"))
    assert inventory(provider)["DINNER"] == 0  # lowered below what was ordered: none left


def test_broken_catalog_edit_is_reported(make_provider: MakeProvider, catalog_file: Path) -> None:
    provider = make_provider()
    write(catalog_file, CATALOG.replace("points: 15000", "points: -1"))
    with pytest.raises(ConfigError, match=r"items\[1\]\.points"):
        provider.catalog()


def test_missing_catalog_fails_at_creation(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="catalog file not found"):
        LocalCatalog(
            LocalCatalogSettings.model_validate({"catalog": "missing.yaml"}),
            ProviderContext(provider_name="c", base_dir=tmp_path),
        )


def test_state_setting_puts_the_file_there(make_provider: MakeProvider, tmp_path: Path) -> None:
    provider = make_provider(state="var/orders.sqlite")
    provider.submit_order(order("k-1"))
    path = tmp_path / "var" / "orders.sqlite"
    assert provider.state_path == path
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT provider_order_id, idempotency_key FROM orders").fetchall() == [
            ("LC-000001", "k-1")
        ]
    conn.close()


def test_a_file_that_is_not_a_database_is_a_config_error(
    make_provider: MakeProvider, tmp_path: Path
) -> None:
    (tmp_path / "junk.sqlite").write_text("this is not sqlite " * 100)
    provider = make_provider(state="junk.sqlite")
    with pytest.raises(ConfigError, match=r"junk\.sqlite"):
        provider.catalog()


def test_nothing_is_written_before_first_use(make_provider: MakeProvider, tmp_path: Path) -> None:
    make_provider()
    assert not (tmp_path / ".premia").exists()
