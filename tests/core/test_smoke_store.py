from __future__ import annotations

from premia.store.db import connect, current_revision, ensure_current, head_revision


def test_migrations_create_the_schema(db_url: str) -> None:
    engine = connect(db_url)
    try:
        assert current_revision(engine) is None
        ensure_current(engine)
        assert current_revision(engine) == head_revision()
        ensure_current(engine)  # idempotent
    finally:
        engine.dispose()
