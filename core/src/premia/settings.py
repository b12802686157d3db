"""Runtime settings from the environment and secret files (never from the program file).

Every setting is read from ``PREMIA_<NAME>``; nested values use ``__``. Plugin secrets are
given per source or provider name, e.g. ``PREMIA_SOURCES__CRM__TOKEN=...`` sets the ``token``
setting of the source named ``crm``. Secret files work the same way: point
``PREMIA_SECRETS_DIR`` at a folder (e.g. ``/run/secrets``) holding one file per setting,
named like the variable (case does not matter): ``premia_database_url``,
``premia_sources__crm__token``. The file's content (without a final newline) is the value.
An environment variable wins over a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _secrets_dir() -> Path | None:
    value = os.environ.get("PREMIA_SECRETS_DIR")
    return Path(value) if value else None


class PremiaSettings(BaseSettings):
    """Settings of a Premia process.

    Attributes:
        database_url: SQLAlchemy URL of the store. Default: a SQLite file ``premia.db`` beside
            the program file. ``postgresql+psycopg://user@host/db`` selects PostgreSQL.
        strict_plugins: a plugin that fails to load stops the process instead of being skipped.
        parallel_streams: how many streams a sync reads at the same time.
        state_dir: a writable folder for plugins' state files (default: ``.premia`` beside the
            program file).
        sources: per-source settings (usually secrets) merged over the program file's.
        providers: per-provider settings merged over the program file's.
    """

    model_config = SettingsConfigDict(
        env_prefix="PREMIA_",
        env_nested_delimiter="__",
        extra="ignore",
        case_sensitive=False,
    )

    database_url: SecretStr | None = None
    strict_plugins: bool = False
    state_dir: Path | None = None
    parallel_streams: int = Field(default=4, ge=1, le=64)
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)


def load_settings(**overrides: Any) -> PremiaSettings:
    """Read the settings from the environment, secret files and ``overrides``."""
    secrets = _secrets_dir()
    if secrets is None or not secrets.is_dir():
        return PremiaSettings(**overrides)
    from_files = _nested_secret_files(secrets)
    from_env = PremiaSettings()
    merged: dict[str, Any] = {}
    for family in ("sources", "providers"):
        combined = from_files.pop(family, {})
        for name, values in getattr(from_env, family).items():
            combined.setdefault(name, {}).update(values)
        merged[family] = combined
    merged.update(overrides)
    return PremiaSettings(_secrets_dir=secrets, **merged)


def _nested_secret_files(folder: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Read ``premia_sources__<name>__<setting>`` files into nested settings."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(folder.iterdir()):
        parts = path.name.lower().split("__")
        if len(parts) < 3 or parts[0] not in ("premia_sources", "premia_providers"):
            continue
        if not path.is_file():
            continue
        family = parts[0].removeprefix("premia_")
        node: dict[str, Any] = out.setdefault(family, {}).setdefault(parts[1], {})
        for key in parts[2:-1]:
            node = node.setdefault(key, {})
        node[parts[-1]] = path.read_text(encoding="utf-8").removesuffix("\n")
    return out
