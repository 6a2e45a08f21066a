"""Schema changes by command: `takedown db upgrade` (concurrent-safe), a clear refusal when the
schema is behind, and the embedded default that still needs no step at all."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from takedown.store.db import (
    Database,
    SchemaError,
    alembic_config,
    expected_heads,
    make_engine,
    schema_state,
)
from tests.conftest import _Postgres
from tests.jobs.conftest import TAKEDOWN


@pytest.fixture
def empty_pg(postgres: _Postgres) -> Iterator[str]:
    url = postgres.create_database()
    yield url
    postgres.drop_database(url)


def _run(url: str, data: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TAKEDOWN_DATABASE_URL": url, "TAKEDOWN_DATA": str(data)}
    env.pop("TAKEDOWN_JOBS", None)
    return subprocess.Popen(
        [TAKEDOWN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_postgres_is_never_migrated_on_open(empty_pg: str) -> None:
    with pytest.raises(SchemaError, match="takedown db upgrade"):
        Database(empty_pg)
    engine = make_engine(empty_pg)
    with engine.connect() as conn:
        assert not conn.scalar(text("SELECT to_regclass('content') IS NOT NULL"))
    engine.dispose()


def test_concurrent_upgrades_then_worker_and_serve_start_only_when_current(
    empty_pg: str, tmp_path: Path
) -> None:
    # an older schema: the worker and the API refuse to start, with the command to run
    engine = make_engine(empty_pg)
    command.upgrade(alembic_config(engine), "0065")
    assert not schema_state(engine)["up_to_date"]
    for args in (("worker", "--once"), ("serve", "--port", "0")):
        proc = _run(empty_pg, tmp_path, *args)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode != 0, args
        assert "run `takedown db upgrade`" in err and "Traceback" not in err, err

    # several processes upgrading at once: all succeed, the schema ends current, once
    procs = [_run(empty_pg, tmp_path, "db", "upgrade", "--json") for _ in range(3)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    assert all(json.loads(o)["after"] == sorted(expected_heads()) for o, _ in outs)
    state = schema_state(engine)
    assert state["up_to_date"]
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == len(expected_heads())
        assert conn.scalar(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL"))
    engine.dispose()
    status = _run(empty_pg, tmp_path, "db", "status", "--json")
    out, _ = status.communicate(timeout=300)
    assert status.returncode == 0 and json.loads(out)["up_to_date"]
    once = _run(empty_pg, tmp_path, "worker", "--once")
    _, err = once.communicate(timeout=300)
    assert once.returncode == 0, err


def test_embedded_sqlite_upgrades_itself_when_new_or_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'takedown.sqlite3'}"
    Database(url).dispose()  # new file: created at the newest revisions
    engine = make_engine(url)
    assert schema_state(engine)["up_to_date"]
    command.downgrade(alembic_config(engine), "0065")
    assert not schema_state(engine)["up_to_date"]
    engine.dispose()
    db = Database(url)  # behind: upgraded on open (one user, one machine)
    assert schema_state(db.engine)["up_to_date"]
    db.dispose()
