"""Deduplication across agencies: one item, several reporters, referred once.

Intake keeps every report as its own sighting (its natural key includes the reporter, so the
chain of custody of each report stays intact). This pass links each sighting to the *primary*
sighting of its item: the first sighting of the same canonical URL or, for a sighting without
a URL, of the same content. Same content at two different URLs stays two items: each URL
must be removed by whoever serves it. A report that arrives after its item was removed is a
new item (the content came back) and is referred again. Referral routing refers primaries
only.

:func:`link_new` is idempotent and cheap when nothing is new; it runs before routing, board
figures, reports and visibility checks, so no workflow has to remember to call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from takedown.ops.agencies import ReporterMap
from takedown.ops.models import OpsSightingLink
from takedown.store.models import Sighting, utcnow
from takedown.store.upsert import insert_ignore_count

BATCH = 5000
_LOCK_ID = 7_260_451  # pg_advisory_xact_lock: one linker at a time


@dataclass
class Linked:
    linked: int = 0
    duplicates: int = 0


def _item_key(canonical_url: str | None, content_id: int | None) -> str | None:
    if canonical_url:
        return "url:" + canonical_url
    if content_id is not None:
        return f"content:{content_id}"
    return None


def link_new(session: Session) -> Linked:
    """Links every sighting not linked yet (in id order); returns how many, and duplicates."""
    result = Linked()
    newest = session.scalar(select(func.max(Sighting.id)))
    linked = session.scalar(select(func.count()).select_from(OpsSightingLink))
    total = session.scalar(select(func.count()).select_from(Sighting))
    if newest is None or linked == total:
        return result
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    reporters = ReporterMap.load(session)
    last = 0
    while True:
        rows = session.execute(
            select(
                Sighting.id,
                Sighting.canonical_url,
                Sighting.content_id,
                Sighting.reporter,
                Sighting.created_at,
                Sighting.removed_at,
            )
            .outerjoin(OpsSightingLink, OpsSightingLink.sighting_id == Sighting.id)
            .where(OpsSightingLink.sighting_id.is_(None), Sighting.id > last)
            .order_by(Sighting.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        _link_batch(session, list(rows), reporters, result)
    return result


def _link_batch(session: Session, rows: list[Any], reporters: ReporterMap, result: Linked) -> None:
    urls = {r[1] for r in rows if r[1]}
    contents = {r[2] for r in rows if not r[1] and r[2] is not None}
    # item key -> (primary sighting id, its removal time); the newest primary wins
    primaries: dict[str, tuple[int, datetime | None]] = {}
    if urls:
        for sid, url, removed_at in session.execute(
            select(Sighting.id, Sighting.canonical_url, Sighting.removed_at)
            .join(OpsSightingLink, OpsSightingLink.sighting_id == Sighting.id)
            .where(OpsSightingLink.primary_id == OpsSightingLink.sighting_id)
            .where(Sighting.canonical_url.in_(urls))
            .order_by(Sighting.id)
        ):
            primaries[f"url:{url}"] = (sid, removed_at)
    if contents:
        for sid, content_id, removed_at in session.execute(
            select(Sighting.id, Sighting.content_id, Sighting.removed_at)
            .join(OpsSightingLink, OpsSightingLink.sighting_id == Sighting.id)
            .where(OpsSightingLink.primary_id == OpsSightingLink.sighting_id)
            .where(Sighting.canonical_url.is_(None), Sighting.content_id.in_(contents))
            .order_by(Sighting.id)
        ):
            primaries[f"content:{content_id}"] = (sid, removed_at)
    now = utcnow()
    links: list[dict[str, Any]] = []
    agencies: dict[str | None, int | None] = {}
    for sid, url, content_id, reporter, created_at, removed_at in rows:
        if reporter not in agencies:
            agencies[reporter] = reporters.agency_of(reporter)
        key = _item_key(url, content_id)
        found = primaries.get(key) if key else None
        # reported again after the item was removed: it came back, a new item to refer
        came_back = found is not None and found[1] is not None and found[1] < created_at
        if found is None or came_back:
            primary = sid
            if key:
                primaries[key] = (sid, removed_at)
        else:
            primary = found[0]
        basis = "self" if primary == sid else ("url" if url else "content")
        result.duplicates += primary != sid
        links.append(
            {
                "sighting_id": sid,
                "primary_id": primary,
                "agency_id": agencies[reporter],
                "reporter": (reporter or None) and reporter[:200],
                "basis": basis,
                "linked_at": now,
            }
        )
    insert_ignore_count(session.connection(), OpsSightingLink.__table__, links, ["sighting_id"])
    result.linked += len(links)


def reporters_of(session: Session, primary_ids: list[int]) -> dict[int, list[str]]:
    """Each item's reporters (agency names, or the raw reporter when no agency is known)."""
    from takedown.api.models import ApiAgency

    out: dict[int, set[str]] = {}
    for start in range(0, len(primary_ids), 1000):
        chunk = primary_ids[start : start + 1000]
        for primary, reporter, agency in session.execute(
            select(OpsSightingLink.primary_id, OpsSightingLink.reporter, ApiAgency.name)
            .outerjoin(ApiAgency, ApiAgency.id == OpsSightingLink.agency_id)
            .where(OpsSightingLink.primary_id.in_(chunk))
        ):
            out.setdefault(primary, set()).add(agency or reporter or "(unknown)")
    return {k: sorted(v) for k, v in out.items()}
