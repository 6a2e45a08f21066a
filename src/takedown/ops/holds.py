"""Deconfliction holds: an agency says "do not refer" for URLs, domains, signals or labels.

A hold is active from its creation until it is lifted or expires; both are recorded (the
lift by who and when, the expiry when it is first noticed). Any referral that touches held
material is blocked for every other agency with ``deconfliction hit: contact <agency>``; the
hold's reason is shown to its owner only, never in a message to anyone else. Each hit is a
notification row the owner lists (:func:`notifications`), one per hold, item and requester,
counting repeated attempts.

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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from takedown.access.holds import MAX_PDQ, NARROW_PDQ, HoldScopeError, check_scope, wide_reason
from takedown.api.models import ApiAgency
from takedown.ops.agencies import OpsError, get_agency, operations_of
from takedown.ops.models import OpsHold, OpsHoldHit, OpsOperation
from takedown.store.models import Content, Sighting, Signal, utcnow
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


# -- checking -----------------------------------------------------------------------------------
@dataclass
class Blocked:
    sighting_id: int
    hold_id: int
    owner: str
    message: str


@dataclass
class _Index:
    url: dict[str, list[OpsHold]] = field(default_factory=lambda: defaultdict(list))
    domain: dict[str, list[OpsHold]] = field(default_factory=lambda: defaultdict(list))
    signal: dict[str, list[OpsHold]] = field(default_factory=lambda: defaultdict(list))
    label: dict[str, list[OpsHold]] = field(default_factory=lambda: defaultdict(list))
    #: signal holds on PDQ hashes: (hash as an int, largest distance, hold)
    pdq: list[tuple[int, int, OpsHold]] = field(default_factory=list)

    def add(self, hold: OpsHold) -> None:
        if hold.kind == "signal" and hold.value.startswith("pdq:"):
            distance = PDQ_DISTANCE if hold.max_distance is None else hold.max_distance
            self.pdq.append((int(hold.value[4:], 16), distance, hold))
            return
        getattr(self, hold.kind)[hold.value].append(hold)


def _domains(host: str | None, registrable: str | None) -> list[str]:
    out = [registrable] if registrable else []
    if host:
        parts = host.lower().split(".")
        out += [".".join(parts[i:]) for i in range(len(parts) - 1)]
    return out


def check(
    session: Session,
    sightings: list[Sighting],
    *,
    agency_id: int | None = None,
    actor: str | None = None,
    record_hits: bool = True,
    now: datetime | None = None,
) -> dict[int, Blocked]:
    """Which of ``sightings`` are held against ``agency_id`` (None: against everyone).

    Each blocked item is recorded as a hit for the hold's owner (its notification).
    """
    holds = [h for h in active_holds(session, now) if h.agency_id != agency_id]
    if not holds or not sightings:
        return {}
    index = _Index()
    for hold in holds:
        index.add(hold)
    found: dict[int, list[OpsHold]] = defaultdict(list)
    for s in sightings:
        if index.url and s.canonical_url in index.url:
            found[s.id] += index.url[s.canonical_url]
        if index.domain:
            for domain in _domains(s.host, s.registrable_domain):
                found[s.id] += index.domain.get(domain, [])
    if index.signal or index.pdq:
        _match_signals(session, sightings, index, found)
    if index.label:
        from takedown.referrals.routing import labels_of

        for sid, labels in labels_of(session, sightings).items():
            for label in labels:
                found[sid] += index.label.get(label, [])
    if not found:
        return {}
    names = dict(session.execute(select(ApiAgency.id, ApiAgency.name)).all())
    blocked: dict[int, Blocked] = {}
    for sid, matched in found.items():
        if not matched:
            continue
        first = min(matched, key=lambda h: h.id)
        owner = names.get(first.agency_id, "?")
        blocked[sid] = Blocked(sid, first.id, owner, blocked_message(owner))
        if record_hits:
            for hold in {h.id: h for h in matched}.values():
                _record_hit(session, hold, sid, agency_id, actor, now or utcnow())
    session.flush()
    return blocked


def _match_signals(
    session: Session,
    sightings: list[Sighting],
    index: _Index,
    found: dict[int, list[OpsHold]],
) -> None:
    by_content: dict[int, list[int]] = defaultdict(list)
    for s in sightings:
        if s.content_id is not None:
            by_content[s.content_id].append(s.id)
    if not by_content:
        return
    values = {key.split(":", 1)[1] for key in index.signal}
    contents = list(by_content)
    for start in range(0, len(contents), 1000):
        chunk = contents[start : start + 1000]
        rows: list[Any] = []
        if values:
            rows += session.execute(
                select(Signal.content_id, Signal.signal_type, Signal.value).where(
                    Signal.content_id.in_(chunk), Signal.value.in_(values)
                )
            ).all()
            rows += [
                (cid, "sha256", sha)
                for cid, sha in session.execute(
                    select(Content.id, Content.sha256).where(
                        Content.id.in_(chunk), Content.sha256.in_(values)
                    )
                )
            ]
        for content_id, signal_type, value in rows:
            if signal_type == "pdq":
                continue  # PDQ holds match by distance, below
            holds = index.signal.get(f"{signal_type}:{str(value).lower()}", [])
            for sid in by_content[content_id]:
                found[sid] += holds
        if index.pdq:
            _match_pdq(session, chunk, index.pdq, by_content, found)


def _match_pdq(
    session: Session,
    contents: list[int],
    holds: list[tuple[int, int, OpsHold]],
    by_content: dict[int, list[int]],
    found: dict[int, list[OpsHold]],
) -> None:
    """Every PDQ hash (each stored variant) of ``contents`` against every PDQ hold."""
    matched: dict[int, dict[int, OpsHold]] = defaultdict(dict)
    for content_id, value in session.execute(
        select(Signal.content_id, Signal.value).where(
            Signal.content_id.in_(contents), Signal.signal_type == "pdq"
        )
    ):
        try:
            bits = int(str(value), 16)
        except ValueError:
            continue
        for hold_bits, distance, hold in holds:
            if (bits ^ hold_bits).bit_count() <= distance:
                matched[content_id][hold.id] = hold
    for content_id, hits in matched.items():
        for sid in by_content[content_id]:
            found[sid] += hits.values()


def _record_hit(
    session: Session,
    hold: OpsHold,
    sighting_id: int,
    agency_id: int | None,
    actor: str | None,
    now: datetime,
) -> None:
    requester = f"agency:{agency_id}" if agency_id is not None else f"actor:{actor or '?'}"
    requester = requester[:200]
    hit = session.scalar(
        select(OpsHoldHit).where(
            OpsHoldHit.hold_id == hold.id,
            OpsHoldHit.sighting_id == sighting_id,
            OpsHoldHit.requester == requester,
        )
    )
    if hit is None:
        session.add(
            OpsHoldHit(
                hold_id=hold.id,
                sighting_id=sighting_id,
                requester=requester,
                actor=actor,
                first_at=now,
                last_at=now,
                attempts=1,
            )
        )
    else:
        hit.attempts += 1
        hit.last_at = now
        hit.seen_at = None


def notifications(
    session: Session, agency: str, *, unseen_only: bool = False, mark_seen: bool = False
) -> list[dict[str, Any]]:
    """The owner's view of every hit on its holds: who tried to refer what, and when."""
    owner = get_agency(session, agency)
    names = dict(session.execute(select(ApiAgency.id, ApiAgency.name)).all())
    query = (
        select(OpsHoldHit, OpsHold, Sighting.url)
        .join(OpsHold, OpsHold.id == OpsHoldHit.hold_id)
        .join(Sighting, Sighting.id == OpsHoldHit.sighting_id)
        .where(OpsHold.agency_id == owner.id)
        .order_by(OpsHoldHit.id)
    )
    if unseen_only:
        query = query.where(OpsHoldHit.seen_at.is_(None))
    out: list[dict[str, Any]] = []
    now = utcnow()
    for hit, hold, url in session.execute(query):
        who = hit.requester
        if who.startswith("agency:") and who[7:].isdigit():
            who = names.get(int(who[7:]), who)
        out.append(
            {
                "id": hit.id,
                "hold_id": hold.id,
                "hold": f"{hold.kind}:{hold.value}",
                "reason": hold.reason,
                "sighting_id": hit.sighting_id,
                "url": url,
                "requester": who,
                "actor": hit.actor,
                "first_at": hit.first_at.isoformat(),
                "last_at": hit.last_at.isoformat(),
                "attempts": hit.attempts,
                "seen": hit.seen_at is not None,
            }
        )
        if mark_seen and hit.seen_at is None:
            hit.seen_at = now
    session.flush()
    return out


def filter_pending(
    session: Session,
    sightings: list[Sighting],
    *,
    agency_id: int | None = None,
    actor: str | None = None,
    blocked: dict[int, str] | None = None,
) -> list[Sighting]:
    """What referral routing may refer: primaries of deduplicated items, not held.

    Duplicates (another agency's report of an item already known) are dropped silently: the
    item is referred once, through its primary. Held items are dropped and, when ``blocked``
    is given, reported there as ``sighting id -> "deconfliction hit: contact <agency>"``.
    """
    from takedown.ops.dedup import link_new
    from takedown.ops.models import OpsSightingLink

    if not sightings:
        return sightings
    link_new(session)
    ids = [s.id for s in sightings]
    duplicate: set[int] = set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        duplicate.update(
            session.scalars(
                select(OpsSightingLink.sighting_id).where(
                    OpsSightingLink.sighting_id.in_(chunk),
                    OpsSightingLink.primary_id != OpsSightingLink.sighting_id,
                )
            )
        )
    primaries = [s for s in sightings if s.id not in duplicate]
    held = check(session, primaries, agency_id=agency_id, actor=actor)
    if blocked is not None:
        blocked.update({sid: b.message for sid, b in held.items()})
    return [s for s in primaries if s.id not in held]


def check_referral(
    session: Session,
    referral_id: int,
    *,
    agency_id: int | None = None,
    actor: str | None = None,
) -> dict[int, Blocked]:
    """The items of an existing (drafted, not yet sent) referral that a hold placed since
    now blocks; each is recorded as a hit. The sender must not send those items."""
    from takedown.referrals.models import ReferralItem

    sightings = list(
        session.scalars(
            select(Sighting)
            .join(ReferralItem, ReferralItem.sighting_id == Sighting.id)
            .where(ReferralItem.referral_id == referral_id)
        )
    )
    return check(session, sightings, agency_id=agency_id, actor=actor)
