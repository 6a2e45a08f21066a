"""Alembic environment: the engine is handed in by takedown.store.db (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from takedown.store.schema import metadata

config = context.config
target_metadata = metadata


def _ours(name: str | None, type_: str, _parents: object) -> bool:
    """Autogenerate leaves the job queue's tables (Procrastinate's own schema) alone."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("takedown migrations are run through takedown.store.db.migrate")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=_ours,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
