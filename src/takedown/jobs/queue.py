"""The distributed runner: Takedown tasks as Procrastinate jobs on the same PostgreSQL.

Every registered task (see :func:`takedown.jobs.task`) becomes a Procrastinate task of the
same name. Faces and workflows keep calling ``app.jobs.submit(name, **arguments)``; on
PostgreSQL that enqueues a job (optionally inside an open SQLAlchemy transaction, so the job
exists if and only if the rows it concerns were committed) and a ``takedown worker`` process
anywhere runs it.

- Retries: a failing job is retried with exponential backoff, then lands in ``failed``; the
  error of every attempt is kept in ``job_error`` (Procrastinate keeps only the status).
- Stalled jobs: a worker killed with SIGKILL stops sending heartbeats; every worker
  periodically hands the jobs of such workers back to the queue (Procrastinate's documented
  "retry stalled jobs" recipe, run in-process rather than as a cron task so that it works at
  seconds' granularity).
- Matching runs under one Procrastinate ``lock`` (one matching job at a time across the
  cluster: cluster merges are not safe to interleave); hashing runs in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate import RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy import Connection, Engine, insert, text

from takedown.jobs import TaskError, registered, serialise
from takedown.store.db import libpq_url
from takedown.store.errors import SchemaError

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
# Which queue each task runs in (workers may serve some queues only) and which lock it holds.
QUEUES: dict[str, str] = {
    "signals.compute": "hashing",
    "match.contents": "matching",
    "content.reprocess": "default",
    "verify.check": "verify",
    "verify.reuploads": "matching",
    "referrals.send": "referrals",
    "infra.import": "imports",
    "reports.build": "reports",
    "retention.purge": "default",
}
LOCKS: dict[str, str] = {"match.contents": "match"}
# Tasks of which at most one job may be waiting at a time (further submissions are no-ops).
SINGLETONS = frozenset({"content.reprocess"})


@dataclass(frozen=True)
class QueueOptions:
    max_attempts: int = 5
    backoff: int = 2  # waits backoff**1, backoff**2, ... s (Procrastinate's exponential_wait)


def queue_of(name: str) -> str:
    return QUEUES.get(name, DEFAULT_QUEUE)


def apply_queue_schema(engine: Engine) -> None:
    """Create Procrastinate's schema if absent; refuse a schema of another Procrastinate version.

    Called by ``takedown db upgrade`` under its advisory lock. Procrastinate's tables live
    beside ours but outside our Alembic revisions (its own SQL, versioned with the pinned
    package): the version that created them is written as a comment on ``procrastinate_jobs``.
    """
    version = procrastinate.__version__
    with engine.begin() as conn:
        exists = conn.scalar(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL"))
        if not exists:
            raw = conn.connection.driver_connection
            if raw is None:
                raise SchemaError("no database connection to apply the job queue's schema")
            raw.execute(SchemaManager.get_schema())  # one script, no parameters
            raw.execute(f"COMMENT ON TABLE procrastinate_jobs IS 'procrastinate {version}'")
            return
    check_queue_schema(engine)


def check_queue_schema(engine: Engine) -> None:
    expected = f"procrastinate {procrastinate.__version__}"
    with engine.connect() as conn:
        found = conn.scalar(
            text("SELECT obj_description(to_regclass('procrastinate_jobs'), 'pg_class')")
        )
    if found is None:
        raise SchemaError("the job queue has no schema yet: run `takedown db upgrade` first")
    if found != expected:
        raise SchemaError(
            f"the job queue schema was created by {found}, this Takedown uses {expected}: apply "
            "Procrastinate's migrations between the two versions (see docs/operations.md)"
        )


def build(
    database_url: str,
    context: Callable[[], Any] | None = None,
    options: QueueOptions | None = None,
) -> procrastinate.App:
    """A Procrastinate app that knows every Takedown task.

    ``context`` returns the Takedown App a task runs against (workers pass their own; an app
    built only to enqueue needs none).
    """
    from takedown.tasks import load

    load()
    opts = options or QueueOptions()
    papp = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=libpq_url(database_url))
    )
    # Procrastinate counts retries after the first run; ours counts every run.
    retry: RetryStrategy | bool = False
    if opts.max_attempts > 1:  # waits: backoff, backoff**2, backoff**3... seconds
        retry = RetryStrategy(max_attempts=opts.max_attempts - 1, exponential_wait=opts.backoff)
    for name in sorted(registered()):
        papp.task(
            name=name,
            queue=queue_of(name),
            lock=LOCKS.get(name),
            retry=retry,
            pass_context=True,
        )(_bridge(name, context))
    return papp


def _bridge(name: str, context: Callable[[], Any] | None) -> Callable[..., Any]:
    def run(job_context: Any, **arguments: Any) -> Any:
        if context is None:
            raise TaskError(f"task {name!r} reached an app built only to enqueue")
        app = context()
        fn = registered()[name]
        job = job_context.job
        try:
            result = fn(app, arguments)
        except Exception as exc:
            _record_error(app, job.id, name, job.attempts + 1, exc)
            raise
        _record_result(app, job.id, name, result)
        return result

    run.__name__ = name.replace(".", "_")
    return run


def _record_result(app: Any, job_id: int, name: str, result: Any) -> None:
    from takedown.jobs.results import store_result

    try:
        store_result(app.db.engine, job_id, name, result)
    except Exception:  # the job did its work; only `--wait` misses its result
        log.exception("could not record the result of job %s", job_id)


def _record_error(app: Any, job_id: int, name: str, attempt: int, exc: BaseException) -> None:
    from takedown.jobs.models import JobError

    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    try:
        with app.db.engine.begin() as conn:
            conn.execute(
                insert(JobError).values(
                    job_id=job_id, task_name=name, attempt=attempt, error=detail[:4000]
                )
            )
    except Exception:  # the queue records the failure even when this table cannot
        log.exception("could not record the error of job %s", job_id)


class QueueRunner:
    """Enqueues tasks as Procrastinate jobs; ``submit`` returns the job id."""

    def __init__(
        self, engine: Engine, database_url: str, options: QueueOptions | None = None
    ) -> None:
        self.engine = engine
        self.papp = build(database_url, options=options)

    def submit(self, name: str, **arguments: Any) -> Any:
        with self.engine.begin() as conn:
            return self.submit_in(conn, name, **arguments)

    def submit_in(self, conn: Connection, name: str, **arguments: Any) -> int | None:
        """Enqueue inside ``conn``'s transaction: the job exists only if it commits.

        Returns the job id, or None for a singleton task that already has a job waiting.
        """
        serialise(name, arguments)  # same errors as the in-process runner
        raw = conn.connection.dbapi_connection
        task = self.papp.tasks[name]
        lock = name if name in SINGLETONS else None
        if lock is None:
            return int(task.configure(connection=raw).defer(**arguments))
        try:
            with conn.begin_nested():  # a duplicate rolls back to here, not the caller's work
                job_id = task.configure(connection=raw, queueing_lock=lock).defer(**arguments)
        except AlreadyEnqueued:
            return None
        return int(job_id)


def run_worker(
    papp: procrastinate.App,
    *,
    queues: list[str] | None,
    concurrency: int,
    name: str,
    wait: bool,
    heartbeat: float,
    stalled_after: float,
) -> None:
    """Run a worker until it is stopped (SIGINT/SIGTERM) or, with ``wait=False``, idle."""

    options: dict[str, Any] = {
        "concurrency": concurrency,
        "name": name,
        "wait": wait,
        "update_heartbeat_interval": heartbeat,
        "stalled_worker_timeout": stalled_after,
        "fetch_job_polling_interval": min(5.0, max(0.2, heartbeat)),
    }
    if queues:
        options["queues"] = queues

    async def main() -> None:
        async with papp.open_async():
            recovery = asyncio.create_task(_recover_forever(papp, stalled_after, heartbeat))
            try:
                await papp.run_worker_async(**options)
            finally:
                recovery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await recovery

    asyncio.run(main())


async def recover_stalled(papp: procrastinate.App, stalled_after: float) -> int:
    """Hand the jobs of workers silent for ``stalled_after`` seconds back to the queue."""
    stalled = await papp.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
    count = 0
    for job in stalled:
        await papp.job_manager.retry_job(job)
        log.warning("job %s (%s) of a stalled worker queued again", job.id, job.task_name)
        count += 1
    if count:
        await papp.job_manager.prune_stalled_workers(seconds_since_heartbeat=stalled_after)
    return count


async def _recover_forever(papp: procrastinate.App, stalled_after: float, every: float) -> None:
    while True:
        try:
            await recover_stalled(papp, stalled_after)
        except Exception:
            log.exception("stalled-job recovery failed; trying again")
        await asyncio.sleep(max(every, 0.5))


def retry_failed(papp: procrastinate.App, job_ids: list[int] | None) -> list[int]:
    """Queue failed jobs again (all, or those given); returns the ids queued."""
    chosen = []
    for job in papp.job_manager.list_jobs(status="failed"):
        if job.id is not None and (job_ids is None or job.id in job_ids):
            chosen.append(job.id)
    for job_id in chosen:
        papp.job_manager.retry_job_by_id(job_id, retry_at=_now())
    return chosen


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
