from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from premia import ProviderContext
from premia_rewards_catalog import LocalCatalogSettings


def test_defaults_and_paths_resolve_against_base_dir(tmp_path: Path) -> None:
    settings = LocalCatalogSettings.model_validate({"catalog": "rewards/catalog.yaml"})
    context = ProviderContext(provider_name="catalog", base_dir=tmp_path)

    assert settings.auto_fulfil is True
    assert settings.catalog_path(context) == tmp_path / "rewards" / "catalog.yaml"
    assert settings.state_path(context) == tmp_path / ".premia" / "catalog-catalog.sqlite"


def test_state_path_given_relative_or_absolute(tmp_path: Path) -> None:
    context = ProviderContext(provider_name="catalog", base_dir=tmp_path)
    relative = LocalCatalogSettings.model_validate({"catalog": "c.yaml", "state": "var/s.sqlite"})
    absolute = LocalCatalogSettings.model_validate({"catalog": "c.yaml", "state": "/srv/s.sqlite"})

    assert relative.state_path(context) == tmp_path / "var" / "s.sqlite"
    assert absolute.state_path(context) == Path("/srv/s.sqlite")


def test_default_state_file_name_is_safe_for_odd_provider_names(tmp_path: Path) -> None:
    settings = LocalCatalogSettings.model_validate({"catalog": "c.yaml"})
    context = ProviderContext(provider_name="EU/rewards v2", base_dir=tmp_path)

    assert settings.state_path(context) == tmp_path / ".premia" / "EU_rewards_v2-catalog.sqlite"


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="auto_fulfill"):
        LocalCatalogSettings.model_validate({"catalog": "c.yaml", "auto_fulfill": False})


def test_catalog_is_required() -> None:
    with pytest.raises(ValidationError, match="catalog"):
        LocalCatalogSettings.model_validate({})


def test_auto_fulfil_accepts_environment_strings() -> None:
    # Settings may come from PREMIA_PROVIDERS__<NAME>__AUTO_FULFIL, i.e. as text.
    settings = LocalCatalogSettings.model_validate({"catalog": "c.yaml", "auto_fulfil": "false"})
    assert settings.auto_fulfil is False
