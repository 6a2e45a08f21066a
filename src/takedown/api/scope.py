"""Who sees what: agency scoping of sightings (and all derived from them) in the faces.

The rule (documented in ``docs/api.md``):

* A key or user **of an agency** sees the sightings
  :func:`takedown.ops.agencies.visible_sightings` allows: those its agency reported (with the
  other reports of the same item) and those of operations it takes part in.
* Sightings **no agency reported** ("unowned": items none of whose reports maps to an agency
  by reporter alias, agency name, username or API key) are seen by users without an agency
  and, while the deployment has exactly one agency (a single unit), by that agency. Once a
  second agency exists they are seen by users without an agency only, until attributed
  (``takedown agency reporter NAME REPORTER``). Owned material is its owners' alone.
* A **platform** key sees no sightings at all (only bank hits and its own referrals).

Content, clusters (material), earlier-content lookup hits, referral items, checks, figures,
media, the review queue and decisions are visible only through a visible sighting. Anything
else is answered as if it did not exist (404), never 403. Banks (shared hash lists) and their
hits are visible to every caller holding the scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, event, false, func, or_, select
from sqlalchemy.orm import Session

from takedown.api.auth import Principal
from takedown.api.models import ApiAgency
from takedown.store.models import Content, Sighting


@dataclass(frozen=True)
class Viewer:
    """The caller as far as visibility goes."""

    agency_id: int | None
    platform_key: str | None = None
    username: str | None = None

    @classmethod
    def of(cls, who: Principal) -> Viewer:
        return cls(who.agency_id, who.platform_key)


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


_VISIBLE = "takedown.api.scope.visible_ids"


def _forget_visible(session: Session, _context: Any) -> None:
    """A write in the session (new sightings, operations, agencies): work it out again."""
    known = session.info.get(_VISIBLE)
    if known:
        known.clear()


def _visible_ids(session: Session, viewer: Viewer) -> Select[Any]:
    from takedown.ops.agencies import visible_sightings
    from takedown.ops.dedup import link_new

    if viewer.agency_id is None:
        link_new(session)
        return _unowned()
    own = visible_sightings(session, viewer.agency_id).with_only_columns(Sighting.id)
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
    if viewer.agency_id is None:
        return None
    return session.scalar(select(ApiAgency.name).where(ApiAgency.id == viewer.agency_id))
