"""What happens to new content after it is stored: signals, then matching (as tasks).

In-process (the embedded default) both run before this returns, chunk by chunk. Queued (on
PostgreSQL), one hashing job per chunk is enqueued; when it has run it enqueues the matching
of its chunk. Intake enqueues those jobs inside the transaction that stores the content
(:func:`enqueue_new_content`), so content rows and their jobs commit together or not at all.
Either way a crash leaves content ``pending`` or unmatched, never half-stored, and
``takedown reprocess`` finishes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from takedown.app import App

CHUNK = 500
# Queued chunks are smaller so that hashing spreads over every worker.
QUEUED_CHUNK = 50


def process_new_content(app: App, content_ids: Sequence[int]) -> dict[str, int]:
    """Submit hashing and matching of committed content; returns totals of in-process runs.

    Queued, the totals count the jobs enqueued (``queued``) instead.
    """
    totals = {"hashed": 0, "signals": 0, "failed": 0, "contents": 0, "known": 0, "copies": 0}
    ids = sorted(int(i) for i in content_ids)
    if app.queued:
        return {"queued": submit_chunks(app, "signals.compute", ids, then_match=True)}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for name in ("signals.compute", "match.contents"):
            result: Any = app.jobs.submit(name, content_ids=chunk)
            if isinstance(result, dict):
                for key, value in result.items():
                    if key in totals:
                        totals[key] += int(value)
    return totals


def submit_chunks(app: App, name: str, ids: Sequence[int], **extra: Any) -> int:
    """Submit ``name`` over ``ids`` in chunks; returns the number of submissions."""
    count = 0
    size = QUEUED_CHUNK if app.queued else CHUNK
    for start in range(0, len(ids), size):
        app.jobs.submit(name, content_ids=list(ids[start : start + size]), **extra)
        count += 1
    return count


def enqueue_new_content(app: App, conn: Connection, content_ids: Sequence[int]) -> int:
    """Enqueue hashing (then matching) of ``content_ids`` inside ``conn``'s open transaction.

    Only for a queued app (PostgreSQL); returns the number of jobs enqueued.
    """
    from takedown.jobs.queue import QueueRunner

    runner = app.jobs
    if not isinstance(runner, QueueRunner):
        raise TypeError("enqueue_new_content needs the queued runner (PostgreSQL)")
    ids = sorted(int(i) for i in content_ids)
    count = 0
    for start in range(0, len(ids), QUEUED_CHUNK):
        chunk = ids[start : start + QUEUED_CHUNK]
        runner.submit_in(conn, "signals.compute", content_ids=chunk, then_match=True)
        count += 1
    return count
