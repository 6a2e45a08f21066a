from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from takedown.store.db import QUEUE_TABLE_PREFIX, Database, migrate
from takedown.store.schema import metadata


def _ours(name: str | None, type_: str, _parents: object) -> bool:
    """The job queue's tables are Procrastinate's schema, not our models."""
    return not (type_ == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))


def test_migrations_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _ours})
        diff = compare_metadata(context, metadata)
    db.dispose()
    assert diff == []


def test_migrating_twice_changes_nothing(database_url: str) -> None:
    db = Database(database_url)
    migrate(db.engine)
    migrate(db.engine)
    db.dispose()
