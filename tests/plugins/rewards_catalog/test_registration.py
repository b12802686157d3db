from __future__ import annotations

from typing import Any

import premia
from premia.plugins import Registry
from premia_rewards_catalog import LocalCatalog, LocalCatalogSettings, plugin


def test_installed_plugin_registers_the_provider() -> None:
    registry = Registry()
    assert registry.providers["rewards_catalog"] is LocalCatalog
    assert registry.provider_type("rewards_catalog") is LocalCatalog
    assert not [p for p in registry.problems if p.name == "rewards_catalog"]
    (info,) = [i for i in registry.plugin_infos() if i.name == "rewards_catalog"]
    assert info.providers == ["rewards_catalog"]
    assert info.hooks == ["premia_register_providers"]


def test_plugin_module_registers_without_entry_points() -> None:
    registry = Registry(load_entry_points=False, extra_plugins=[plugin])
    assert registry.providers == {"rewards_catalog": LocalCatalog}


def test_hookimpl_registers_exactly_the_provider() -> None:
    registered: list[type[Any]] = []
    plugin.premia_register_providers(registered.append)
    assert registered == [LocalCatalog]


def test_provider_class_declares_its_contract() -> None:
    assert issubclass(LocalCatalog, premia.RewardProvider)
    assert LocalCatalog.type_name == "rewards_catalog"
    assert LocalCatalog.Settings is LocalCatalogSettings
    assert plugin.PREMIA_HOOKSPEC_VERSION <= premia.HOOKSPEC_VERSION
