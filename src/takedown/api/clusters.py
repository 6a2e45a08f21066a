"""``/api/v1/clusters`` (pieces of material and their copies) and ``/api/v1/figures``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.api.common import ApiError, Caller, decode_cursor, get_app, page_of, scoped
from takedown.api.schemas import (
    ClusterDetail,
    ClusterOut,
    Cursor,
    FigureOut,
    Id,
    Limit,
    One,
    Page,
)
from takedown.api.scope import Viewer, can_see_cluster, sighting_filter, visible_cluster_ids
from takedown.api.sightings import sighting_out
from takedown.store.models import Cluster, Content, Sighting

router = APIRouter()


def _cluster_summaries(
    session: Session, ids: list[int], viewer: Viewer
) -> dict[int, dict[str, Any]]:
    """Counts over the sightings the viewer may see (others' copies are not counted)."""
    if not ids:
        return {}
    seen = sighting_filter(session, viewer)
    rows = session.execute(
        select(
            Content.cluster_id,
            func.count(func.distinct(Content.id)),
            func.count(Sighting.id),
            func.min(Sighting.seen_at),
            func.max(Sighting.seen_at),
            func.count(Sighting.removed_at),
            func.count(Sighting.reupload_of_id),
        )
        .join(Sighting, Sighting.content_id == Content.id)
        .where(Content.cluster_id.in_(ids), seen)
        .group_by(Content.cluster_id)
    ).all()
    platforms: dict[int, set[str]] = {}
    for cid, key in session.execute(
        select(Content.cluster_id, Sighting.platform_key)
        .join(Sighting, Sighting.content_id == Content.id)
        .where(Content.cluster_id.in_(ids), seen)
        .distinct()
    ):
        if cid is not None and key:
            platforms.setdefault(cid, set()).add(key)
    return {
        r[0]: {
            "contents": r[1],
            "sightings": r[2],
            "first_seen": r[3],
            "last_seen": r[4],
            "removed": r[5],
            "reuploads": r[6],
            "platforms": sorted(platforms.get(r[0], set())),
        }
        for r in rows
        if r[0] is not None
    }


def _cluster_out(c: Cluster, s: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c.id,
        "known": c.known,
        "size": c.size,
        "created_at": c.created_at,
        "contents": s.get("contents", 0),
        "sightings": s.get("sightings", 0),
        "platforms": s.get("platforms", []),
        "first_seen": s.get("first_seen"),
        "last_seen": s.get("last_seen"),
        "removed": s.get("removed", 0),
        "reuploads": s.get("reuploads", 0),
    }


@router.get("/clusters", response_model=Page[ClusterOut], tags=["clusters"], **scoped("read"))
def list_clusters(
    request: Request,
    who: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    known: bool | None = None,
) -> Page[ClusterOut]:
    """Clusters (pieces of material), newest first; ``known`` filters bank-known material."""
    app = get_app(request)
    after = decode_cursor(cursor)
    query = select(Cluster).order_by(Cluster.id.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(Cluster.id < after)
    if known is not None:
        query = query.where(Cluster.known.is_(known))
    viewer = Viewer.of(who)
    with app.db.session() as session:  # one session: the viewer's scope is worked out once
        query = query.where(Cluster.id.in_(visible_cluster_ids(session, viewer)))
        rows = list(session.scalars(query))
        page, nxt = page_of(rows, limit, lambda c: c.id)
        stats = _cluster_summaries(session, [c.id for c in page], viewer)
    return Page(
        data=[ClusterOut(**_cluster_out(c, stats.get(c.id, {}))) for c in page], next_cursor=nxt
    )


@router.get(
    "/clusters/{cluster_id}", response_model=One[ClusterDetail], tags=["clusters"], **scoped("read")
)
def get_cluster(request: Request, cluster_id: Id, who: Caller) -> One[ClusterDetail]:
    """One piece of material: its copies across platforms in time order."""
    app = get_app(request)
    viewer = Viewer.of(who)
    with app.db.session() as session:
        cluster = session.get(Cluster, cluster_id)
        if cluster is None or not can_see_cluster(session, viewer, cluster_id):
            raise ApiError(404, "not_found", f"no cluster {cluster_id}")
        sightings = list(
            session.scalars(
                select(Sighting)
                .join(Content, Content.id == Sighting.content_id)
                .where(Content.cluster_id == cluster_id, sighting_filter(session, viewer))
                .order_by(Sighting.seen_at, Sighting.id)
                .limit(5000)
            )
        )
        stats = _cluster_summaries(session, [cluster_id], viewer).get(cluster_id, {})
    return One(
        data=ClusterDetail(
            **_cluster_out(cluster, stats),
            timeline=[sighting_out(s, cluster_id) for s in sightings],
        )
    )


# -- figures --------------------------------------------------------------------------------
@router.get("/figures", response_model=Page[FigureOut], tags=["figures"], **scoped("figures"))
def list_figures(request: Request, who: Caller) -> Page[FigureOut]:
    """The dashboard's figures as tables (the same numbers as the charts and CSVs), counted
    over the sightings the key's agency may see."""
    from takedown.web.figures import all_figures

    figures = all_figures(get_app(request), Viewer.of(who))
    return Page(
        data=[
            FigureOut(name=f.name, title=f.title, columns=f.columns, rows=f.rows) for f in figures
        ],
        next_cursor=None,
    )
