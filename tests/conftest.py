"""Shared fixtures: every store test runs against SQLite and a real PostgreSQL.

PostgreSQL comes from, in order: ``TAKEDOWN_TEST_POSTGRES_URL`` (an admin URL), the local
server on 127.0.0.1:5432 (started by ``scripts/services.sh`` when installed), or a private
server started from the ``pgserver`` wheel. If none can be had, PostgreSQL tests FAIL; they
are never skipped.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from takedown.app import App
from takedown.config import Settings
from takedown.store.db import Database, make_engine, migrate
from takedown.store.schema import metadata

LOCAL_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REPO = Path(__file__).resolve().parents[1]
# Feature tests run their tasks in-process on both backends; the tests of the job queue
# (tests/jobs) choose the queue explicitly and start real workers.
os.environ.setdefault("TAKEDOWN_JOBS", "inprocess")
QUEUE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


def _reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


class _Postgres:
    def __init__(self) -> None:
        self.server: Any = None
        self.admin_url = os.environ.get("TAKEDOWN_TEST_POSTGRES_URL", "")
        self.problems: list[str] = []
        if not self.admin_url:
            if _reachable(LOCAL_ADMIN):
                self.admin_url = LOCAL_ADMIN
            else:
                self.problems.append(f"no server at {LOCAL_ADMIN}")
                self._start_private()

    def _start_private(self) -> None:
        try:
            import pgserver

            folder = tempfile.mkdtemp(prefix="takedown-pg-")
            self.server = pgserver.get_server(folder, cleanup_mode="delete")
            uri = make_url(self.server.get_uri())
            self.admin_url = uri.set(drivername="postgresql+psycopg").render_as_string(
                hide_password=False
            )
        except Exception as exc:
            self.problems.append(f"private server from pgserver failed: {exc}")

    def create_database(self) -> str:
        if not self.admin_url:
            pytest.fail(
                "PostgreSQL is required and none could be started: " + "; ".join(self.problems)
            )
        name = f"takedown_test_{os.getpid()}_{secrets.token_hex(4)}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def close(self) -> None:
        if self.server is not None:
            self.server.cleanup()


@pytest.fixture(scope="session")
def postgres() -> Iterator[_Postgres]:
    pg = _Postgres()
    yield pg
    pg.close()


@pytest.fixture(scope="session")
def postgres_url(postgres: _Postgres) -> Iterator[str]:
    url = postgres.create_database()
    engine = make_engine(url)
    migrate(engine)  # schema changes are explicit (`takedown db upgrade`), never on open
    engine.dispose()
    yield url
    postgres.drop_database(url)


def _truncate(url: str) -> None:
    db = Database(url, migrate_on_open=False)
    tables = [t.name for t in reversed(metadata.sorted_tables)] + list(QUEUE_TABLES)
    with db.engine.begin() as conn:
        conn.execute(
            text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        )
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'takedown.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    settings = Settings(data=tmp_path / "data", database_url=database_url)
    application = App(settings)
    yield application
    application.close()


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[App]:
    settings = Settings(data=tmp_path / "data")
    application = App(settings)
    yield application
    application.close()
