"""The plugin registers the ``csv`` source type through Premia's hooks."""

from __future__ import annotations

from premia.plugins import Registry
from premia.sources import Source
from premia_csv import CsvSettings, CsvSource, plugin


def test_registry_lists_the_csv_source() -> None:
    registry = Registry()
    assert registry.source_type("csv") is CsvSource
    infos = {info.name: info for info in registry.plugin_infos()}
    assert infos["csv"].sources == ["csv"]
    assert "premia_register_sources" in infos["csv"].hooks
    assert infos["csv"].version == "0.1.0"
    assert not [p for p in registry.problems if p.name == "csv"]


def test_the_hook_registers_the_source_class() -> None:
    registered: list[type] = []
    plugin.premia_register_sources(register=registered.append)
    assert registered == [CsvSource]


def test_the_source_class_declares_its_contract() -> None:
    assert issubclass(CsvSource, Source)
    assert CsvSource.type_name == "csv"
    assert CsvSource.Settings is CsvSettings
