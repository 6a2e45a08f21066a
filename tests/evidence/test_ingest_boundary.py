"""Hostile bytes in one record never cost the batch (issue #20, items 7 and 11): a NUL in one
CSV row is that row's rejection, the good rows land, the run finishes; a killed import is
found and marked interrupted; the command's exit status says "partial"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from takedown.app import App
from takedown.evidence.ingest import WORKER, Ingestor, recover_interrupted
from takedown.store.models import ImportRun, RejectedRecord, Sighting
from tests.cli.test_commands import run


def _count(app: App, model: type) -> int:
    with app.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_nul_in_one_csv_row_rejects_that_row_only(app: App, tmp_path: Path) -> None:
    rows = ["url,seen_at,notes"]
    for i in range(2000):
        notes = "bad\x00note" if i == 1000 else f"note {i}"
        rows.append(f"https://video.example/watch/{i},2026-04-26T10:00:00Z,{notes}")
    rows.append("https://video.example/extra\x00/x,2026-04-26T10:00:00Z,fine")
    (tmp_path / "list.csv").write_bytes("\n".join(rows).encode() + b"\n")
    report = Ingestor(app).ingest(tmp_path / "list.csv", reporter="unit-a")
    assert report.ok, report.error
    assert (report.created, len(report.rejected)) == (1999, 2)
    assert all("NUL" in r.reason for r in report.rejected)
    assert "\x00" not in "".join(r.reason + r.ref for r in report.rejected)
    assert _count(app, Sighting) == 1999
    assert _count(app, RejectedRecord) == 2
    with app.db.session() as session:
        run_row = session.scalars(select(ImportRun)).one()
        assert (run_row.status, run_row.created, run_row.rejected) == ("done", 1999, 2)
        assert run_row.worker == WORKER


def test_invalid_text_in_jsonl_extra_and_reporter_is_refused(app: App, tmp_path: Path) -> None:
    lines = [
        {"url": "https://video.example/a", "extra": {"k": "v\x00"}},
        {"url": "https://video.example/b", "reporter": "x\ud800"},
        {"url": "https://video.example/c", "notes": "fine"},
    ]
    (tmp_path / "items.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    report = Ingestor(app).ingest(tmp_path / "items.jsonl")
    assert (report.created, len(report.rejected)) == (1, 2)


def test_a_killed_import_is_marked_interrupted(app: App, tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    gone_pid = int(dead.stdout)
    host = WORKER.rpartition(":")[0]
    with app.db.session() as session:
        session.add(ImportRun(source="killed.csv", format="csv", worker=f"{host}:{gone_pid}"))
        session.add(ImportRun(source="alive.csv", format="csv", worker=f"{host}:{os.getpid()}"))
        session.add(ImportRun(source="elsewhere.csv", format="csv", worker="other-host:1"))
    assert len(recover_interrupted(app)) == 1
    (tmp_path / "urls.txt").write_text("https://video.example/1\n")
    Ingestor(app).ingest(tmp_path / "urls.txt")  # finds nothing more to recover
    with app.db.session() as session:
        status = dict(session.execute(select(ImportRun.source, ImportRun.status)).all())
    assert status["killed.csv"] == "interrupted"
    assert status["alive.csv"] == status["elsewhere.csv"] == "running"
    from datetime import timedelta

    assert len(recover_interrupted(app, timedelta(0))) == 2


def test_ingest_exit_status_says_all_good_partial_or_failed(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("https://video.example/1\n")
    (tmp_path / "partial.txt").write_text("https://video.example/2\njavascript:alert(1)\n")
    assert run(tmp_path, "ingest", str(tmp_path / "good.txt"), "--json").returncode == 0
    partial = run(tmp_path, "ingest", str(tmp_path / "partial.txt"), "--json", ok=False)
    assert partial.returncode == 3
    assert json.loads(partial.stdout)["imports"][0]["rejected_count"] == 1
    recovered = run(tmp_path, "imports", "recover", "--older-than", "0", "--json")
    assert json.loads(recovered.stdout) == {"interrupted": []}
