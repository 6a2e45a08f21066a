"""Enqueueing: inside the caller's transaction (gone if it rolls back), singletons, and the same
argument errors as the in-process runner."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, text

from takedown.app import App
from takedown.jobs import TaskError
from takedown.jobs.queue import QueueRunner
from takedown.store.models import Content


def _jobs(app: App) -> list[tuple[str, str]]:
    with app.db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT task_name, status::text FROM procrastinate_jobs ORDER BY id")
        ).all()
    return [(r[0], r[1]) for r in rows]


def _content_row(sha: str) -> dict[str, object]:
    return {"sha256": sha, "md5": sha[:32], "size": 1, "kind": "text", "media_type": "text/plain"}


def test_a_job_enqueued_in_a_transaction_exists_only_if_it_commits(queue_app: App) -> None:
    runner = queue_app.jobs
    assert isinstance(runner, QueueRunner)

    conn = queue_app.db.engine.connect()
    transaction = conn.begin()
    conn.execute(insert(Content).values(**_content_row("a" * 64)))
    runner.submit_in(conn, "signals.compute", content_ids=[1])
    transaction.rollback()
    conn.close()
    assert _jobs(queue_app) == []
    with queue_app.db.engine.begin() as conn:
        conn.execute(insert(Content).values(**_content_row("b" * 64)))
        job_id = runner.submit_in(conn, "signals.compute", content_ids=[2])
    assert isinstance(job_id, int)
    assert _jobs(queue_app) == [("signals.compute", "todo")]


def test_a_singleton_is_queued_once_without_spoiling_the_transaction(queue_app: App) -> None:
    runner = queue_app.jobs
    assert isinstance(runner, QueueRunner)
    with queue_app.db.engine.begin() as conn:
        first = runner.submit_in(conn, "content.reprocess")
        second = runner.submit_in(conn, "content.reprocess")
        conn.execute(insert(Content).values(**_content_row("c" * 64)))
    assert isinstance(first, int) and second is None
    assert _jobs(queue_app) == [("content.reprocess", "todo")]
    with queue_app.db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM content")) == 1


def test_arguments_that_cannot_cross_a_process_boundary_are_refused(queue_app: App) -> None:
    with pytest.raises(TaskError, match="not JSON-serialisable"):
        queue_app.jobs.submit("signals.compute", content_ids=[datetime.now()])
    with pytest.raises(TaskError, match="unknown task"):
        queue_app.jobs.submit("no.such.task")
    assert _jobs(queue_app) == []
