"""The material page: every copy of one material (cluster) the user may see, with its
platform, state, decision and how it matched, and a timeline of the copies (SVG image)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from takedown.access.banks import readable as readable_banks
from takedown.api.models import ApiReviewDecision
from takedown.api.scope import can_see_cluster, sighting_filter
from takedown.store.models import Bank, BankEntry, Cluster, Content, Match, Platform, Sighting
from takedown.web import svg
from takedown.web.queue import how_matched
from takedown.web.views import (
    Id,
    User,
    _app,
    _svg,
    needs,
    not_found,
    page,
    viewer_of,
)

router = APIRouter(include_in_schema=False)


# -- material page --------------------------------------------------------------------------
@router.get("/material/{cluster_id}", response_class=HTMLResponse, **needs("read"))
def material(request: Request, cluster_id: Id, user: User) -> HTMLResponse:
    app = _app(request)
    viewer = viewer_of(user)
    with app.db.session() as session:
        cluster = session.get(Cluster, cluster_id)
        if cluster is None or not can_see_cluster(session, viewer, cluster_id):
            return not_found(request, user, "No such material.")
        rows = session.execute(
            select(Sighting, Content)
            .join(Content, Content.id == Sighting.content_id)
            .where(Content.cluster_id == cluster_id, sighting_filter(session, viewer))
            .order_by(Sighting.seen_at, Sighting.id)
            .limit(5000)
        ).all()
        decisions: dict[int, str] = {}
        for sid, decision in session.execute(
            select(ApiReviewDecision.sighting_id, ApiReviewDecision.decision)
            .where(ApiReviewDecision.sighting_id.in_([s.id for s, _c in rows]))
            .order_by(ApiReviewDecision.id)
        ):
            decisions[sid] = decision  # the latest decision stands (an undo reopens)
        names = {k: n for k, n in session.execute(select(Platform.key, Platform.name))}
        banks = session.execute(
            select(Bank.name, BankEntry.labels)
            .join(BankEntry, BankEntry.bank_id == Bank.id)
            .join(Match, Match.bank_entry_id == BankEntry.id)
            .join(Content, Content.id == Match.content_id)
            .where(Content.cluster_id == cluster_id, Bank.allow_list.is_(False))
            .where(readable_banks(viewer))
            .limit(20)
        ).all()
        matched = how_matched(session, {c.id for _s, c in rows})
    copies = []
    for s, c in rows:
        state = "reupload" if s.reupload_of_id else ("removed" if s.removed_at else "online")
        copies.append(
            {
                "sighting": s,
                "content": c,
                "platform": names.get(s.platform_key or "", s.platform_key or "unknown"),
                "state": state,
                "decision": decisions.get(s.id),
                "matched": matched.get(c.id, []),
            }
        )
    return page(
        request,
        "material.html",
        user,
        cluster=cluster,
        copies=copies,
        banks=banks,
        title=f"Material {cluster_id}",
    )


@router.get("/material/{cluster_id}/timeline.svg", response_model=None, **needs("read"))
def material_timeline(request: Request, cluster_id: Id, user: User) -> Response:
    app = _app(request)
    viewer = viewer_of(user)
    with app.db.session() as session:
        if not can_see_cluster(session, viewer, cluster_id):
            return Response("no such material", status_code=404, media_type="text/plain")
        rows = session.execute(
            select(
                Sighting.platform_key,
                Sighting.seen_at,
                Sighting.removed_at,
                Sighting.reupload_of_id,
            )
            .join(Content, Content.id == Sighting.content_id)
            .where(
                Content.cluster_id == cluster_id,
                Sighting.seen_at.is_not(None),
                sighting_filter(session, viewer),
            )
            .limit(5000)
        ).all()
    items: list[tuple[str, float, str]] = []
    for platform, seen, removed, reup in rows:
        if seen is None:
            continue
        lane = platform or "unknown"
        items.append((lane, seen.timestamp(), "reupload" if reup else "online"))
        if removed is not None:
            items.append((lane, removed.timestamp(), "removed"))
    lanes = sorted({i[0] for i in items})
    times = [i[1] for i in items] or [0.0]
    body = svg.timeline(items, lanes, min(times), max(times), f"Copies of material {cluster_id}")
    return _svg(body)
