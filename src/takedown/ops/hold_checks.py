"""Checking sightings and referrals against active deconfliction holds (the rule is written
in :mod:`takedown.ops.holds`): who is blocked, the owner's notification of each hit, and the
listing of those notifications."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.api.models import ApiAgency
from takedown.ops.agencies import get_agency
from takedown.ops.holds import PDQ_DISTANCE, active_holds, blocked_message
from takedown.ops.models import OpsHold, OpsHoldHit
from takedown.store.models import Content, Sighting, Signal, utcnow


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
