"""Re-uploads: a new sighting whose content joins a cluster with an already removed sighting.

``mark_reupload`` is the hook the matching pipeline calls once a sighting's content has its
``cluster_id``; ``pending_reuploads`` lets the referral router put re-uploads first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.jobs import task
from takedown.store.models import Content, Sighting


def mark_reupload(session: Session, sighting: Sighting) -> bool:
    """Set ``reupload_of_id``/``reupload_gap_seconds`` if the sighting is a re-upload.

    The reference is the most recently removed earlier sighting of the same cluster (removed
    before this sighting was seen), so the gap is the shortest time the material stayed down.
    Idempotent; returns True if the sighting is (now) marked as a re-upload.
    """
    if sighting.reupload_of_id is not None:
        return True
    if sighting.content_id is None or sighting.seen_at is None:
        return False
    cluster_id = session.scalar(select(Content.cluster_id).where(Content.id == sighting.content_id))
    if cluster_id is None:
        return False
    earlier = session.execute(
        select(Sighting)
        .join(Content, Content.id == Sighting.content_id)
        .where(
            Content.cluster_id == cluster_id,
            Sighting.id != sighting.id,
            Sighting.removed_at.is_not(None),
            Sighting.removed_at <= sighting.seen_at,
        )
        .order_by(Sighting.removed_at.desc(), Sighting.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if earlier is None or earlier.removed_at is None:
        return False
    sighting.reupload_of_id = earlier.id
    sighting.reupload_gap_seconds = (sighting.seen_at - earlier.removed_at).total_seconds()
    return True


def pending_reuploads(session: Session) -> list[Sighting]:
    """Re-uploaded sightings not yet removed, oldest first (to be referred before the rest)."""
    return list(
        session.scalars(
            select(Sighting)
            .where(Sighting.reupload_of_id.is_not(None), Sighting.removed_at.is_(None))
            .order_by(Sighting.seen_at, Sighting.id)
        )
    )


def mark_reuploads_of_content(session: Session, content_id: int) -> int:
    """Hook for the matcher, after ``content_id`` got its cluster: mark its sightings."""
    sightings = session.scalars(
        select(Sighting).where(Sighting.content_id == content_id, Sighting.reupload_of_id.is_(None))
    ).all()
    return sum(mark_reupload(session, s) for s in sightings)


def mark_reuploads_of_import(session: Session, import_id: int) -> int:
    """Hook for intake, after an import run: its sightings of content that already belongs to
    a cluster with a removed sighting (exact copies never reach the matcher again)."""
    removed_clusters = (
        select(Content.cluster_id)
        .join(Sighting, Sighting.content_id == Content.id)
        .where(Sighting.removed_at.is_not(None), Content.cluster_id.is_not(None))
        .distinct()
    )
    sightings = session.scalars(
        select(Sighting)
        .join(Content, Content.id == Sighting.content_id)
        .where(
            Sighting.import_id == import_id,
            Sighting.reupload_of_id.is_(None),
            Content.cluster_id.in_(removed_clusters),
        )
    ).all()
    return sum(mark_reupload(session, s) for s in sightings)


@task("verify.reuploads")
def reuploads_task(app: Any, args: Mapping[str, Any]) -> dict[str, int]:
    """Mark the re-uploads among an import run's sightings (idempotent)."""
    import_id = args.get("import_id")
    if not isinstance(import_id, int) or isinstance(import_id, bool):
        raise ValueError(f"import_id must be an integer, not {import_id!r}")
    with app.db.session() as session:
        return {"import_id": import_id, "marked": mark_reuploads_of_import(session, import_id)}


__all__ = [
    "mark_reupload",
    "mark_reuploads_of_content",
    "mark_reuploads_of_import",
    "pending_reuploads",
    "reuploads_task",
]
