"""Who sees which sightings, and everything derived from them. The one rule, for every face.

An agency sees a sighting when

* **it reported it** (the sighting's reporter maps to the agency: see
  :class:`takedown.ops.agencies.ReporterMap`), or
* the sighting was filed under an **operation the agency takes part in** (a joint action
  day is sharing on purpose), or
* the reporting agency **shared it** with the agency (:mod:`takedown.access.shares`).

When two agencies report the same item (same canonical URL, or same content without a URL),
each sees *its own* report only: the other's notes, operation, decisions, content and media
stay the other's. What each learns is that the item is known and whom to contact
(:func:`co_reporters`). Sightings no agency reported ("unowned") are seen by callers without
an agency and, while the deployment has exactly one agency, by that agency. A platform key
sees no sightings. Content, clusters, referral items, checks, figures, media, the review
queue and decisions are visible only through a visible sighting; anything else is answered
as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, event, false, func, or_, select
from sqlalchemy.orm import Session

from takedown.store.models import Content, Sighting


class Subject(Protocol):
    """Anything that says for whom it acts (an API key's principal, a web user)."""

    @property
    def agency_id(self) -> int | None: ...


@dataclass(frozen=True)
class Viewer:
    """The caller as far as visibility goes."""

    agency_id: int | None
    platform_key: str | None = None
    username: str | None = None

    @classmethod
    def of(cls, who: Subject) -> Viewer:
        return cls(who.agency_id, getattr(who, "platform_key", None))


def operations_of(session: Session, agency_id: int) -> list[str]:
    from takedown.ops.models import OpsOperation, OpsOperationAgency

    return list(
        session.scalars(
            select(OpsOperation.name)
            .join(OpsOperationAgency, OpsOperationAgency.operation_id == OpsOperation.id)
            .where(OpsOperationAgency.agency_id == agency_id)
        )
    )


def agency_sightings(session: Session, agency_id: int) -> Select[Any]:
    """The sightings ``agency_id`` may see (its own reports, its operations', those shared
    with it); a query the faces can order, filter and paginate further."""
    from takedown.access.models import AccessShare
    from takedown.ops.dedup import link_new
    from takedown.ops.models import OpsSightingLink

    link_new(session)
    own = select(OpsSightingLink.sighting_id).where(OpsSightingLink.agency_id == agency_id)
    shared = select(AccessShare.sighting_id).where(
        AccessShare.to_agency_id == agency_id, AccessShare.withdrawn_at.is_(None)
    )
    condition: ColumnElement[bool] = or_(Sighting.id.in_(own), Sighting.id.in_(shared))
    operations = operations_of(session, agency_id)
    if operations:
        condition = or_(condition, Sighting.operation.in_(operations))
    return select(Sighting).where(condition)


def visible_ids(session: Session, viewer: Viewer) -> Select[Any]:
    """A sub-select of the ids of the sightings ``viewer`` may see.

    Worked out once per session and viewer (the catch-up linking of new sightings, the
    agency's operations and the single-unit check are queries): a route that filters several
    times in one session pays for them once.
    """
    if viewer.platform_key is not None:
        return select(Sighting.id).where(false())
    known: dict[Viewer, Select[Any]] | None = session.info.get(_VISIBLE)
    if known is not None and viewer in known:
        return known[viewer]
    found = _visible_ids(session, viewer)
    if known is None:
        known = session.info[_VISIBLE] = {}
        event.listen(session, "after_flush", _forget_visible)
    known[viewer] = found
    return found


_VISIBLE = "takedown.access.visibility.visible_ids"


def _forget_visible(session: Session, _context: Any) -> None:
    """A write in the session (new sightings, operations, agencies): work it out again."""
    known = session.info.get(_VISIBLE)
    if known:
        known.clear()


def _visible_ids(session: Session, viewer: Viewer) -> Select[Any]:
    from takedown.api.models import ApiAgency
    from takedown.ops.dedup import link_new

    if viewer.agency_id is None:
        link_new(session)
        return _unowned()
    own = agency_sightings(session, viewer.agency_id).with_only_columns(Sighting.id)
    if session.scalar(select(func.count(ApiAgency.id))) == 1:  # a single-unit deployment
        return select(Sighting.id).where(or_(Sighting.id.in_(own), Sighting.id.in_(_unowned())))
    return own


def _unowned() -> Select[Any]:
    """Sightings of items none of whose reports maps to an agency."""
    from takedown.ops.models import OpsSightingLink

    owned = select(OpsSightingLink.primary_id).where(OpsSightingLink.agency_id.is_not(None))
    return select(OpsSightingLink.sighting_id).where(OpsSightingLink.primary_id.not_in(owned))


def sighting_filter(session: Session, viewer: Viewer) -> ColumnElement[bool]:
    return Sighting.id.in_(visible_ids(session, viewer))


def visible_content_ids(session: Session, viewer: Viewer) -> Select[Any]:
    return select(Sighting.content_id).where(
        Sighting.content_id.is_not(None), sighting_filter(session, viewer)
    )


def visible_cluster_ids(session: Session, viewer: Viewer) -> Select[Any]:
    return select(Content.cluster_id).where(
        Content.cluster_id.is_not(None), Content.id.in_(visible_content_ids(session, viewer))
    )


def can_see_sighting(session: Session, viewer: Viewer, sighting_id: int) -> bool:
    found = session.scalar(
        select(Sighting.id).where(Sighting.id == sighting_id, sighting_filter(session, viewer))
    )
    return found is not None


def can_see_content(session: Session, viewer: Viewer, content_id: int) -> bool:
    found = session.scalar(
        select(Sighting.id)
        .where(Sighting.content_id == content_id, sighting_filter(session, viewer))
        .limit(1)
    )
    return found is not None


def can_see_cluster(session: Session, viewer: Viewer, cluster_id: int) -> bool:
    found = session.scalar(
        select(Sighting.id)
        .join(Content, Content.id == Sighting.content_id)
        .where(Content.cluster_id == cluster_id, sighting_filter(session, viewer))
        .limit(1)
    )
    return found is not None


def referral_filter(session: Session, viewer: Viewer) -> ColumnElement[bool]:
    """Referrals the viewer may see: a platform its own; an agency those with an item it may
    see (and only those items are shown)."""
    from takedown.referrals.models import Referral, ReferralItem

    if viewer.platform_key is not None:
        return Referral.addressee_key == viewer.platform_key
    items = select(ReferralItem.referral_id).where(
        ReferralItem.sighting_id.in_(visible_ids(session, viewer))
    )
    return Referral.id.in_(items)


def agency_name(session: Session, viewer: Viewer) -> str | None:
    from takedown.api.models import ApiAgency

    if viewer.agency_id is None:
        return None
    return session.scalar(select(ApiAgency.name).where(ApiAgency.id == viewer.agency_id))


def co_reporters(session: Session, viewer: Viewer, sighting_ids: list[int]) -> dict[int, list[str]]:
    """Per sighting, the *other* agencies that reported the same item: the deconfliction
    answer ("known; contact them"), and nothing else of their reports."""
    from takedown.api.models import ApiAgency
    from takedown.ops.models import OpsSightingLink

    out: dict[int, list[str]] = {sid: [] for sid in sighting_ids}
    if not sighting_ids or viewer.platform_key is not None:
        return out
    primary_of: dict[int, int] = {}
    for start in range(0, len(sighting_ids), 1000):
        chunk = sighting_ids[start : start + 1000]
        for sid, primary in session.execute(
            select(OpsSightingLink.sighting_id, OpsSightingLink.primary_id).where(
                OpsSightingLink.sighting_id.in_(chunk)
            )
        ):
            primary_of[sid] = primary
    names: dict[int, set[str]] = {}
    primaries = sorted(set(primary_of.values()))
    for start in range(0, len(primaries), 1000):
        for primary, name in session.execute(
            select(OpsSightingLink.primary_id, ApiAgency.name)
            .join(ApiAgency, ApiAgency.id == OpsSightingLink.agency_id)
            .where(
                OpsSightingLink.primary_id.in_(primaries[start : start + 1000]),
                OpsSightingLink.agency_id != (viewer.agency_id or -1),
            )
        ):
            names.setdefault(primary, set()).add(name)
    for sid, primary in primary_of.items():
        out[sid] = sorted(names.get(primary, ()))
    return out
