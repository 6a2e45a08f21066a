"""The web board (``takedown.web.views`` calls :func:`board`) and the referral listing.

Every filter is SQL: state, addressee, overdue (a removal order past its deadline, still
``sent`` or ``received``), operation (a referral with an item filed under it) and agency
scoping (``viewer``: the referrals :func:`takedown.access.visibility.referral_filter` lets it see,
with item counts of the items it may see). Item counts and deliveries are loaded for the
listed referrals only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select

from takedown.app import App
from takedown.referrals.models import Referral, ReferralDelivery, ReferralItem
from takedown.store.models import Sighting, utcnow

if TYPE_CHECKING:
    from takedown.access.visibility import Viewer

UNSENT = ("drafted", "issued")
OPEN = ("sent", "acknowledged", "received", "paused")
OVERDUE_STATES = ("sent", "received")


def overdue_filter(now: datetime) -> ColumnElement[bool]:
    """A referral with a deadline past ``now`` that is still waiting for its answer."""
    return and_(
        Referral.deadline.is_not(None),
        Referral.deadline < now,
        Referral.state.in_(OVERDUE_STATES),
    )


def listing(
    app: App,
    state: str | None = None,
    limit: int = 500,
    *,
    addressee: str | None = None,
    overdue: bool = False,
    operation: str | None = None,
    viewer: Viewer | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Referrals, newest first, with item counts and their outbox state (no secrets)."""
    with app.db.session() as session:
        query = select(Referral).order_by(Referral.id.desc()).limit(limit)
        if state:
            query = query.where(Referral.state == state)
        if addressee:
            query = query.where(Referral.addressee_key == addressee)
        if overdue:
            query = query.where(overdue_filter(now or utcnow()))
        if operation:
            query = query.where(
                exists()
                .where(ReferralItem.referral_id == Referral.id)
                .where(Sighting.id == ReferralItem.sighting_id)
                .where(Sighting.operation == operation)
            )
        items: Any = ReferralItem.id.is_not(None)
        if viewer is not None:
            from takedown.access.visibility import referral_filter, visible_ids

            query = query.where(referral_filter(session, viewer))
            if viewer.platform_key is None:
                items = ReferralItem.sighting_id.in_(visible_ids(session, viewer))
        referrals = list(session.scalars(query))
        ids = [r.id for r in referrals]
        counts: dict[int, int] = {}
        deliveries: dict[int, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            for referral_id, count in session.execute(
                select(ReferralItem.referral_id, func.count())
                .where(ReferralItem.referral_id.in_(chunk), items)
                .group_by(ReferralItem.referral_id)
            ):
                counts[referral_id] = count
            for d in session.scalars(
                select(ReferralDelivery)
                .where(ReferralDelivery.referral_id.in_(chunk))
                .order_by(ReferralDelivery.id)
            ):
                deliveries.setdefault(d.referral_id, []).append(
                    {
                        "channel": d.channel,
                        "state": d.state,
                        "attempts": d.attempts,
                        "next_attempt_at": d.next_attempt_at,
                        "sent_at": d.sent_at,
                        "last_error": d.last_error,
                        "delivery_key": d.delivery_key,
                    }
                )
        return [
            {
                "reference": r.reference,
                "kind": r.kind,
                "state": r.state,
                "addressee": r.addressee_key,
                "addressee_name": r.addressee_name,
                "addressee_kind": r.addressee_kind,
                "items": counts.get(r.id, 0),
                "basis": r.basis,
                "created_at": r.created_at,
                "sent_at": r.sent_at,
                "received_at": r.received_at,
                "deadline": r.deadline,
                "deadline_met": r.deadline_met,
                "scrutiny": r.scrutiny,
                "reason": r.reason,
                "deliveries": deliveries.get(r.id, []),
            }
            for r in referrals
        ]


def board(
    app: App, *, viewer: Viewer | None = None, now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Per addressee: pending (unsent or undelivered), overdue (order past deadline), answered;
    counted by the database (one grouped query)."""
    now = now or utcnow()
    pending = Referral.state.in_(UNSENT + OPEN)
    with app.db.session() as session:
        query = (
            select(
                Referral.addressee_key,
                func.min(Referral.addressee_name),
                func.sum(case((pending, 1), else_=0)),
                func.sum(case((overdue_filter(now), 1), else_=0)),
                func.sum(case((pending, 0), else_=1)),
            )
            .group_by(Referral.addressee_key)
            .order_by(Referral.addressee_key)
        )
        if viewer is not None:
            from takedown.access.visibility import referral_filter

            query = query.where(referral_filter(session, viewer))
        rows = session.execute(query).all()
    for _key, name, pending_n, overdue_n, answered_n in rows:
        yield {
            "addressee": name,
            "pending": int(pending_n or 0),
            "overdue": int(overdue_n or 0),
            "answered": int(answered_n or 0),
        }
