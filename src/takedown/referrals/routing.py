"""Routing: sightings not yet referred, grouped per addressee, drafted as referrals.

The addressee of a sighting on a known platform is that platform (from the registry). A
self-hosted site (``unknown:<domain>``) goes to its hoster or registrar, as
``takedown.infra.addressees.addressee_for_domain`` finds them; when nobody is found the
sightings are reported as *unrouted* (never dropped, never sent).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select, true
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.referrals.machine import KINDS, initial_state
from takedown.referrals.models import Referral, ReferralEvent, ReferralItem
from takedown.store.models import BankEntry, Content, Match, Sighting, utcnow

MAX_ITEMS = 500  # per referral; a larger group becomes several referrals


@dataclass
class Addressee:
    kind: str  # platform | hoster | registrar | unrouted
    key: str
    name: str
    contact: dict[str, Any] = field(default_factory=dict)


@dataclass
class Routed:
    drafted: list[Referral] = field(default_factory=list)
    unrouted: dict[str, list[int]] = field(default_factory=dict)  # domain -> sighting ids
    # sighting id -> "deconfliction hit: contact <agency>" (never the hold's reason)
    blocked: dict[int, str] = field(default_factory=dict)


def _infra_addressee(session: Session, domain: str | None) -> dict[str, Any] | None:
    if not domain:
        return None
    try:
        module = importlib.import_module("takedown.infra.addressees")
    except ImportError:
        return None
    finder = getattr(module, "addressee_for_domain", None)
    if not callable(finder):
        return None
    found = finder(session, domain)
    return found if isinstance(found, dict) else None


def addressee_for(app: App, session: Session, sighting: Sighting) -> Addressee:
    key = sighting.platform_key or ""
    if key and not key.startswith("unknown:") and key in app.registry:
        platform = app.registry.get(key)
        referral = platform.referral
        contact = {
            "email": referral.get("email"),
            "webhook": referral.get("api"),
            "web_form": referral.get("web_form"),
        }
        return Addressee("platform", platform.key, platform.name, contact)
    domain = sighting.registrable_domain or key.removeprefix("unknown:") or sighting.host
    found = _infra_addressee(session, domain)
    if found and found.get("key"):
        kind = str(found.get("kind") or "hoster")
        contact = {"email": found.get("contact_email"), "country": found.get("country")}
        return Addressee(
            kind, f"{kind}:{found['key']}", str(found.get("name") or found["key"]), contact
        )
    return Addressee("unrouted", f"unrouted:{domain or '?'}", f"unrouted: {domain or '?'}")


def _label_strings(labels: dict[str, Any] | None) -> list[str]:
    out: list[str] = []
    for name, value in (labels or {}).items():
        if isinstance(value, list):
            out += [f"{name}:{v}" for v in value]
        elif value is True:
            out.append(str(name))
        elif value not in (None, False, ""):
            out.append(f"{name}:{value}")
    return out


def labels_of(
    session: Session, sightings: list[Sighting], agency_id: int | None = None
) -> dict[int, list[str]]:
    """Labels of the bank entries each sighting (or its content) matched; for an agency, of
    the banks it may read only (another agency's private bank lends no label)."""
    from takedown.access.banks import readable
    from takedown.access.visibility import Viewer
    from takedown.store.models import Bank

    result: dict[int, set[str]] = defaultdict(set)
    by_content: dict[int, list[int]] = defaultdict(list)
    for s in sightings:
        if s.content_id is not None:
            by_content[s.content_id].append(s.id)
    ids = [s.id for s in sightings]
    for start in range(0, max(len(ids), len(by_content)), 500):
        cids = list(by_content)[start : start + 500]
        sids = ids[start : start + 500]
        rows = session.execute(
            select(Match.content_id, Match.sighting_id, BankEntry.labels)
            .join(BankEntry, BankEntry.id == Match.bank_entry_id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Match.state == "active")
            .where(readable(Viewer(agency_id)) if agency_id is not None else true())
            .where(Match.content_id.in_(cids) | Match.sighting_id.in_(sids))
        )
        for content_id, sighting_id, labels in rows:
            strings = _label_strings(labels)
            targets = list(by_content.get(content_id, [])) if content_id is not None else []
            if sighting_id is not None:
                targets.append(sighting_id)
            for target in targets:
                result[target].update(strings)
    return {k: sorted(v) for k, v in result.items()}


def pending_sightings(
    session: Session,
    platform: str | None = None,
    *,
    agency_id: int | None = None,
    actor: str | None = None,
    blocked: dict[int, str] | None = None,
    only: Collection[int] | None = None,
) -> list[Sighting]:
    """Sightings with a URL, not known removed, never put in a referral; one per item reported
    by several agencies, none under another agency's deconfliction hold (reported in
    ``blocked``; the hold's owner is notified: see ``takedown.ops.hold_checks.filter_pending``)."""
    from takedown.ops.hold_checks import filter_pending

    query = (
        select(Sighting)
        .where(Sighting.removed_at.is_(None))
        .where(Sighting.url.is_not(None))
        .where(~exists().where(ReferralItem.sighting_id == Sighting.id))
        .order_by(Sighting.id)
    )
    if platform:
        query = query.where(
            and_(Sighting.platform_key == platform)
            if not platform.startswith("unrouted:")
            else Sighting.registrable_domain == platform.removeprefix("unrouted:")
        )
    if only is not None:
        query = query.where(Sighting.id.in_(sorted(only)))
    if agency_id is not None:  # an agency refers what it may see: never another's items
        from takedown.access.visibility import Viewer, sighting_filter

        query = query.where(sighting_filter(session, Viewer(agency_id)))
    found = list(session.scalars(query))
    return filter_pending(session, found, agency_id=agency_id, actor=actor, blocked=blocked)


def new_reference(session: Session, referral: Referral, now: datetime) -> str:
    return f"TD-{now.year}-{referral.id:06d}"


def draft(
    app: App,
    *,
    platform: str | None = None,
    kind: str = "referral",
    basis: str | None = None,
    actor: str | None = None,
    agency_id: int | None = None,
    only: Collection[int] | None = None,
) -> Routed:
    """Groups pending sightings per addressee and drafts one referral per group (one
    transaction). Unrouted sightings are returned, not drafted; held ones are blocked."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    routed = Routed()
    with app.db.session() as session:
        sightings = pending_sightings(
            session, platform, agency_id=agency_id, actor=actor, blocked=routed.blocked, only=only
        )
        groups: dict[str, tuple[Addressee, list[Sighting]]] = {}
        for sighting in sightings:
            who = addressee_for(app, session, sighting)
            if who.kind == "unrouted":
                routed.unrouted.setdefault(who.key, []).append(sighting.id)
                continue
            groups.setdefault(who.key, (who, []))[1].append(sighting)
        sha = dict(
            session.execute(
                select(Content.id, Content.sha256).where(
                    Content.id.in_({s.content_id for s in sightings if s.content_id})
                )
            ).all()
        )
        labels = labels_of(session, sightings, agency_id)
        now = utcnow()
        for who, members in groups.values():
            for start in range(0, len(members), MAX_ITEMS):
                chunk = members[start : start + MAX_ITEMS]
                referral = _draft_one(session, who, chunk, kind, basis, actor, now, sha, labels)
                routed.drafted.append(referral)
    return routed


def _draft_one(
    session: Session,
    who: Addressee,
    members: Iterable[Sighting],
    kind: str,
    basis: str | None,
    actor: str | None,
    now: datetime,
    sha: dict[int, str],
    labels: dict[int, list[str]],
) -> Referral:
    import secrets

    state = initial_state(kind)
    referral = Referral(
        reference=f"tmp-{secrets.token_hex(8)}",
        kind=kind,
        state=state,
        addressee_kind=who.kind,
        addressee_key=who.key,
        addressee_name=who.name,
        contact={k: v for k, v in who.contact.items() if v},
        basis=basis,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    referral.reference = new_reference(session, referral, now)
    for s in members:
        session.add(
            ReferralItem(
                referral_id=referral.id,
                sighting_id=s.id,
                url=s.url,
                canonical_url=s.canonical_url,
                sha256=sha.get(s.content_id) if s.content_id else None,
                labels={"labels": labels.get(s.id, [])},
            )
        )
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            event="draft",
            from_state=None,
            to_state=state,
            at=now,
            source="operator",
            reason=basis,
            dedupe_key=f"draft@{now.isoformat()}",
        )
    )
    session.flush()
    return referral
