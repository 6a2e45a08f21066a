"""What the queue holds: counts per task and state, stalled and failed jobs, idleness.

Read straight from Procrastinate's tables with our own engine (one query each), so the CLI and
the workspace page need no open Procrastinate app. On SQLite (in-process runner) there is no
queue: everything is reported empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, text

STATES = ("queued", "running", "stalled", "failed", "succeeded", "cancelled")

_COUNTS = text(
    """
    SELECT j.task_name, j.status::text AS status,
           (j.status = 'doing' AND (w.id IS NULL OR
                w.last_heartbeat < NOW() - make_interval(secs => :stalled_after))) AS stalled,
           COUNT(*) AS n
      FROM procrastinate_jobs j
      LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
     GROUP BY 1, 2, 3
    """
)
_FAILED = text(
    """
    SELECT j.id, j.task_name, j.queue_name, j.attempts, j.args,
           (SELECT e.error FROM job_error e WHERE e.job_id = j.id ORDER BY e.id DESC LIMIT 1)
               AS error,
           (SELECT MAX(ev.at) FROM procrastinate_events ev WHERE ev.job_id = j.id) AS at
      FROM procrastinate_jobs j
     WHERE j.status = 'failed'
     ORDER BY j.id DESC
     LIMIT :limit
    """
)
_WORKERS = text(
    "SELECT id, last_heartbeat, "
    "last_heartbeat < NOW() - make_interval(secs => :stalled_after) AS stalled "
    "FROM procrastinate_workers ORDER BY id"
)
_BUSY = text("SELECT COUNT(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")


@dataclass
class QueueStatus:
    backend: str
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    tasks: dict[str, dict[str, int]] = field(default_factory=dict)
    failed: list[dict[str, Any]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not (self.totals["queued"] or self.totals["running"] or self.totals["stalled"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "idle": self.idle,
            "totals": self.totals,
            "tasks": self.tasks,
            "failed": self.failed,
            "workers": self.workers,
        }


def _state(status: str, stalled: bool) -> str:
    if stalled:
        return "stalled"
    return {"todo": "queued", "doing": "running"}.get(status, status)


def has_queue(engine: Engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")))


def queue_status(engine: Engine, *, stalled_after: float = 30.0, failed: int = 50) -> QueueStatus:
    """Counts per task and state; the newest ``failed`` failed jobs with their last error."""
    if not has_queue(engine):
        return QueueStatus(backend="in-process")
    status = QueueStatus(backend="procrastinate")
    with engine.connect() as conn:
        for task_name, raw, stalled, n in conn.execute(_COUNTS, {"stalled_after": stalled_after}):
            state = _state(raw, bool(stalled))
            if state not in status.totals:
                status.totals[state] = 0
            status.totals[state] += int(n)
            per = status.tasks.setdefault(task_name, dict.fromkeys(STATES, 0))
            per[state] = per.get(state, 0) + int(n)
        for row in conn.execute(_FAILED.bindparams(bindparam("limit")), {"limit": failed}):
            status.failed.append(
                {
                    "id": row.id,
                    "task": row.task_name,
                    "queue": row.queue_name,
                    "attempts": row.attempts,
                    "error": row.error,
                    "at": row.at.isoformat() if isinstance(row.at, datetime) else None,
                    "args": _short_args(row.args),
                }
            )
        for row in conn.execute(_WORKERS, {"stalled_after": stalled_after}):
            status.workers.append(
                {
                    "id": row.id,
                    "last_heartbeat": row.last_heartbeat.isoformat(),
                    "stalled": bool(row.stalled),
                }
            )
    return status


def _short_args(args: Any) -> Any:
    if isinstance(args, dict):
        ids = args.get("content_ids")
        if isinstance(ids, list) and len(ids) > 6:
            return {**args, "content_ids": [*ids[:3], "...", *ids[-2:]], "count": len(ids)}
    return args


def wait_idle(engine: Engine, *, timeout: float | None, poll: float = 0.5) -> bool:
    """Block until no job is queued or running (retries waiting count as queued).

    Returns False if ``timeout`` seconds passed first.
    """
    if not has_queue(engine):
        return True
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            busy = int(conn.scalar(_BUSY) or 0)
        if busy == 0:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(poll)
