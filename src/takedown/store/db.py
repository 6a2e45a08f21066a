"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (production).

Schema changes run by command (``takedown db upgrade``), never as a side effect of opening a
production database. The embedded default stays zero-step: a SQLite file that is new or
behind is upgraded when it is opened (one user, one machine). A PostgreSQL database that is
behind raises :class:`SchemaError`; ``upgrade`` holds an advisory lock so that several
processes may run it at once.

Opening a database does not import Alembic: the stored ``alembic_version`` rows are read with
one query and compared with :data:`takedown.store.schema_head.SCHEMA_HEADS` (Alembic is loaded
only to upgrade, or to report the scripts' own heads).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from takedown.store.errors import SchemaError
from takedown.store.schema_head import SCHEMA_HEADS

if TYPE_CHECKING:
    from alembic.config import Config


MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_lock key held while upgrading ("takedown" in ASCII, as a 64-bit integer).
UPGRADE_LOCK = 0x74616B65646F776E
# Tables that belong to the job queue (Procrastinate), not to our models and migrations.
QUEUE_TABLE_PREFIX = "procrastinate_"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-backend settings Takedown relies on, and the boundary text
    rule's guard (:mod:`takedown.store.text`) on both backends."""
    from takedown.store import text

    kwargs.setdefault("json_serializer", text.checked_json)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        text.install(engine)
        return engine
    # PostgreSQL's JIT compiles a statement whose estimated cost passes jit_above_cost: the
    # workspace's statements (visibility sub-selects per row) are short but estimated dear, and
    # compiling them cost 1.07 s of the queue's 1.14 s at 10,000 items. Takedown's queries are
    # OLTP-sized, so its connections run without JIT (the server's setting is left alone).
    connect_args = dict(kwargs.pop("connect_args", None) or {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c jit=off".strip()
    engine = create_engine(
        sqlalchemy_url(url), pool_pre_ping=True, connect_args=connect_args, **kwargs
    )
    text.install(engine)
    return engine


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` (libpq style) spelled for SQLAlchemy's psycopg 3 driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def libpq_url(url: str) -> str:
    """A PostgreSQL URL as libpq (psycopg, Procrastinate) reads it."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url.removeprefix(prefix)
    return url


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def expected_heads() -> set[str]:
    """The heads of the migration scripts, read by Alembic (slow to import: opening a database
    uses :data:`SCHEMA_HEADS`, which a test keeps equal to this)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def current_heads(conn: Connection) -> set[str]:
    """The revisions stored in the database's ``alembic_version`` table (none when it has no
    such table), read as Alembic's ``MigrationContext.get_current_heads`` does."""
    if not inspect(conn).has_table("alembic_version"):
        return set()
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return {str(row) for row in rows}


def schema_state(engine: Engine) -> dict[str, Any]:
    """Where the database stands: its revisions, the expected ones, and whether it is current."""
    with engine.connect() as conn:
        current = current_heads(conn)
    expected = set(SCHEMA_HEADS)
    return {
        "current": sorted(current),
        "expected": sorted(expected),
        "up_to_date": current == expected,
        "empty": not current,
    }


def check_schema(engine: Engine) -> None:
    """Raise SchemaError unless the database is at exactly this version's revisions."""
    state = schema_state(engine)
    if state["up_to_date"]:
        return
    if state["empty"]:
        raise SchemaError(
            "the database has no Takedown schema yet: run `takedown db upgrade` first"
        )
    raise SchemaError(
        f"the database schema is at {', '.join(state['current'])} but this version of Takedown "
        f"needs {', '.join(state['expected'])}: run `takedown db upgrade` (after stopping "
        "older workers if the new version changes tables they use)"
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migrations (idempotent).

    Feature packages add their tables on their own branches of the revision tree, so the
    upgrade goes to every head. On PostgreSQL a session-level advisory lock makes concurrent
    upgrades wait for each other (the second finds nothing left to do), and the job queue's
    schema is applied too.
    """
    from alembic import command

    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "heads")
        return
    with engine.connect() as lock_conn:
        lock_conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK})
        lock_conn.commit()
        try:
            command.upgrade(alembic_config(engine), "heads")
            from takedown.jobs.queue import apply_queue_schema

            apply_queue_schema(engine)
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": UPGRADE_LOCK})
            lock_conn.commit()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


class Database:
    """An engine plus a session factory.

    ``migrate_on_open``: None (the default) upgrades a SQLite database that is new or behind
    and only checks a PostgreSQL one (raising SchemaError when it is behind); True always
    upgrades; False does neither.
    """

    def __init__(self, url: str, *, migrate_on_open: bool | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            if migrate_on_open is None:
                if self.engine.dialect.name == "sqlite":
                    if not schema_state(self.engine)["up_to_date"]:
                        migrate(self.engine)
                else:
                    check_schema(self.engine)
            elif migrate_on_open:
                migrate(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
