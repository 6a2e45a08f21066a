"""The workspace's send button on PostgreSQL enqueues a ``referrals.send`` job instead of
sending inside the page request; a real worker then sends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import Popen

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from takedown.api.app import create_app
from takedown.api.auth import create_user
from takedown.app import App
from takedown.referrals.models import Referral
from tests.api.seed import OWNER, seed
from tests.web.conftest import PASSWORD, csrf_of, log_in


def test_send_enqueues_a_job_and_a_worker_sends(
    queue_app: App, tmp_path: Path, start_worker: Callable[..., Popen[str]]
) -> None:
    here = App(queue_app.settings.replace(jobs="inprocess"))
    assert not here.queued
    try:
        seeded = seed(here, tmp_path / "seed")  # hashed and matched here, on the same database
    finally:
        here.close()
    create_user(queue_app, "ana", PASSWORD, agency=OWNER)
    create_user(queue_app, "root", PASSWORD, agency=OWNER, role="administrator")
    with TestClient(create_app(queue_app)) as web:
        log_in(web)
        csrf = csrf_of(web.get("/queue").text)
        for sid in seeded.sighting_ids[1:3]:
            web.post(f"/queue/{sid}/decision", data={"decision": "refer", "csrf": csrf})
        sent = web.post(
            "/referrals/send",
            data={"csrf": csrf, "platform": "telegram"},
            follow_redirects=False,
        )
        assert sent.status_code == 303 and sent.headers["location"] == "/referrals?queued=1"
        assert web.get(sent.headers["location"]).status_code == 200
    with TestClient(create_app(queue_app)) as admin:
        log_in(admin, "root")
        csrf = csrf_of(admin.get("/queue").text)
        sent = admin.post("/referrals/send", data={"csrf": csrf}, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == "/jobs"
        assert "referrals.send" in admin.get("/jobs").text
    with queue_app.db.engine.connect() as conn:
        jobs = conn.execute(
            text("SELECT task_name, status::text FROM procrastinate_jobs ORDER BY id")
        ).all()
    assert [tuple(j) for j in jobs] == [("referrals.send", "todo")] * 2
    with queue_app.db.session() as session:
        assert set(session.scalars(select(Referral.state))) == {"drafted"}  # nothing sent yet

    worker = start_worker(queue_app, "--once")
    assert worker.wait(timeout=600) == 0, worker.log.read_text()  # type: ignore[attr-defined]
    with queue_app.db.session() as session:
        states = list(session.scalars(select(Referral.state)))
    assert len(states) == 2 and set(states) == {"sent"}


def test_api_send_enqueues_a_job(queue_app: App, tmp_path: Path) -> None:
    """``POST /api/v1/referrals/send`` on PostgreSQL answers at once with the job that sends."""
    from takedown.api.auth import create_key
    from takedown.referrals.routing import draft

    here = App(queue_app.settings.replace(jobs="inprocess"))
    try:
        seeded = seed(here, tmp_path / "seed")
        drafted = draft(here, only=seeded.sighting_ids[1:3]).drafted
    finally:
        here.close()
    assert drafted
    key = create_key(queue_app, "sender", ["referrals"], agency=OWNER).secret
    with TestClient(create_app(queue_app)) as api:
        sent = api.post("/api/v1/referrals/send", headers={"Authorization": f"Bearer {key}"})
    assert sent.status_code == 200, sent.text
    body = sent.json()["data"]
    assert body["queued"] == len(drafted) and body["sent"] == 0 and body["failed"] == 0
    with queue_app.db.engine.connect() as conn:
        jobs = conn.execute(text("SELECT id, task_name FROM procrastinate_jobs")).all()
    assert [(j.id, j.task_name) for j in jobs] == [(body["job_id"], "referrals.send")]
    with queue_app.db.session() as session:
        assert "sent" not in set(session.scalars(select(Referral.state)))
