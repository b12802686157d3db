"""A program bound to its plugins, settings and store: what every command works on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from premia.engine.fulfillment import Providers
from premia.plugins import Registry
from premia.program import Program, load_program
from premia.settings import PremiaSettings, load_settings
from premia.store.db import connect, default_url, ensure_current


@dataclass
class Runtime:
    """Everything a command needs: the program, the plugin registry, settings and the store."""

    program: Program
    registry: Registry
    settings: PremiaSettings
    engine: Engine

    def providers(self) -> Providers:
        """Return a :class:`Providers` opener for the program's reward providers."""
        return Providers(self.program, self.registry.provider_type, self.settings.state_dir)

    def close(self) -> None:
        """Dispose of the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def database_url(program_path: Path, settings: PremiaSettings) -> str:
    """Return the store URL: ``PREMIA_DATABASE_URL`` or a SQLite file beside the program."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return default_url(program_path.resolve().parent)


def open_runtime(
    program_path: str | Path,
    *,
    settings: PremiaSettings | None = None,
    registry: Registry | None = None,
    database: str | None = None,
    upgrade: bool = True,
) -> Runtime:
    """Load the program, connect to the store and bring its schema up to date.

    Args:
        program_path: the program file.
        settings: runtime settings (default: read from the environment).
        registry: loaded plugins (default: built-ins and installed entry points).
        database: a database URL overriding the settings.
        upgrade: apply pending migrations (commands that only read may pass False).
    """
    settings = settings or load_settings()
    registry = registry or Registry()
    program = load_program(program_path, registry, settings)
    engine = connect(database or database_url(program.path, settings))
    if upgrade:
        ensure_current(engine)
    return Runtime(program, registry, settings, engine)
