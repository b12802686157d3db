"""Connecting to the store and keeping its schema current.

The embedded default is a SQLite file (WAL mode, a busy timeout so several processes can
share it); ``PREMIA_DATABASE_URL`` selects PostgreSQL. :func:`upgrade` applies the Alembic
migrations shipped in ``premia.migrations``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from premia.errors import ConfigError

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def default_url(base_dir: Path) -> str:
    """Return the default database URL: ``premia.db`` in ``base_dir``."""
    return f"sqlite:///{(base_dir / 'premia.db').resolve()}"


def connect(url: str) -> Engine:
    """Create an engine for ``url`` with Premia's connection settings.

    Raises:
        ConfigError: the URL is not a database URL SQLAlchemy understands.
    """
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError("PREMIA_DATABASE_URL is not a valid database URL") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy control transactions (pysqlite's own handling defers BEGIN badly).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Checkpoint the WAL every ~40 MB instead of every 4 MB: fewer fsyncs on bulk loads.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    # A 64 MB page cache keeps the fact indexes in memory during bulk upserts.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: two writers wait for each other
    # (busy_timeout) instead of failing with "database is locked" half-way through.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision of the store (``None`` for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """Return the newest revision shipped with this version of Premia."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def ensure_current(engine: Engine) -> None:
    """Upgrade the store if it is behind (a fresh database is created)."""
    if current_revision(engine) != head_revision():
        upgrade(engine)


def describe_store_error(exc: Exception) -> str:
    """One line saying why the store cannot be used (no traceback, no password)."""
    if isinstance(exc, ModuleNotFoundError):
        return (
            f"the database driver {exc.name!r} is not installed; Premia supports SQLite and "
            "PostgreSQL (postgresql+psycopg://...)"
        )
    original = getattr(exc, "orig", None) or exc
    first = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    )
    return f"cannot use the store (PREMIA_DATABASE_URL): {first}"
