"""`takedown ingest` killed with SIGKILL while hashing, then `takedown reprocess` finishes every
item, on SQLite and PostgreSQL with the in-process runner (the embedded default's way)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from takedown.app import App
from tests.jobs.conftest import TAKEDOWN, content_states, wait_for, write_items


def _env(app: App) -> dict[str, str]:
    return {
        **os.environ,
        "TAKEDOWN_DATA": str(app.settings.data),
        "TAKEDOWN_DATABASE_URL": app.settings.resolved_database_url,
        "TAKEDOWN_JOBS": "inprocess",
    }


def test_reprocess_finishes_what_a_killed_ingest_left(app: App, tmp_path: Path) -> None:
    source = write_items(tmp_path / "in", images=30, texts=0)
    app.db  # noqa: B018 - the schema exists before the subprocess opens the store
    ingest = subprocess.Popen(
        [TAKEDOWN, "ingest", str(source), "--json"],
        env=_env(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def hashing_began() -> bool:
        states = content_states(app)
        return sum(states.values()) == 30 and states.get("pending", 0) <= 28

    wait_for(hashing_began, 600, "the ingest to hash a few items")
    ingest.send_signal(signal.SIGKILL)
    ingest.wait(timeout=30)
    left = content_states(app)
    pending = left.get("pending", 0)
    unmatched = left.get("done", 0) + left.get("error", 0)  # hashed, never matched
    assert pending + unmatched > 0, left  # killed mid-way (hashing or matching)
    assert sum(left.values()) == 30

    done = subprocess.run(
        [TAKEDOWN, "reprocess", "--json"],
        env=_env(app),
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    result = json.loads(done.stdout)
    assert (result["pending"], result["unmatched"]) == (pending, unmatched)
    assert (result["hashed"], result["matched"]) == (pending, pending + unmatched)
    assert content_states(app) == {"done+matched": 30}
    again = subprocess.run(
        [TAKEDOWN, "reprocess", "--json"],
        env=_env(app),
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    assert json.loads(again.stdout) == {"pending": 0, "unmatched": 0, "hashed": 0, "matched": 0}
