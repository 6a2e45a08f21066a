"""Queued hashing and matching with real worker processes on PostgreSQL: nothing lost, nothing
done twice, poisoned jobs fail without blocking the queue."""

from __future__ import annotations

import itertools
import json
import re
import signal
from collections.abc import Callable
from pathlib import Path
from subprocess import Popen

from sqlalchemy import func, select, text

from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.jobs.models import JobError
from takedown.jobs.status import queue_status
from takedown.matching.pipeline import process_new_content
from takedown.store.models import Content, Signal
from tests.jobs.conftest import content_states, takedown, wait_for, write_items


def _ingest(app: App, folder: Path, images: int, texts: int) -> list[int]:
    """Ingest on PostgreSQL: the hashing jobs are enqueued with the content rows."""
    report = Ingestor(app).ingest(write_items(folder, images, texts))
    assert report.new_content_ids == []
    return list(report.queued_content_ids)


def _forget_jobs(app: App) -> None:
    """As if the content had been stored by a process that died before enqueueing anything."""
    with app.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_jobs"))


def test_ingest_enqueues_and_a_worker_hashes_and_matches(
    queue_app: App, tmp_path: Path, start_worker: Callable[..., Popen[str]]
) -> None:
    ids = _ingest(queue_app, tmp_path / "in", images=3, texts=4)
    assert len(ids) == 7
    assert content_states(queue_app) == {"pending": 7}
    status = queue_status(queue_app.db.engine)
    assert status.tasks["signals.compute"]["queued"] == 1 and not status.idle

    worker = start_worker(queue_app, "--once")
    assert worker.wait(timeout=600) == 0, worker.log.read_text()  # type: ignore[attr-defined]
    assert content_states(queue_app) == {"done+matched": 7}
    status = queue_status(queue_app.db.engine)
    assert status.idle
    assert status.tasks["signals.compute"]["succeeded"] == 1
    assert status.tasks["match.contents"]["succeeded"] == 1
    listed = json.loads(takedown(queue_app, "jobs", "--json").stdout)
    assert status.tasks["verify.reuploads"]["succeeded"] == 1  # the import run's re-uploads
    assert listed["backend"] == "procrastinate" and listed["totals"]["succeeded"] == 3
    assert listed["content"] == {"pending": 0, "unmatched": 0, "hash_errors": 0}


def test_sigkilled_worker_job_is_recovered_and_nothing_is_hashed_twice(
    queue_app: App, tmp_path: Path, start_worker: Callable[..., Popen[str]]
) -> None:
    assert len(_ingest(queue_app, tmp_path / "in", images=40, texts=0)) == 40  # one job
    first = start_worker(queue_app)

    def some_done() -> bool:
        states = content_states(queue_app)
        return states.get("done", 0) + states.get("error", 0) >= 3

    wait_for(some_done, 600, "the first worker to hash a few items")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    left = content_states(queue_app).get("pending", 0)
    assert 0 < left < 40, "the kill must land in the middle of the chunk"
    running = queue_status(queue_app.db.engine, stalled_after=3)
    assert running.totals["running"] + running.totals["stalled"] == 1

    second = start_worker(queue_app)
    wait_for(lambda: content_states(queue_app) == {"done+matched": 40}, 900, "all content")
    takedown(queue_app, "jobs", "wait", "--timeout", "300")
    second.terminate()
    second.wait(timeout=60)
    log = second.log.read_text()  # type: ignore[attr-defined]
    # the recovered job left alone what the killed worker had committed, hashed the rest once
    match = re.search(r"'hashed': (\d+), 'signals': \d+, 'failed': \d+, 'skipped': (\d+)", log)
    assert match is not None, log
    assert (int(match.group(1)), int(match.group(2))) == (left, 0)
    assert "of a stalled worker queued again" in log
    with queue_app.db.session() as session:
        per_content = session.execute(
            select(Signal.content_id, Signal.signal_type, Signal.variant, func.count())
            .group_by(Signal.content_id, Signal.signal_type, Signal.variant)
            .having(func.count() > 1)
        ).all()
    assert per_content == []
    assert queue_status(queue_app.db.engine).totals["failed"] == 0


def test_poisoned_job_retries_with_backoff_then_fails_without_blocking_the_queue(
    queue_app: App, tmp_path: Path, start_worker: Callable[..., Popen[str]]
) -> None:
    poisoned = queue_app.jobs.submit("signals.compute", content_ids=["not-a-content-id"])
    _ingest(queue_app, tmp_path / "in", images=0, texts=3)
    worker = start_worker(queue_app, TAKEDOWN_JOB_MAX_ATTEMPTS="3", TAKEDOWN_JOB_BACKOFF="2")
    takedown(queue_app, "jobs", "wait", "--timeout", "300")
    worker.terminate()
    worker.wait(timeout=60)

    assert content_states(queue_app) == {"done+matched": 3}
    status = queue_status(queue_app.db.engine)
    assert status.totals["failed"] == 1
    (failed,) = status.failed
    assert failed["id"] == poisoned and failed["attempts"] == 3
    assert "ValueError" in failed["error"] and "not-a-content-id" in failed["error"]
    with queue_app.db.session() as session:
        attempts = session.scalars(
            select(JobError.attempt).where(JobError.job_id == poisoned).order_by(JobError.id)
        ).all()
        waits = session.execute(
            text(
                "SELECT at FROM procrastinate_events WHERE job_id = :id AND type = 'started' "
                "ORDER BY at"
            ),
            {"id": poisoned},
        ).all()
    assert list(attempts) == [1, 2, 3]
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(waits)]
    assert len(gaps) == 2 and gaps[1] >= 4 and gaps[0] >= 2  # backoff: 2 s, then 4 s

    shown = takedown(queue_app, "jobs", "--json")
    assert json.loads(shown.stdout)["failed"][0]["error"] == failed["error"]
    again = json.loads(takedown(queue_app, "jobs", "retry", str(poisoned), "--json").stdout)
    assert again == {"retried": [poisoned], "not_failed": []}
    assert queue_status(queue_app.db.engine).totals["queued"] == 1
    refused = takedown(queue_app, "jobs", "retry", "999999", ok=False)
    assert refused.returncode != 0 and "999999" in refused.stderr


def test_reprocess_queues_only_content_no_job_is_on(
    queue_app: App, tmp_path: Path, start_worker: Callable[..., Popen[str]]
) -> None:
    ids = _ingest(queue_app, tmp_path / "in", images=1, texts=3)
    _forget_jobs(queue_app)
    assert process_new_content(queue_app, ids[:2]) == {"queued": 1}  # the rest: left behind
    listed = json.loads(takedown(queue_app, "reprocess", "--json").stdout)
    assert listed == {"pending": 2, "unmatched": 0, "queued": 1}
    worker = start_worker(queue_app, "--once")
    assert worker.wait(timeout=600) == 0
    assert content_states(queue_app) == {"done+matched": 4}
    # hashed but never matched (killed between the two jobs): found and matched
    with queue_app.db.engine.begin() as conn:
        conn.execute(Content.__table__.update().values(matched_at=None))
    assert json.loads(takedown(queue_app, "reprocess", "--json").stdout)["unmatched"] == 4
    worker = start_worker(queue_app, "--once")
    assert worker.wait(timeout=600) == 0
    assert content_states(queue_app) == {"done+matched": 4}
    assert json.loads(takedown(queue_app, "reprocess", "--json").stdout) == {
        "pending": 0,
        "unmatched": 0,
        "queued": 0,
    }
