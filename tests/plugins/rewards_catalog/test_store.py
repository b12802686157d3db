from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from premia import ConfigError, OrderStatus, ProviderError
from premia_rewards_catalog import StateStore

from .conftest import order


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    s = StateStore(tmp_path / "deep" / "state.sqlite", busy_timeout=0.2)
    yield s
    s.close()


def test_a_busy_file_is_a_retryable_provider_error(store: StateStore) -> None:
    store.units_held()  # create the file
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with (
            pytest.raises(ProviderError, match="locked by another writer") as caught,
            store.write(),
        ):
            pass
        assert caught.value.retryable is True
    finally:
        other.execute("ROLLBACK")
        other.close()
    with store.write() as tx:  # usable again once the other writer is gone
        assert tx.units_held("X") == 0


def test_an_error_inside_a_write_rolls_everything_back(store: StateStore) -> None:
    def place_then_fail() -> None:
        with store.write() as tx:
            tx.insert_order(order("k-1"), OrderStatus.SUBMITTED, "x")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        place_then_fail()
    assert store.orders() == []
    with store.write() as tx:
        assert tx.insert_order(order("k-1"), OrderStatus.SUBMITTED, "x").provider_order_id == (
            "LC-000001"
        )


def test_a_state_file_from_a_newer_plugin_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ConfigError, match="upgrade premia-rewards-catalog"):
        StateStore(path).units_held()


def test_unwritable_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="writable path"):
        StateStore(blocker / "state.sqlite").units_held()
