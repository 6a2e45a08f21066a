"""Results of queued jobs, waiting for jobs to end, and files that jobs read or write.

A task returns JSON; in-process the caller gets it at once. Queued, the worker writes it to
``job_result`` when the job succeeds, so that a command run with ``--wait`` prints the same
result as an in-process run. Files a job needs (an upload to import) or makes (a built report)
go to ``job_file``: a worker on another machine has no access to this machine's disk.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, text

from takedown.jobs.models import JobError, JobFile, JobResult

FINISHED = frozenset({"succeeded", "failed", "cancelled", "aborted"})


class JobWaitError(Exception):
    """Jobs that did not end in time, or that are unknown."""


@dataclass(frozen=True)
class Outcome:
    job_id: int
    status: str
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class Dispatched:
    """A task call: run here (``result``) or queued (``job_id``)."""

    job_id: int | None = None
    result: Any = None

    @property
    def queued(self) -> bool:
        return self.job_id is not None


def dispatch(app: Any, name: str, **arguments: Any) -> Dispatched:
    """Run ``name`` in-process, or enqueue it on PostgreSQL; same arguments either way."""
    if app.queued:
        return Dispatched(job_id=int(app.jobs.submit(name, **arguments)))
    return Dispatched(result=app.jobs.submit(name, **arguments))


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):  # dates as the CLI's --json prints them
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def jsonable(value: Any) -> Any:
    """The JSON form of a task's result (dates in ISO 8601, other values as strings)."""
    return json.loads(json.dumps(value, default=_default))


def store_result(engine: Engine, job_id: int, name: str, result: Any) -> None:
    with engine.begin() as conn:
        conn.execute(delete(JobResult).where(JobResult.job_id == job_id))
        conn.execute(
            insert(JobResult).values(job_id=job_id, task_name=name, result=jsonable(result))
        )


_STATUS = text("SELECT id, status::text FROM procrastinate_jobs WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def wait_jobs(
    engine: Engine, job_ids: Sequence[int], *, timeout: float = 3600.0, poll: float = 0.2
) -> list[Outcome]:
    """Block until every job has ended; their outcomes in the order given."""
    ids = [int(i) for i in job_ids]
    if not ids:
        return []
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            status = {int(r[0]): str(r[1]) for r in conn.execute(_STATUS, {"ids": ids})}
        unknown = sorted(set(ids) - set(status))
        if unknown:
            raise JobWaitError(f"no such job: {', '.join(map(str, unknown))}")
        if all(s in FINISHED for s in status.values()):
            break
        if time.monotonic() > deadline:
            left = sorted(i for i, s in status.items() if s not in FINISHED)
            raise JobWaitError(f"jobs still not finished after {timeout:g} s: {left}")
        time.sleep(poll)
    with engine.connect() as conn:
        results = {
            r.job_id: r.result
            for r in conn.execute(
                select(JobResult.job_id, JobResult.result).where(JobResult.job_id.in_(ids))
            )
        }
        errors: dict[int, str] = {}
        for job_id, error in conn.execute(
            select(JobError.job_id, JobError.error)
            .where(JobError.job_id.in_(ids))
            .order_by(JobError.id)
        ):
            errors[job_id] = error
    return [
        Outcome(i, status[i], results.get(i), errors.get(i) if status[i] != "succeeded" else None)
        for i in ids
    ]


#: PostgreSQL keeps at most 1 GB in one value.
MAX_FILE_BYTES = 1000 * 1000 * 1000


def put_file(conn: Connection, purpose: str, name: str, data: bytes, media_type: str) -> int:
    """Store ``data`` for a job (or from one) in ``conn``'s transaction; returns its id."""
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(
            f"{name}: {len(data)} bytes, over the {MAX_FILE_BYTES} a job file may hold (split it)"
        )
    return int(
        conn.execute(
            insert(JobFile)
            .values(
                purpose=purpose,
                name=name[:255],
                media_type=media_type[:128],
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                data=data,
            )
            .returning(JobFile.id)
        ).scalar_one()
    )


def get_file(engine: Engine, file_id: int) -> Mapping[str, Any] | None:
    """The stored file (name, media_type, sha256, data), or None if there is none."""
    with engine.connect() as conn:
        row = conn.execute(
            select(JobFile.name, JobFile.media_type, JobFile.sha256, JobFile.data).where(
                JobFile.id == int(file_id)
            )
        ).first()
    if row is None:
        return None
    data = bytes(row.data)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise ValueError(f"job file {file_id} is corrupt (its SHA-256 does not match)")
    return {"name": row.name, "media_type": row.media_type, "sha256": row.sha256, "data": data}


def drop_file(engine: Engine, file_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(delete(JobFile).where(JobFile.id == int(file_id)))


__all__ = [
    "Dispatched",
    "JobWaitError",
    "Outcome",
    "dispatch",
    "drop_file",
    "get_file",
    "jsonable",
    "put_file",
    "store_result",
    "wait_jobs",
]
