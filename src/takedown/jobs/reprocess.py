"""Find and finish content that a crash left unhashed or unmatched (a task; idempotent).

Content is ``pending`` until its signals commit and has no ``matched_at`` until its matching
commits. Whatever killed a run in between (kill -9, a lost worker, a full disk), this finds
the content concerned and submits it again: in-process it is finished before this returns;
queued, jobs are enqueued (content already named by a waiting or running job is left to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, exists, func, select, text

from takedown.jobs import task
from takedown.store.models import Content


def unfinished(app: Any) -> tuple[list[int], list[int]]:
    """(content still pending, content hashed but not matched), skipping purged content."""
    live = Content.purged_at.is_(None)
    query_pending = select(Content.id).where(live, Content.signals_state == "pending")
    query_unmatched = select(Content.id).where(
        live, Content.signals_state != "pending", Content.matched_at.is_(None)
    )
    if app.queued:
        in_flight = exists(
            select(text("1"))
            .select_from(text("procrastinate_jobs j"))
            .where(
                text("j.status IN ('todo', 'doing')"),
                text("j.task_name IN ('signals.compute', 'match.contents')"),
                text("j.args -> 'content_ids' @> to_jsonb(content.id)"),
            )
        )
        query_pending = query_pending.where(~in_flight)
        query_unmatched = query_unmatched.where(~in_flight)
    with app.db.session() as session:
        pending = list(session.scalars(query_pending.order_by(Content.id)))
        unmatched = list(session.scalars(query_unmatched.order_by(Content.id)))
    return pending, unmatched


def backlog(app: Any) -> dict[str, int]:
    """How much content is not finished yet (whether or not a job is on it)."""
    live = Content.purged_at.is_(None)
    with app.db.session() as session:
        pending = session.scalar(
            select(func.count()).where(live, Content.signals_state == "pending")
        )
        unmatched = session.scalar(
            select(func.count()).where(
                live,
                and_(Content.signals_state != "pending", Content.matched_at.is_(None)),
            )
        )
        failed = session.scalar(select(func.count()).where(live, Content.signals_state == "error"))
    return {"pending": pending or 0, "unmatched": unmatched or 0, "hash_errors": failed or 0}


def reprocess(app: Any) -> dict[str, Any]:
    from takedown.matching.pipeline import CHUNK, process_new_content, submit_chunks

    pending, unmatched = unfinished(app)
    result: dict[str, Any] = {"pending": len(pending), "unmatched": len(unmatched)}
    if app.queued:
        result["queued"] = submit_chunks(
            app, "signals.compute", pending, then_match=True
        ) + submit_chunks(app, "match.contents", unmatched)
        return result
    totals = process_new_content(app, pending)
    for start in range(0, len(unmatched), CHUNK):
        done: Any = app.jobs.submit("match.contents", content_ids=unmatched[start : start + CHUNK])
        totals["contents"] += int(done.get("contents", 0)) if isinstance(done, dict) else 0
    result.update(hashed=totals["hashed"], matched=totals["contents"])
    return result


@task("content.reprocess")
def reprocess_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    return reprocess(app)
