"""Workspace page of the job queue: ``/jobs`` (administrators; what ``takedown jobs`` shows).

Counts per task and state (queued, running, stalled, failed, ...), the workers' heartbeats, the
newest failed jobs with their error, content still pending or unmatched, and a form to queue
failed jobs again. Asks the ``administer`` action (:func:`takedown.ops.agencies.allowed`),
like every other administration page; error texts are hostile data and escaped.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from takedown.jobs.reprocess import backlog
from takedown.jobs.status import STATES, queue_status
from takedown.ops.agencies import allowed
from takedown.web.views import User, _app, needs, page, refused

router = APIRouter(include_in_schema=False)
ACTION = "administer"


@router.get("/jobs", response_class=HTMLResponse, **needs(ACTION, "see the job queue"))
def jobs_page(request: Request, user: User) -> Response:
    if not allowed(user.role, ACTION):
        return HTMLResponse("your role cannot see the job queue", status_code=403)
    app = _app(request)
    status = queue_status(app.db.engine)
    return page(
        request,
        "jobs.html",
        user,
        title="Jobs",
        status=status,
        states=STATES,
        content=backlog(app),
        queued=app.queued,
    )


@router.post("/jobs/retry", **needs(ACTION, "retry jobs"))
def jobs_retry(
    request: Request,
    user: User,
    csrf: Annotated[str, Form(max_length=200)],
) -> Response:
    denied = refused(user, csrf, ACTION, "retry jobs")
    if denied is not None:
        return denied
    app = _app(request)
    if app.queued:
        from takedown.jobs.queue import QueueRunner, retry_failed

        runner = app.jobs
        if isinstance(runner, QueueRunner):
            with runner.papp.open():
                retry_failed(runner.papp, None)
    return RedirectResponse("/jobs", status_code=303)
