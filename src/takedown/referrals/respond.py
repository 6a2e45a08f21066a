"""Recording an answer (from a callback, the API or an operator) on a referral and its items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.referrals.machine import Outcome, apply, mark_removed
from takedown.referrals.models import Referral, ReferralItem

ITEM_STATUSES = ("removed", "rejected", "impossible", "missing_information", "reinstated", "live")


class UnknownReference(LookupError):
    """No referral has this reference."""


class BadItem(ValueError):
    """An item answer that names no item of the referral or carries an unknown status."""


@dataclass
class ItemAnswer:
    item_id: str
    status: str
    at: datetime


@dataclass
class Response:
    outcome: Outcome
    items: list[dict[str, Any]] = field(default_factory=list)


def find(session: Session, reference: str) -> Referral:
    referral = session.scalar(select(Referral).where(Referral.reference == reference))
    if referral is None:
        raise UnknownReference(f"unknown reference {reference!r}")
    return referral


def record(
    session: Session,
    reference: str,
    status: str,
    at: datetime,
    *,
    reason: str | None = None,
    source: str = "operator",
    items: Sequence[ItemAnswer] = (),
) -> Response:
    """Applies an answer in the caller's transaction; raises before changing anything when
    the reference, a status or an item is unknown or the transition is illegal."""
    referral = find(session, reference)
    by_id = {
        str(i.sighting_id): i
        for i in session.scalars(
            select(ReferralItem).where(ReferralItem.referral_id == referral.id)
        )
    }
    for answer in items:
        if answer.item_id not in by_id:
            raise BadItem(f"{reference}: no item {answer.item_id!r} in this referral")
        if answer.status not in ITEM_STATUSES:
            raise BadItem(f"item {answer.item_id!r}: unknown status {answer.status!r}")
    outcome = apply(
        session,
        referral,
        status,
        at=at,
        source=source,
        reason=reason,
        detail={"items": len(items)} if items else None,
    )
    changed: list[dict[str, Any]] = []
    for answer in items:
        item = by_id[answer.item_id]
        if item.status == answer.status and item.status_at == answer.at:
            continue
        item.status, item.status_at = answer.status, answer.at
        if answer.status == "removed":
            mark_removed(session, item.sighting_id, answer.at)
        changed.append({"item_id": answer.item_id, "status": answer.status})
    return Response(outcome, changed)
