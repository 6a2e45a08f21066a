"""Infra imports, report builds and retention as jobs run by a real ``takedown worker`` on
PostgreSQL: results equal the in-process ones (SQLite), and an import's file reaches the worker
through the database (the submitting machine's copy may be gone)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import Popen
from typing import Any

from sqlalchemy import text

from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.jobs.results import wait_jobs
from takedown.store.models import Content
from tests.jobs.conftest import TAKEDOWN, takedown, write_items

DATA = Path(__file__).resolve().parents[1] / "infra" / "data"
FILES = ("rdap_domain.json", "pdns.csv", "ip2asn.tsv", "certs.csv")


def _in_process(data: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TAKEDOWN_DATA": str(data), "COLUMNS": "200"}
    env.pop("TAKEDOWN_DATABASE_URL", None)
    env.pop("TAKEDOWN_JOBS", None)
    done = subprocess.run(
        [TAKEDOWN, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def _copies(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in FILES:
        target = folder / name
        shutil.copy2(DATA / name, target)
        paths.append(str(target))
    (folder / "broken.json").write_text("{ not rdap", encoding="utf-8")
    paths.append(str(folder / "broken.json"))
    return paths


def _without_ids(imported: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "import_id"} for r in imported]


def test_infra_import_runs_on_a_worker_from_the_database_copy(
    queue_app: App, tmp_path: Path, start_worker: Callable[..., Popen[str]]
) -> None:
    files = _copies(tmp_path / "files")
    files_ok, broken = files[:-1], files[-1]
    expected_ok = json.loads(
        _in_process(tmp_path / "sqlite", "infra", "import", *files_ok, "--json").stdout
    )
    bad = ("infra", "import", broken, "--format", "rdap", "--json")
    expected_bad = _in_process(tmp_path / "sqlite", *bad, ok=False)
    assert expected_bad.returncode != 0
    queued = json.loads(takedown(queue_app, "infra", "import", *files_ok, "--json").stdout)
    assert len(queued["jobs"]) == len(files_ok) and queued["errors"] == []
    with queue_app.db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM job_file")) == len(files_ok)
    shutil.rmtree(tmp_path / "files")  # the worker must not need the submitting machine's disk
    worker = start_worker(queue_app, "--once")
    assert worker.wait(timeout=600) == 0, worker.log.read_text()  # type: ignore[attr-defined]
    outcomes = wait_jobs(queue_app.db.engine, queued["jobs"], timeout=60)
    assert _without_ids([o.result for o in outcomes]) == _without_ids(expected_ok["imported"])
    with queue_app.db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM job_file")) == 0  # gone with each commit

    # a file unusable as a whole: reported as in-process (not a job failing over and over)
    _copies(tmp_path / "files")
    start_worker(queue_app)
    refused = takedown(queue_app, *bad, "--wait", ok=False)
    assert refused.returncode != 0
    assert json.loads(refused.stdout) == json.loads(expected_bad.stdout)
    assert refused.stderr == expected_bad.stderr


def _report(stdout: str) -> dict[str, Any]:
    data = json.loads(stdout)
    data.pop("generated_at")
    return data


def test_report_build_runs_as_a_job_and_is_kept_for_download(
    queue_app: App, tmp_path: Path, start_worker: Callable[..., Popen[str]]
) -> None:
    source = write_items(tmp_path / "in", images=0, texts=3)
    period = ("--from", "2026-01-01T00:00:00Z", "--to", "2027-01-01T00:00:00Z")
    _in_process(tmp_path / "sqlite", "ingest", str(source), "--json")
    expected = _report(
        _in_process(
            tmp_path / "sqlite", "report", "transparency", *period, "--format", "json"
        ).stdout
    )
    takedown(queue_app, "ingest", str(source), "--json")
    start_worker(queue_app)
    waited = takedown(queue_app, "report", "transparency", *period, "--format", "json", "--wait")
    assert _report(waited.stdout) == expected

    queued = json.loads(
        takedown(queue_app, "report", "transparency", *period, "--format", "pdf", "--json").stdout
    )
    (job_id,) = queued["jobs"]
    (outcome,) = wait_jobs(queue_app.db.engine, [job_id], timeout=600)
    assert outcome.result["format"] == "pdf" and outcome.result["kind"] == "transparency"
    out = tmp_path / "report.pdf"
    saved = json.loads(
        takedown(queue_app, "jobs", "output", str(job_id), "--out", str(out), "--json").stdout
    )
    assert saved["bytes"] == outcome.result["bytes"] == out.stat().st_size
    assert out.read_bytes().startswith(b"%PDF")
    unknown = takedown(queue_app, "report", "operation", "no-such-op", "--wait", ok=False)
    assert unknown.returncode != 0 and "no-such-op" in unknown.stderr


def test_retention_purge_runs_as_a_job_once(
    queue_app: App, tmp_path: Path, start_worker: Callable[..., Popen[str]]
) -> None:
    report = Ingestor(queue_app).ingest(write_items(tmp_path / "in", images=0, texts=3))
    ids = sorted(report.queued_content_ids)
    long_ago = datetime.now(UTC) - timedelta(days=queue_app.settings.retention_days + 1)
    with queue_app.db.engine.begin() as conn:
        conn.execute(
            Content.__table__.update()
            .where(Content.id.in_(ids[:2]))
            .values(removed_confirmed_at=long_ago)
        )
    listed = json.loads(takedown(queue_app, "purge", "--dry-run", "--json").stdout)
    assert [i["content_id"] for i in listed["purged"]] == ids[:2]  # dry run: here, no job

    first = json.loads(takedown(queue_app, "purge", "--json").stdout)["jobs"]
    second = json.loads(takedown(queue_app, "purge", "--json").stdout)["jobs"]  # a duplicate
    start_worker(queue_app)
    outcomes = wait_jobs(queue_app.db.engine, first + second, timeout=600)
    purged = [i for o in outcomes for i in o.result["purged"]]
    assert [{**i, "blob_deleted": False} for i in purged] == listed["purged"]
    assert all(i["blob_deleted"] for i in purged)
    for item in purged:
        assert not queue_app.blobs.exists(item["sha256"])
    waited = json.loads(takedown(queue_app, "purge", "--wait", "--json").stdout)
    assert waited == {**listed, "dry_run": False, "purged": []}
