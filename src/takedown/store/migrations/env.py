"""Alembic environment: the engine is handed in by takedown.store.db (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from takedown.store.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("takedown migrations are run through takedown.store.db.migrate")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
