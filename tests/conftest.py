"""Shared fixtures: stores on SQLite and on the machine's real PostgreSQL, the demo data.

PostgreSQL tests use the server named by ``PREMIA_TEST_POSTGRES_URL`` (default: the local
server's ``test`` database). Each test gets its own schema, dropped afterwards. When the
server is unreachable the PostgreSQL variants are skipped, and the skip reason says so in the
test summary.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "core" / "src" / "premia" / "demo"
DEMO_DATA = DEMO_DIR / "data"
POSTGRES_URL = os.environ.get(
    "PREMIA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

_pg_state: dict[str, str | None] = {}


def _postgres_problem() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it can (checked once)."""
    if "problem" not in _pg_state:
        try:
            engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
            _pg_state["problem"] = None
        except Exception as exc:
            where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
            _pg_state["problem"] = f"PostgreSQL unreachable at {where}: {type(exc).__name__}"
    return _pg_state["problem"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL: a SQLite file, then a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'premia.db'}"
        return
    problem = _postgres_problem()
    if problem:
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite store URL (for tests that are about something other than the backend)."""
    return f"sqlite:///{tmp_path / 'premia.db'}"


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A copy of the shipped demo (program, catalog, data) in a fresh folder."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, target, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return target


@pytest.fixture(autouse=True)
def _clean_premia_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's PREMIA_* settings."""
    for key in list(os.environ):
        if key.startswith("PREMIA_") and key != "PREMIA_TEST_POSTGRES_URL":
            monkeypatch.delenv(key, raising=False)
