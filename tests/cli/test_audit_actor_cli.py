"""Every audit event a command causes names an actor (issue #20, item 9): key create and
revoke, ingest, refer --actor, bank changes — through the installed ``takedown`` command."""

from __future__ import annotations

import getpass
import json
import sqlite3
from pathlib import Path

from tests.cli.test_commands import run


def _events(tmp: Path) -> list[tuple[str | None, str, str]]:
    with sqlite3.connect(tmp / "data" / "takedown.sqlite3") as db:
        rows = db.execute("SELECT actor, action, subject FROM audit_event ORDER BY seq").fetchall()
    return [(a, b, c) for a, b, c in rows]


def test_every_command_event_has_an_actor(tmp_path: Path) -> None:
    me = f"cli:{getpass.getuser()}"
    made = json.loads(
        run(
            tmp_path, "key", "create", "--name", "k", "--scope", "read", "--agency", "A", "--json"
        ).stdout
    )
    run(tmp_path, "key", "revoke", made["prefix"], "--json")
    (tmp_path / "urls.txt").write_text("https://video.example/watch/1\n")
    run(tmp_path, "ingest", str(tmp_path / "urls.txt"), "--json")
    run(tmp_path, "bank", "create", "partner", "--json")
    run(tmp_path, "refer", "--actor", "analyst-7", "--json")
    events = _events(tmp_path)
    assert events, "nothing was audited"
    missing = [e for e in events if not e[0]]
    assert missing == [], missing
    actors = {actor for actor, _, _ in events}
    assert me in actors
    assert "analyst-7" in actors  # refer --actor names the events of that command
