"""Complaints about removals (TCO Regulation Art. 10): recorded, answered within two weeks.

An upheld complaint reinstates the item: the complaint records ``reinstated_at``, and the
referral that removed it (if any) moves to ``reinstated`` through the referrals state machine
(so its event is kept like every other transition). Reports count both.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.ops.agencies import OpsError
from takedown.ops.models import OpsComplaint
from takedown.referrals.machine import IllegalTransition, apply
from takedown.referrals.models import Referral, ReferralItem
from takedown.store.models import Sighting, utcnow

ANSWER_WITHIN = timedelta(days=14)
#: Plausible times of receipt: not before this (a ``received_at: 0`` is the unix epoch, not a
#: complaint of 1970) and not later than now plus a clock skew.
EARLIEST_RECEIVED = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=10)
OUTCOMES = ("upheld", "rejected")


def record_complaint(
    session: Session,
    *,
    sighting_id: int,
    complainant: str,
    grounds: str,
    received_at: datetime | None = None,
) -> OpsComplaint:
    received_at = received_at or utcnow()
    if received_at.tzinfo is None:
        raise OpsError("the time received must carry a time zone (UTC)")
    if received_at < EARLIEST_RECEIVED:
        raise OpsError(
            f"the time received {received_at:%Y-%m-%d} is before {EARLIEST_RECEIVED:%Y}: "
            "not a plausible time (a 0 is the unix epoch)"
        )
    if received_at > utcnow() + CLOCK_SKEW:
        raise OpsError(f"the time received {received_at:%Y-%m-%d %H:%M} is in the future")
    sighting = session.get(Sighting, sighting_id)
    if sighting is None:
        raise OpsError(f"no sighting {sighting_id}")
    complainant, grounds = complainant.strip(), grounds.strip()
    if not complainant or len(complainant) > 200:
        raise OpsError("a complainant needs 1 to 200 characters")
    if not grounds:
        raise OpsError("a complaint needs its grounds")
    referral_id = session.scalar(
        select(ReferralItem.referral_id)
        .join(Referral, Referral.id == ReferralItem.referral_id)
        .where(ReferralItem.sighting_id == sighting_id, Referral.removed_at.is_not(None))
        .order_by(Referral.removed_at)
        .limit(1)
    )
    complaint = OpsComplaint(
        sighting_id=sighting_id,
        referral_id=referral_id,
        complainant=complainant,
        grounds=grounds[:20000],
        received_at=received_at,
        deadline=received_at + ANSWER_WITHIN,
    )
    session.add(complaint)
    session.flush()
    return complaint


def decide(
    session: Session,
    complaint_id: int,
    outcome: str,
    *,
    reason: str,
    actor: str | None = None,
    at: datetime | None = None,
) -> OpsComplaint:
    if outcome not in OUTCOMES:
        raise OpsError(f"outcome must be one of: {', '.join(OUTCOMES)}")
    if not reason.strip():
        raise OpsError("a decision needs its reason (it is sent to the complainant)")
    complaint = session.get(OpsComplaint, complaint_id)
    if complaint is None:
        raise OpsError(f"no complaint {complaint_id}")
    if complaint.decided_at is not None:
        raise OpsError(f"complaint {complaint_id} was decided already ({complaint.outcome})")
    at = at or utcnow()
    complaint.decided_at, complaint.outcome = at, outcome
    complaint.decision_reason, complaint.decided_by = reason.strip(), actor
    if outcome == "upheld":
        complaint.reinstated_at = at
        if complaint.referral_id is not None:
            referral = session.get(Referral, complaint.referral_id)
            if referral is not None:
                # a referral no longer in a removed state stays as it is; the complaint counts
                with contextlib.suppress(IllegalTransition):
                    apply(session, referral, "reinstated", at=at, reason="complaint upheld")
    session.flush()
    return complaint


def complaint_view(c: OpsComplaint, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": c.id,
        "sighting_id": c.sighting_id,
        "referral_id": c.referral_id,
        "complainant": c.complainant,
        "grounds": c.grounds,
        "received_at": c.received_at.isoformat(),
        "deadline": c.deadline.isoformat(),
        "overdue": c.decided_at is None and c.deadline < now,
        "decided_at": c.decided_at.isoformat() if c.decided_at else None,
        "answered_in_time": None if c.decided_at is None else c.decided_at <= c.deadline,
        "outcome": c.outcome,
        "decision_reason": c.decision_reason,
        "reinstated_at": c.reinstated_at.isoformat() if c.reinstated_at else None,
    }


def list_complaints(session: Session, *, open_only: bool = False) -> list[dict[str, Any]]:
    query = select(OpsComplaint).order_by(OpsComplaint.id)
    if open_only:
        query = query.where(OpsComplaint.decided_at.is_(None))
    now = utcnow()
    return [complaint_view(c, now) for c in session.scalars(query)]
