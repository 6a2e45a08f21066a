"""The web board (``takedown.web.views`` calls :func:`board`) and the referral listing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from takedown.app import App
from takedown.referrals.models import Referral, ReferralDelivery, ReferralItem
from takedown.store.models import utcnow

UNSENT = ("drafted", "issued")
OPEN = ("sent", "acknowledged", "received", "paused")


def listing(app: App, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Referrals, newest first, with item counts and their outbox state (no secrets)."""
    with app.db.session() as session:
        counts = dict(
            session.execute(
                select(ReferralItem.referral_id, func.count()).group_by(ReferralItem.referral_id)
            ).all()
        )
        deliveries: dict[int, list[dict[str, Any]]] = {}
        for d in session.scalars(select(ReferralDelivery)):
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
        query = select(Referral).order_by(Referral.id.desc()).limit(limit)
        if state:
            query = query.where(Referral.state == state)
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
            for r in session.scalars(query)
        ]


def board(app: App) -> Iterator[dict[str, Any]]:
    """Per addressee: pending (unsent or undelivered), overdue (order past deadline), answered."""
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    with app.db.session() as session:
        for r in session.scalars(select(Referral)):
            row = rows.setdefault(
                r.addressee_key,
                {"addressee": r.addressee_name, "pending": 0, "overdue": 0, "answered": 0},
            )
            if r.state in UNSENT or r.state in OPEN:
                row["pending"] += 1
            else:
                row["answered"] += 1
            if r.deadline is not None and r.deadline < now and r.state in ("sent", "received"):
                row["overdue"] += 1
    yield from (rows[k] for k in sorted(rows))
