"""Retention: preserve removed content for a period (TCO Art. 6), then purge it.

Content becomes purgeable ``retention_days`` after it is confirmed removed, unless a legal hold
that has not been lifted suspends it. Purging deletes the blob, keeps the row (hashes, size,
kind) so that signals and history stay meaningful, and records a custody event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select

from takedown.app import App
from takedown.jobs import task
from takedown.store.models import Content, CustodyEvent, LegalHold


@dataclass(frozen=True)
class PurgeItem:
    content_id: int
    sha256: str
    size: int
    removed_confirmed_at: datetime
    blob_deleted: bool


class HoldError(Exception):
    """A legal hold that cannot be placed or lifted as asked."""


def expired(app: App, now: datetime | None = None) -> list[Content]:
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=app.settings.retention_days)
    held = exists().where(and_(LegalHold.content_id == Content.id, LegalHold.lifted_at.is_(None)))
    query = (
        select(Content)
        .where(Content.removed_confirmed_at.is_not(None))
        .where(Content.removed_confirmed_at <= cutoff)
        .where(Content.purged_at.is_(None))
        .where(~held)
        .order_by(Content.id)
    )
    with app.db.session() as session:
        return list(session.scalars(query))


def purge(
    app: App, *, dry_run: bool = False, actor: str | None = None, now: datetime | None = None
) -> list[PurgeItem]:
    now = now or datetime.now(UTC)
    done: list[PurgeItem] = []
    for content in expired(app, now):
        removed = content.removed_confirmed_at
        if removed is None:
            continue
        if dry_run:
            done.append(PurgeItem(content.id, content.sha256, content.size, removed, False))
            continue
        with app.db.session() as session:
            row = session.get(Content, content.id, with_for_update=True)
            if row is None or row.purged_at is not None:
                continue
            deleted = app.blobs.delete(row.sha256)
            row.purged_at = now
            session.add(
                CustodyEvent(
                    subject_type="content",
                    subject_id=row.id,
                    action="purged",
                    actor=actor,
                    at=now,
                    detail={
                        "sha256": row.sha256,
                        "size": row.size,
                        "removed_confirmed_at": removed.isoformat(),
                        "retention_days": app.settings.retention_days,
                        "blob_deleted": deleted,
                    },
                )
            )
        done.append(PurgeItem(content.id, content.sha256, content.size, removed, deleted))
    return done


@task("retention.purge")
def purge_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """Purge every item past retention (idempotent: purged content is never purged again)."""
    actor = args.get("actor")
    if actor is not None and not isinstance(actor, str):
        raise ValueError(f"actor must be text, not {actor!r}")
    dry_run = bool(args.get("dry_run", False))
    items = purge(app, dry_run=dry_run, actor=actor)
    return {
        "dry_run": dry_run,
        "retention_days": app.settings.retention_days,
        "purged": [vars(i) for i in items],
    }


def place_hold(app: App, sha256: str, reason: str, actor: str | None) -> LegalHold:
    if not reason.strip():
        raise HoldError("a legal hold needs a reason")
    with app.db.session() as session:
        content = session.scalar(select(Content).where(Content.sha256 == sha256.lower()))
        if content is None:
            raise HoldError(f"no content with SHA-256 {sha256}")
        if content.purged_at is not None:
            raise HoldError(f"content {sha256} was purged on {content.purged_at.isoformat()}")
        hold = LegalHold(content_id=content.id, reason=reason, placed_by=actor)
        session.add(hold)
        session.flush()
        session.add(
            CustodyEvent(
                subject_type="content",
                subject_id=content.id,
                action="hold_placed",
                actor=actor,
                detail={"hold": hold.id, "reason": reason},
            )
        )
        return hold


def lift_hold(app: App, hold_id: int, actor: str | None) -> LegalHold:
    with app.db.session() as session:
        hold = session.get(LegalHold, hold_id)
        if hold is None:
            raise HoldError(f"no legal hold {hold_id}")
        if hold.lifted_at is not None:
            raise HoldError(f"legal hold {hold_id} was already lifted")
        hold.lifted_at = datetime.now(UTC)
        hold.lifted_by = actor
        session.add(
            CustodyEvent(
                subject_type="content",
                subject_id=hold.content_id,
                action="hold_lifted",
                actor=actor,
                detail={"hold": hold.id},
            )
        )
        return hold


def list_holds(app: App, *, active_only: bool = True) -> list[tuple[LegalHold, str]]:
    query = select(LegalHold, Content.sha256).join(Content, Content.id == LegalHold.content_id)
    if active_only:
        query = query.where(LegalHold.lifted_at.is_(None))
    with app.db.session() as session:
        return [(hold, sha) for hold, sha in session.execute(query.order_by(LegalHold.id))]
