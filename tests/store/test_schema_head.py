"""Opening a database reads its revisions without Alembic, against a head kept in code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.migration import MigrationContext

from takedown.store.db import (
    SCHEMA_HEADS,
    Database,
    alembic_config,
    current_heads,
    expected_heads,
    make_engine,
    schema_state,
)
from tests.conftest import _Postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each backend with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'takedown.sqlite3'}"
        return
    postgres: _Postgres = request.getfixturevalue("postgres")
    url = postgres.create_database()
    yield url
    postgres.drop_database(url)


def test_head_constant_is_the_migration_scripts_head() -> None:
    """A new migration without the bump of ``store/schema_head.py`` fails here."""
    assert set(SCHEMA_HEADS) == expected_heads(), (
        f"src/takedown/store/schema_head.py says {sorted(SCHEMA_HEADS)} but the migration "
        f"scripts' heads are {sorted(expected_heads())}: update SCHEMA_HEADS"
    )


def test_current_heads_reads_what_alembic_reads(empty_url: str) -> None:
    """Empty, behind and current: the plain query and Alembic's own reading agree."""
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            assert current_heads(conn) == set(MigrationContext.configure(conn).get_current_heads())
            assert current_heads(conn) == set()
        assert schema_state(engine)["empty"] and not schema_state(engine)["up_to_date"]
        command.upgrade(alembic_config(engine), "0065")
        with engine.connect() as conn:
            behind = current_heads(conn)
            assert behind == set(MigrationContext.configure(conn).get_current_heads())
        assert behind == {"0065"}
        state = schema_state(engine)
        assert not state["empty"] and not state["up_to_date"]
        assert state["expected"] == sorted(SCHEMA_HEADS)
        command.upgrade(alembic_config(engine), "heads")
        with engine.connect() as conn:
            assert current_heads(conn) == set(MigrationContext.configure(conn).get_current_heads())
        assert schema_state(engine)["up_to_date"]
    finally:
        engine.dispose()
    Database(empty_url).dispose()  # current: opens without upgrading or complaining
