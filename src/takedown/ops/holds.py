"""Deconfliction holds: an agency says "do not refer" for URLs, domains, signals or labels.

A hold is active from its creation until it is lifted or expires; both are recorded (the
lift by who and when, the expiry when it is first noticed). Any referral that touches held
material is blocked for every other agency with ``deconfliction hit: contact <agency>``; the
hold's reason is shown to its owner only, never in a message to anyone else. Each hit is a
notification row the owner lists, one per hold, item and requester, counting repeated
attempts. The checks and the notifications are :mod:`takedown.ops.hold_checks`.

Matching: ``url`` — the canonical form of the URL equals the sighting's; ``domain`` — the
sighting's registrable domain or host is the domain or under it; ``signal`` — ``type:value``
(e.g. ``sha256:…``) equals one of the sighting content's signals exactly (or its SHA-256); a
``pdq:<hex>`` hold matches content with a PDQ hash (any stored variant) within the hold's
Hamming distance (``max_distance``, default 31; 0 = exact), by a linear scan over the active
PDQ holds (a few hundred at most in practice); ``label`` — ``name:value`` is among the labels
of the bank entries it matched.

Scope limits (who may hold a whole platform, a label or a wide PDQ radius; the bounds no one
may pass) are :mod:`takedown.access.holds`: a wide hold needs ``may_hold_wide`` (a coordinator)
and an operation the agency takes part in, whose lead agency sees it (:func:`coordinated`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from takedown.access.holds import MAX_PDQ, NARROW_PDQ, HoldScopeError, check_scope, wide_reason
from takedown.api.models import ApiAgency
from takedown.ops.agencies import OpsError, get_agency, operations_of
from takedown.ops.models import OpsHold, OpsOperation
from takedown.store.models import utcnow
from takedown.urls import InvalidURL, canonicalize

KINDS = ("url", "domain", "signal", "label")
MAX_DAYS = 366
PDQ_DISTANCE = NARROW_PDQ
MAX_PDQ_DISTANCE = MAX_PDQ


class HoldTooWide(OpsError):
    """A hold wider than its placer may place (see :mod:`takedown.access.holds`)."""


_HEX = frozenset("0123456789abcdef")


def blocked_message(agency_name: str) -> str:
    return f"deconfliction hit: contact {agency_name}"


def _normalise(kind: str, value: str) -> str:
    value = value.strip()
    if not value or len(value) > 4000:
        raise OpsError("a hold needs a value of 1 to 4000 characters")
    if kind == "url":
        try:
            return canonicalize(value).url
        except InvalidURL as exc:
            raise OpsError(f"not a usable URL: {exc}") from exc
    if kind == "domain":
        domain = value.lower().rstrip(".")
        if "/" in domain or " " in domain or "." not in domain:
            raise OpsError(f"not a domain name: {value!r}")
        return domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    if kind == "signal":
        signal_type, _, signal_value = value.partition(":")
        if not signal_type or not signal_value:
            raise OpsError("a signal hold is written type:value, e.g. sha256:<hex>")
        signal_type, signal_value = signal_type.strip().lower(), signal_value.strip().lower()
        if signal_type == "pdq" and (len(signal_value) != 64 or not set(signal_value) <= _HEX):
            raise OpsError("a pdq hold needs a hash of 64 hex characters")
        return f"{signal_type}:{signal_value}"
    if kind == "label":
        if ":" not in value:
            raise OpsError("a label hold is written name:value, e.g. outlet:example")
        return value
    raise OpsError(f"unknown hold kind {kind!r} (one of: {', '.join(KINDS)})")


def add_hold(
    session: Session,
    *,
    agency: str,
    kind: str,
    value: str,
    reason: str,
    expires_at: datetime | None = None,
    days: float | None = None,
    max_distance: int | None = None,
    actor: str | None = None,
    now: datetime | None = None,
    may_hold_wide: bool = False,
    operation: str | None = None,
    platform_domains: list[str] | None = None,
) -> OpsHold:
    """A hold of ``agency``; ``max_distance`` only for ``signal`` holds on ``pdq:<hex>``
    (default :data:`PDQ_DISTANCE`). A wide hold needs ``may_hold_wide`` (the placer's role
    allows ``hold_wide``) and an ``operation`` the agency takes part in."""
    now = now or utcnow()
    if kind not in KINDS:
        raise OpsError(f"unknown hold kind {kind!r} (one of: {', '.join(KINDS)})")
    reason = reason.strip()
    if not reason:
        raise OpsError("a hold needs a reason (shown to your agency only)")
    if expires_at is None:
        if days is None or not 0 < days <= MAX_DAYS:
            raise OpsError(f"a hold needs an expiry: 0 < days <= {MAX_DAYS}")
        expires_at = now + timedelta(days=days)
    if expires_at.tzinfo is None:
        raise OpsError("the expiry must carry a time zone (UTC)")
    if expires_at <= now or expires_at > now + timedelta(days=MAX_DAYS):
        raise OpsError(f"the expiry must lie in the future, at most {MAX_DAYS} days ahead")
    owner = get_agency(session, agency)
    normalised = _normalise(kind, value)
    if kind == "signal" and normalised.startswith("pdq:"):
        max_distance = PDQ_DISTANCE if max_distance is None else max_distance
        if not 0 <= max_distance <= MAX_PDQ_DISTANCE:
            raise OpsError(f"a pdq hold's distance lies in 0..{MAX_PDQ_DISTANCE}")
    elif max_distance is not None:
        raise OpsError("only a signal hold on a pdq hash takes a distance")
    operation_id = None
    if operation is not None:
        if operation not in operations_of(session, owner.id):
            raise OpsError(f"agency {owner.name!r} takes part in no operation {operation!r}")
        operation_id = session.scalar(select(OpsOperation.id).where(OpsOperation.name == operation))
    try:
        wide = wide_reason(kind, normalised, max_distance, platform_domains)
        check_scope(wide, may_hold_wide=may_hold_wide, operation_id=operation_id)
    except HoldScopeError as exc:
        raise HoldTooWide(str(exc)) from exc
    hold = OpsHold(
        agency_id=owner.id,
        kind=kind,
        value=normalised,
        max_distance=max_distance,
        reason=reason[:4000],
        created_by=actor,
        created_at=now,
        expires_at=expires_at,
        wide=wide is not None,
        operation_id=operation_id,
    )
    session.add(hold)
    session.flush()
    return hold


def lift_hold(session: Session, hold_id: int, *, agency: str, actor: str | None = None) -> OpsHold:
    """Only the owner agency lifts its hold. Another agency learns nothing of it."""
    owner = get_agency(session, agency)
    hold = session.get(OpsHold, hold_id)
    if hold is None or hold.agency_id != owner.id:
        raise OpsError(f"no hold {hold_id} of agency {owner.name!r}")
    if hold.lifted_at is not None:
        raise OpsError(f"hold {hold_id} was lifted already")
    hold.lifted_at = utcnow()
    hold.lifted_by = actor
    session.flush()
    return hold


def expire_holds(session: Session, now: datetime | None = None) -> int:
    """Records the expiry of every hold past its time (once); returns how many."""
    now = now or utcnow()
    result = session.execute(
        update(OpsHold)
        .where(
            OpsHold.expires_at <= now,
            OpsHold.expired_at.is_(None),
            OpsHold.lifted_at.is_(None),
        )
        .values(expired_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def active_holds(session: Session, now: datetime | None = None) -> list[OpsHold]:
    now = now or utcnow()
    expire_holds(session, now)
    return list(
        session.scalars(
            select(OpsHold).where(
                OpsHold.lifted_at.is_(None),
                OpsHold.expired_at.is_(None),
                OpsHold.expires_at > now,
            )
        )
    )


def hold_view(hold: OpsHold, agency_name: str, *, owner: bool) -> dict[str, Any]:
    """A hold as its owner sees it; others never get a view (they only get hit messages)."""
    if not owner:
        raise OpsError("holds are visible to their owner agency only")
    state = "lifted" if hold.lifted_at else ("expired" if hold.expired_at else "active")
    return {
        "id": hold.id,
        "agency": agency_name,
        "kind": hold.kind,
        "value": hold.value,
        "max_distance": hold.max_distance,
        "reason": hold.reason,
        "state": state,
        "created_at": hold.created_at.isoformat(),
        "created_by": hold.created_by,
        "expires_at": hold.expires_at.isoformat(),
        "expired_at": hold.expired_at.isoformat() if hold.expired_at else None,
        "lifted_at": hold.lifted_at.isoformat() if hold.lifted_at else None,
        "lifted_by": hold.lifted_by,
    }


def coordinated(session: Session, agency: str) -> list[dict[str, Any]]:
    """The active wide holds placed within operations ``agency`` leads: who holds what, until
    when, in which operation (the coordinator's view; never the reason)."""
    lead = get_agency(session, agency)
    names = dict(session.execute(select(ApiAgency.id, ApiAgency.name)).all())
    out = []
    for hold, operation in session.execute(
        select(OpsHold, OpsOperation.name)
        .join(OpsOperation, OpsOperation.id == OpsHold.operation_id)
        .where(OpsHold.wide.is_(True), OpsOperation.lead_agency_id == lead.id)
        .where(OpsHold.lifted_at.is_(None), OpsHold.expired_at.is_(None))
        .order_by(OpsHold.id)
    ):
        if hold.expires_at <= utcnow():
            continue
        out.append(
            {
                "id": hold.id,
                "agency": names.get(hold.agency_id, "?"),
                "kind": hold.kind,
                "value": hold.value,
                "max_distance": hold.max_distance,
                "operation": operation,
                "created_at": hold.created_at.isoformat(),
                "created_by": hold.created_by,
                "expires_at": hold.expires_at.isoformat(),
            }
        )
    return out


def list_holds(session: Session, agency: str, *, all_states: bool = False) -> list[dict[str, Any]]:
    owner = get_agency(session, agency)
    expire_holds(session)
    query = select(OpsHold).where(OpsHold.agency_id == owner.id).order_by(OpsHold.id)
    if not all_states:
        query = query.where(OpsHold.lifted_at.is_(None), OpsHold.expired_at.is_(None))
    return [hold_view(h, owner.name, owner=True) for h in session.scalars(query)]
