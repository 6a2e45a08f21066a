"""The two state machines: voluntary referrals and removal orders.

Every transition is a row in ``referral_event`` (when it happened, when it was recorded, who
or what reported it, why). Illegal transitions raise :class:`IllegalTransition` and change
nothing. A response repeated (same status, same time) or one that restates the current state
is a harmless no-op (``Outcome.duplicate``).

Voluntary referral::

    drafted --send--> sent --acknowledged|received--> acknowledged
    sent|acknowledged|no_response --removed--> actioned
    sent|acknowledged|no_response --rejected--> rejected
    sent|acknowledged --no_response--> no_response
    actioned --reinstated--> reinstated

Removal order (TCO Regulation Art. 3 and 4)::

    issued --send--> sent --received|acknowledged--> received   (clock starts: 1 h)
    sent|received --impossible|missing_information--> paused    (clock stops)
    paused --received--> received                                (clock resumes)
    sent|received|paused --removed--> removed                    (deadline met or missed)
    received|paused|removed --scrutiny_requested--> (same state; scrutiny=requested)
    (scrutiny=requested) --scrutiny_upheld--> (same state; scrutiny=upheld)
    (scrutiny=requested) --scrutiny_revoked--> revoked
    removed|revoked --reinstated--> reinstated
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.referrals.models import Referral, ReferralEvent, ReferralItem
from takedown.store.models import Sighting, utcnow

REFERRAL = "referral"
ORDER = "removal_order"
KINDS = (REFERRAL, ORDER)
ORDER_DEADLINE = timedelta(hours=1)
SAME = "="

REFERRAL_STATES = (
    "drafted",
    "sent",
    "acknowledged",
    "actioned",
    "rejected",
    "no_response",
    "reinstated",
)
ORDER_STATES = ("issued", "sent", "received", "paused", "removed", "revoked", "reinstated")

TRANSITIONS: dict[str, dict[str, dict[str, str]]] = {
    REFERRAL: {
        "send": {"drafted": "sent"},
        "acknowledged": {"sent": "acknowledged"},
        "received": {"sent": "acknowledged"},
        "removed": {"sent": "actioned", "acknowledged": "actioned", "no_response": "actioned"},
        "rejected": {"sent": "rejected", "acknowledged": "rejected", "no_response": "rejected"},
        "no_response": {"sent": "no_response", "acknowledged": "no_response"},
        "reinstated": {"actioned": "reinstated"},
    },
    ORDER: {
        "send": {"issued": "sent"},
        "received": {"sent": "received", "paused": "received"},
        "acknowledged": {"sent": "received", "paused": "received"},
        "impossible": {"sent": "paused", "received": "paused"},
        "missing_information": {"sent": "paused", "received": "paused"},
        "removed": {"sent": "removed", "received": "removed", "paused": "removed"},
        "scrutiny_requested": {"received": SAME, "paused": SAME, "removed": SAME},
        "scrutiny_upheld": {s: SAME for s in ORDER_STATES},
        "scrutiny_revoked": {s: "revoked" for s in ORDER_STATES},
        "reinstated": {"removed": "reinstated", "revoked": "reinstated"},
    },
}
#: Statuses an answer (callback, API, operator) may carry.
RESPONSES = tuple(sorted({e for m in TRANSITIONS.values() for e in m} - {"send"}))


class IllegalTransition(ValueError):
    """A transition the referral's state machine does not allow; nothing was changed."""


@dataclass(frozen=True)
class Outcome:
    reference: str
    event: str
    from_state: str
    to_state: str
    duplicate: bool


def initial_state(kind: str) -> str:
    return "drafted" if kind == REFERRAL else "issued"


def _target(referral: Referral, event: str) -> str:
    machine = TRANSITIONS[referral.kind]
    if event not in machine:
        allowed = ", ".join(sorted(machine))
        what = "removal order" if referral.kind == ORDER else "voluntary referral"
        raise IllegalTransition(f"{event!r} does not apply to a {what} (one of: {allowed})")
    pending = referral.scrutiny == "requested"
    if event.startswith("scrutiny_") and event != "scrutiny_requested" and not pending:
        raise IllegalTransition(
            f"{referral.reference}: {event!r} needs a pending scrutiny request "
            f"(scrutiny is {referral.scrutiny or 'not requested'})"
        )
    if event == "scrutiny_requested" and referral.scrutiny is not None:
        raise IllegalTransition(f"{referral.reference}: scrutiny already {referral.scrutiny}")
    target = machine[event].get(referral.state)
    if target is None:
        allowed_from = ", ".join(sorted(machine[event]))
        raise IllegalTransition(
            f"{referral.reference}: cannot go from {referral.state!r} by {event!r} "
            f"(allowed from: {allowed_from})"
        )
    return referral.state if target == SAME else target


def mark_removed(session: Session, sighting_id: int, at: datetime) -> None:
    """The platform confirmed removal at ``at``: the earliest trustworthy time wins."""
    sighting = session.get(Sighting, sighting_id)
    if sighting is not None and (sighting.removed_at is None or at < sighting.removed_at):
        sighting.removed_at = at
        sighting.removal_source = "platform"


def apply(
    session: Session,
    referral: Referral,
    event: str,
    *,
    at: datetime | None = None,
    source: str = "operator",
    reason: str | None = None,
    detail: dict[str, object] | None = None,
) -> Outcome:
    """Moves ``referral`` by ``event`` (in the caller's transaction) and records the event."""
    at = at or utcnow()
    if at.tzinfo is None:
        raise ValueError("event time must be timezone-aware (UTC)")
    dedupe = f"{event}@{at.isoformat()}"
    seen = session.scalar(
        select(ReferralEvent.id).where(
            ReferralEvent.referral_id == referral.id, ReferralEvent.dedupe_key == dedupe
        )
    )
    before = referral.state
    if seen is not None:
        return Outcome(referral.reference, event, before, before, duplicate=True)
    restates = TRANSITIONS[referral.kind].get(event, {}).get(before) is None and (
        (event == "removed" and before in ("actioned", "removed"))
        or (event in ("acknowledged", "received") and before in ("acknowledged", "received"))
        or (event in ("impossible", "missing_information") and before == "paused")
        or (event == before)
    )
    if restates:
        return Outcome(referral.reference, event, before, before, duplicate=True)
    after = _target(referral, event)
    _effects(session, referral, event, before, after, at)
    referral.state = after
    referral.updated_at = utcnow()
    if reason:
        referral.reason = reason
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            event=event,
            from_state=before,
            to_state=after,
            at=at,
            source=source,
            reason=reason,
            dedupe_key=dedupe,
            detail=dict(detail) if detail else None,
        )
    )
    session.flush()
    return Outcome(referral.reference, event, before, after, duplicate=False)


def _effects(
    session: Session, referral: Referral, event: str, before: str, after: str, at: datetime
) -> None:
    if event == "send":
        referral.sent_at = at
        return
    if referral.kind == ORDER:
        if after in ("received", "paused", "removed") and referral.received_at is None:
            referral.received_at = at  # the first authenticated sign of receipt
            referral.deadline = at + ORDER_DEADLINE
        if before == "paused" and referral.paused_since is not None:
            stop = at
            pause = max((stop - referral.paused_since).total_seconds(), 0.0)
            if after == "received":
                referral.paused_seconds += pause
                if referral.deadline is not None:
                    referral.deadline += timedelta(seconds=pause)
                referral.paused_since = None
        if after == "paused":
            referral.paused_since = at
        if after == "removed":
            effective = referral.paused_since if before == "paused" else at
            referral.removed_at = at
            if referral.deadline is not None and effective is not None:
                referral.deadline_met = effective <= referral.deadline
            referral.paused_since = None
        if event.startswith("scrutiny_"):
            referral.scrutiny = event.removeprefix("scrutiny_")
    elif after == "actioned":
        referral.removed_at = at
    if event == "removed":
        items = session.scalars(select(ReferralItem).where(ReferralItem.referral_id == referral.id))
        for item in items:
            if item.status is None or item.status != "removed":
                item.status, item.status_at = "removed", at
            mark_removed(session, item.sighting_id, at)
