"""Settings come from PREMIA_* variables and secret files, never from the program file."""

from __future__ import annotations

from pathlib import Path

import pytest

from premia.settings import load_settings


def test_secret_files_per_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "premia_sources__crm__token").write_text("from-a-file\n")
    (tmp_path / "PREMIA_PROVIDERS__VENDOR__API_KEY").write_text("vendor-key")
    (tmp_path / "premia_database_url").write_text("sqlite:////tmp/x.db")
    (tmp_path / "unrelated").write_text("ignored")
    monkeypatch.setenv("PREMIA_SECRETS_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.sources == {"crm": {"token": "from-a-file"}}
    assert settings.providers == {"vendor": {"api_key": "vendor-key"}}
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == "sqlite:////tmp/x.db"


def test_an_environment_variable_wins_over_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "premia_sources__crm__token").write_text("from-a-file")
    (tmp_path / "premia_sources__crm__account").write_text("acme")
    monkeypatch.setenv("PREMIA_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("PREMIA_SOURCES__CRM__TOKEN", "from-the-env")
    assert load_settings().sources == {"crm": {"token": "from-the-env", "account": "acme"}}


def test_the_database_url_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREMIA_DATABASE_URL", "postgresql+psycopg://u:hunter2@db/premia")
    settings = load_settings()
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())
