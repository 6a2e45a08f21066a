"""Sharing one sighting with another agency on purpose: the only way (besides a joint
operation) another agency sees a report's notes, operation, decisions, content and media.

Only the agency that reported the sighting shares it (and withdraws the share); each share
and each withdrawal is a row (``access_share``), so the audit chain records who did it and
when. Sharing a sighting shares that report only, not the other reports of the same item.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.access.models import AccessShare
from takedown.store.models import utcnow


class ShareRefused(ValueError):
    """A share the caller may not make (the message is safe to show)."""


def _owner_of(session: Session, sighting_id: int) -> int | None:
    from takedown.ops.dedup import link_new
    from takedown.ops.models import OpsSightingLink

    link_new(session)
    return session.scalar(
        select(OpsSightingLink.agency_id).where(OpsSightingLink.sighting_id == sighting_id)
    )


def _agency_id(session: Session, name: str) -> int:
    from takedown.api.models import ApiAgency

    found = session.scalar(select(ApiAgency.id).where(ApiAgency.name == name.strip()))
    if found is None:
        raise ShareRefused(f"no agency named {name!r}")
    return found


def share(
    session: Session,
    sighting_id: int,
    *,
    from_agency_id: int,
    to_agency: str,
    actor: str | None,
    note: str | None = None,
) -> AccessShare:
    """``from_agency_id`` shares its sighting with ``to_agency`` (idempotent)."""
    if _owner_of(session, sighting_id) != from_agency_id:
        raise ShareRefused(f"no sighting {sighting_id} of your agency")
    to_id = _agency_id(session, to_agency)
    if to_id == from_agency_id:
        raise ShareRefused("an agency sees its own sightings already")
    row = session.scalar(
        select(AccessShare).where(
            AccessShare.sighting_id == sighting_id, AccessShare.to_agency_id == to_id
        )
    )
    if row is None:
        row = AccessShare(
            sighting_id=sighting_id,
            from_agency_id=from_agency_id,
            to_agency_id=to_id,
            shared_by=actor,
            note=(note or "").strip()[:4000] or None,
        )
        session.add(row)
    elif row.withdrawn_at is not None:
        row.withdrawn_at, row.withdrawn_by = None, None
        row.shared_by, row.shared_at = actor, utcnow()
    session.flush()
    return row


def withdraw(
    session: Session, sighting_id: int, *, from_agency_id: int, to_agency: str, actor: str | None
) -> AccessShare:
    to_id = _agency_id(session, to_agency)
    row = session.scalar(
        select(AccessShare).where(
            AccessShare.sighting_id == sighting_id,
            AccessShare.to_agency_id == to_id,
            AccessShare.from_agency_id == from_agency_id,
            AccessShare.withdrawn_at.is_(None),
        )
    )
    if row is None:
        raise ShareRefused(f"sighting {sighting_id} is not shared with {to_agency!r}")
    row.withdrawn_at, row.withdrawn_by = utcnow(), actor
    session.flush()
    return row


def share_view(session: Session, row: AccessShare) -> dict[str, Any]:
    from takedown.api.models import ApiAgency

    names = dict(
        session.execute(
            select(ApiAgency.id, ApiAgency.name).where(
                ApiAgency.id.in_([row.from_agency_id, row.to_agency_id])
            )
        ).all()
    )
    return {
        "sighting_id": row.sighting_id,
        "from": names.get(row.from_agency_id),
        "to": names.get(row.to_agency_id),
        "shared_by": row.shared_by,
        "shared_at": row.shared_at.isoformat(),
        "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
    }
