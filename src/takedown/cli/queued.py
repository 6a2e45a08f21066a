"""What commands share when their work runs as jobs (PostgreSQL): ``--wait`` and the job ids.

Without ``--wait`` a command prints the ids of the jobs it enqueued (``{"jobs": [...]}`` with
``--json``) and returns at once; with ``--wait`` it blocks until those jobs end and prints the
same result as an in-process run. On the embedded default (SQLite) nothing is queued and the
options change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from takedown.cli.output import console, fail, print_json

F = TypeVar("F", bound=Callable[..., Any])


def wait_option(fn: F) -> F:
    """Adds ``--wait`` and ``--wait-timeout`` to a command whose work may be queued."""
    fn = click.option(
        "--wait-timeout",
        type=click.FloatRange(min=0),
        default=3600.0,
        show_default=True,
        help="With --wait: give up (exit 1) after this many seconds.",
    )(fn)
    return click.option(
        "--wait",
        is_flag=True,
        help="When queued (PostgreSQL): block until the jobs end and print their result.",
    )(fn)


def collect(
    app: Any,
    job_ids: Sequence[int],
    *,
    wait: bool,
    timeout: float,
    as_json: bool,
    extra: dict[str, Any] | None = None,
) -> list[Any] | None:
    """Print the queued jobs and return None, or (``wait``) return each job's result in order.

    A job that failed (after its retries) or did not end in time makes the command fail.
    """
    from takedown.jobs.results import JobWaitError, wait_jobs

    ids = [int(i) for i in job_ids]
    if not wait:
        out = {"jobs": ids, **(extra or {})}
        if as_json:
            print_json(out)
        else:
            shown = ", ".join(map(str, ids)) or "none"
            console.print(
                f"Queued {len(ids)} job(s): {shown}. Follow them with `takedown jobs` "
                "(or pass --wait)."
            )
        return None
    try:
        outcomes = wait_jobs(app.db.engine, ids, timeout=timeout)
    except JobWaitError as exc:
        raise fail(str(exc)) from exc
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise fail(
            "; ".join(
                f"job {o.job_id} {o.status}: {o.error or 'no error recorded'}" for o in failed
            )
        )
    return [o.result for o in outcomes]


def submit_chunks(app: Any, name: str, key: str, ids: Sequence[int], size: int) -> list[int]:
    """Enqueue ``name`` once per chunk of ``ids`` (as argument ``key``); the job ids."""
    return [
        int(app.jobs.submit(name, **{key: list(ids[start : start + size])}))
        for start in range(0, len(ids), size)
    ]


__all__ = ["collect", "submit_chunks", "wait_option"]
