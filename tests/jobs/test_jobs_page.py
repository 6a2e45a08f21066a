"""The workspace's /jobs page: administrators only; counts, failed jobs with their (escaped)
error, and a retry form; on the queue (PostgreSQL) and in-process (SQLite)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from takedown.api.app import create_app
from takedown.api.auth import create_user
from takedown.app import App
from takedown.jobs.models import JobError
from tests.web.conftest import PASSWORD, csrf_of, log_in


def _client(app: App, role: str) -> TestClient:
    create_user(app, role, PASSWORD, agency="IRU", role=role)
    client = TestClient(create_app(app))
    log_in(client, role)
    return client


def test_only_administrators_see_the_queue(sqlite_app: App) -> None:
    with _client(sqlite_app, "analyst") as analyst:
        assert analyst.get("/jobs").status_code == 403
        csrf = csrf_of(analyst.get("/queue").text)
        assert analyst.post("/jobs/retry", data={"csrf": csrf}).status_code == 403
    with _client(sqlite_app, "administrator") as admin:
        page = admin.get("/jobs")
        assert page.status_code == 200
        assert "there is no queue" in page.text


def test_failed_jobs_are_listed_with_their_error_and_retried(queue_app: App) -> None:
    poisoned = queue_app.jobs.submit("signals.compute", content_ids=[1])
    with queue_app.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE procrastinate_jobs SET status = 'failed', attempts = 5 WHERE id = :id"),
            {"id": poisoned},
        )
        conn.execute(
            insert(JobError).values(
                job_id=poisoned,
                task_name="signals.compute",
                attempt=5,
                error="ValueError: <script>alert(1)</script>",
            )
        )
    with _client(queue_app, "administrator") as admin:
        page = admin.get("/jobs")
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;" in page.text and "signals.compute" in page.text
        response = admin.post(
            "/jobs/retry", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert response.status_code == 303
    with queue_app.db.engine.connect() as conn:
        status = conn.scalar(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": poisoned}
        )
    assert status == "todo"
