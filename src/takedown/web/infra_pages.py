"""Workspace pages of the infrastructure map.

``/infra`` and ``/infra/{outlet}``: outlets and their takedown plan; the graph as an SVG
image (``/infra/picture.svg?outlet=``) served with the media CSP. An outlet is shown to a
user who may see at least one sighting on its domains (or when no sighting is on them at
all: then it holds imported facts only); sighting counts are the user's own.

Every value on these pages comes from hostile data (outlet, registrar names...): templates
escape it and pass it through the ``inert`` filter; the SVG escapes every label and
:func:`picture_svg` allows only a short list of tags and attributes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.api.scope import Viewer, sighting_filter
from takedown.store.models import Sighting
from takedown.web.ops_pages import Name
from takedown.web.views import MEDIA_CSP, User, _app, needs, not_found, page, viewer_of

router = APIRouter(include_in_schema=False)


# -- infrastructure -----------------------------------------------------------------------------
def _domain_counts(
    session: Session, viewer: Viewer, domains: list[str]
) -> tuple[dict[str, int], dict[str, int], int]:
    """(the viewer's sightings per domain, its live ones, every agency's sightings)."""
    mine: dict[str, int] = defaultdict(int)
    live: dict[str, int] = defaultdict(int)
    if not domains:
        return mine, live, 0
    anyone = (
        session.scalar(
            select(func.count(Sighting.id)).where(Sighting.registrable_domain.in_(domains))
        )
        or 0
    )
    for domain, removed in session.execute(
        select(Sighting.registrable_domain, Sighting.removed_at).where(
            Sighting.registrable_domain.in_(domains), sighting_filter(session, viewer)
        )
    ):
        if domain:
            mine[domain] += 1
            live[domain] += removed is None
    return mine, live, int(anyone)


def _visible_outlet(
    session: Session, viewer: Viewer, name: str
) -> tuple[Any, list[str], dict[str, int], dict[str, int]] | None:
    """(outlet, its domains, the viewer's sightings and live sightings per domain), or None
    when the outlet is unknown or only other agencies have sightings on it."""
    from takedown.infra.store import OutletError, get_outlet, outlet_domains

    try:
        outlet = get_outlet(session, name)
    except OutletError:
        return None
    domains = outlet_domains(session, outlet)
    mine, live, anyone = _domain_counts(session, viewer, domains)
    if anyone and not mine:
        return None
    return outlet, domains, mine, live


@router.get("/infra", response_class=HTMLResponse, **needs("read"))
def infra(request: Request, user: User) -> HTMLResponse:
    from takedown.infra.models import InfraOutlet

    viewer = viewer_of(user)
    rows: list[dict[str, Any]] = []
    with _app(request).db.session() as session:
        for outlet in session.scalars(select(InfraOutlet).order_by(InfraOutlet.name).limit(2000)):
            found = _visible_outlet(session, viewer, outlet.name)
            if found is None:
                continue
            _o, domains, mine, live = found
            rows.append(
                {
                    "name": outlet.name,
                    "label": outlet.label,
                    "domains": len(domains),
                    "sightings": sum(mine.values()),
                    "live": sum(live.values()),
                }
            )
    return page(request, "infra.html", user, outlets=rows, title="Infrastructure")


def _scoped_plan(plan: dict[str, Any], mine: dict[str, int], live: dict[str, int]) -> None:
    """Replaces every agency's sighting counts in the plan with the viewer's own."""
    for row in plan.get("domains", []):
        row["sightings"] = mine.get(row["domain"], 0)
        row["live_sightings"] = live.get(row["domain"], 0)
    for groups in plan.get("groups", {}).values():
        for entry in groups.values():
            entry["live_sightings"] = sum(live.get(d, 0) for d in entry.get("domains", []))
    for dep in plan.get("dependencies", []):
        dep.pop("live_sightings", None)


# The SVG goes out as an image: no stylesheet may run on it (the media CSP forbids inline
# styles), so the picture's classes become presentation attributes.
_CLASSES = {
    'class="e"': 'stroke="#999" stroke-width="1"',
    'class="taken"': 'stroke="#d00" stroke-width="2.5" fill="none"',
    'class="back"': 'stroke="#f80" stroke-width="2.5" fill="none" stroke-dasharray="3 2"',
}


_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTR = re.compile(r"([A-Za-z_:][A-Za-z0-9_.:-]*)\s*=")
_TAGS = frozenset({"svg", "g", "line", "circle", "path", "text", "title"})
_ATTRS = frozenset(
    {
        "xmlns", "width", "height", "viewBox", "role", "aria-label", "font-family", "font-size",
        "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "d", "fill", "stroke",
        "stroke-width", "stroke-dasharray",
    }
)  # fmt: skip


def picture_svg(html: str) -> str:
    """The ``<svg>`` of :func:`takedown.infra.picture.render_html` as a standalone image.

    Labels in that HTML are escaped (``html.escape`` with quotes), so neither ``<svg`` nor a
    class attribute can appear inside a label; the first ``<svg`` and last ``</svg>`` bound it.
    Every tag and attribute is then checked against a short allow-list (no script, no link,
    no event handler, no style), so a change upstream cannot slip active content through.
    """
    start = html.find("<svg ")
    end = html.rfind("</svg>")
    if start < 0 or end < start:
        raise ValueError("the picture holds no SVG")
    body = html[start : end + len("</svg>")]
    body = body.replace(
        "<svg ",
        '<svg xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11" ',
        1,
    )
    for old, new in _CLASSES.items():
        body = body.replace(old, new)
    for tag, attrs in _TAG.findall(body):
        names = set(_ATTR.findall(attrs))
        if tag.lower() not in _TAGS or not names <= _ATTRS:
            raise ValueError(f"unexpected markup in the picture: <{tag}>")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


@router.get("/infra/picture.svg", response_model=None, **needs("read"))
def infra_picture(
    request: Request,
    user: User,
    outlet: Annotated[str, Query(min_length=1, max_length=200)],
) -> Response:
    from takedown.infra.picture import render_html

    with _app(request).db.session() as session:
        if _visible_outlet(session, viewer_of(user), outlet) is None:
            return Response("no such outlet", status_code=404, media_type="text/plain")
        try:
            body = picture_svg(render_html(session, outlet))
        except (ValueError, KeyError):
            return Response("no picture", status_code=404, media_type="text/plain")
    return Response(
        body,
        media_type="image/svg+xml",
        headers={
            "Content-Security-Policy": MEDIA_CSP,
            "Cache-Control": "no-store",
            "Content-Disposition": 'inline; filename="infrastructure.svg"',
        },
    )


@router.get("/infra/{outlet:path}", response_class=HTMLResponse, **needs("read"))
def infra_outlet(request: Request, user: User, outlet: Name) -> HTMLResponse:
    from takedown.infra.planning import plan_outlet

    viewer = viewer_of(user)
    with _app(request).db.session() as session:
        found = _visible_outlet(session, viewer, outlet)
        if found is None:
            return not_found(request, user, "No such outlet.")
        _o, _domains, mine, live = found
        try:
            plan = plan_outlet(session, outlet)
        except ValueError as exc:
            plan = {"outlet": outlet, "problems": [str(exc)[:500]]}
    _scoped_plan(plan, mine, live)
    return page(request, "infra_outlet.html", user, plan=plan, title=f"Infrastructure: {outlet}")
