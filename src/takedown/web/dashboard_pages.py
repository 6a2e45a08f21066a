"""Workspace dashboard and media: the figures the user may see, and content bytes.

* ``/dashboard``: every figure of :mod:`takedown.web.figures`, counted over what the user may
  see; ``/dashboard/{name}.svg`` and ``/dashboard/{name}.csv``: one figure as an SVG image
  and as CSV, both served with the media CSP.
* ``/media/{content_id}``: the bytes of an image or video the user may see, for the blurred
  preview: ``nosniff`` (as every response), ``Content-Disposition: attachment``, a
  ``sandbox`` CSP and only the media types below under their own type (any other is
  ``application/octet-stream``). Anything else, or another agency's content, is 404.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from takedown.api.scope import can_see_content, sighting_filter
from takedown.store.blobs import BlobError
from takedown.store.models import Content, Sighting
from takedown.web import svg
from takedown.web.figures import Scope, all_figures, figure, platform_table
from takedown.web.views import MEDIA_CSP, Id, User, _app, _svg, needs, page, viewer_of

router = APIRouter(include_in_schema=False)
MEDIA_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "video/mp4",
    "video/webm",
}
FigureName = Annotated[str, PathParam(max_length=64, pattern=r"^[a-z0-9_]+$")]


# -- dashboard ------------------------------------------------------------------------------
def _scope(since: date | None, until: date | None, operation: str) -> Scope:
    """The filters: whole UTC days, ``until`` inclusive."""
    return Scope(
        datetime.combine(since, time.min, UTC) if since else None,
        datetime.combine(until, time.min, UTC) + timedelta(days=1) if until else None,
        operation.strip() or None,
    )


Since = Annotated[date | None, Query()]
Operation = Annotated[str, Query(max_length=200)]


@router.get("/dashboard", response_class=HTMLResponse, **needs("read"))
def dashboard(
    request: Request,
    user: User,
    since: Since = None,
    until: Since = None,
    operation: Operation = "",
) -> HTMLResponse:
    """Headline figures, a sortable table per platform (worst removal shares first and
    highlighted), the charts; all for a period and an operation when chosen."""
    app = _app(request)
    viewer = viewer_of(user)
    scope = _scope(since, until, operation)
    figures = all_figures(app, viewer, scope)
    headline, platforms = platform_table(app, viewer, scope)
    with app.db.session() as session:
        operations = [
            str(o)
            for o in session.scalars(
                select(Sighting.operation)
                .where(sighting_filter(session, viewer), Sighting.operation.is_not(None))
                .distinct()
                .order_by(Sighting.operation)
                .limit(500)
            )
        ]
    chosen = {
        k: v
        for k, v in (
            ("since", since.isoformat() if since else ""),
            ("until", until.isoformat() if until else ""),
            ("operation", operation),
        )
        if v
    }
    return page(
        request,
        "dashboard.html",
        user,
        figures=figures,
        headline=headline,
        platforms=platforms,
        operations=operations,
        chosen=chosen,
        title="Dashboard",
    )


@router.get("/dashboard/{name}.svg", response_model=None, **needs("read"))
def chart(
    request: Request,
    user: User,
    name: FigureName,
    since: Since = None,
    until: Since = None,
    operation: Operation = "",
) -> Response:
    found = figure(_app(request), name, viewer_of(user), _scope(since, until, operation))
    if found is None:
        return Response("no such chart", status_code=404, media_type="text/plain")
    return _svg(svg.render(found))


@router.get("/dashboard/{name}.csv", response_model=None, **needs("read"))
def chart_csv(
    request: Request,
    user: User,
    name: FigureName,
    since: Since = None,
    until: Since = None,
    operation: Operation = "",
) -> Response:
    found = figure(_app(request), name, viewer_of(user), _scope(since, until, operation))
    if found is None:
        return Response("no such chart", status_code=404, media_type="text/plain")
    return Response(
        found.csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Content-Security-Policy": MEDIA_CSP,
        },
    )


# -- media ----------------------------------------------------------------------------------
@router.get("/media/{content_id}", response_model=None, **needs("read"))
def media(request: Request, content_id: Id, user: User) -> Response:
    """Content bytes for the blurred preview: never sniffed, never a document, never script."""
    app = _app(request)
    with app.db.session() as session:
        content = session.get(Content, content_id)
        if content is not None and not can_see_content(session, viewer_of(user), content_id):
            content = None
    if content is None or content.purged_at is not None or content.kind not in ("image", "video"):
        return Response("no such media", status_code=404, media_type="text/plain")
    media_type = content.media_type.split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        media_type = "application/octet-stream"
    try:
        data = app.blobs.read_verified(content.sha256)
    except (BlobError, OSError):
        return Response("media not available", status_code=404, media_type="text/plain")
    extension = media_type.rsplit("/", 1)[-1] if media_type in MEDIA_TYPES else "bin"
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="content-{content.id}.{extension}"',
            "Content-Security-Policy": MEDIA_CSP,
            "Cache-Control": "private, no-store",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )


#: The keyframe strip: a frame every STRIP_EVERY seconds from the start, at most STRIP_FRAMES,
#: each STRIP_HEIGHT pixels high, side by side in one PNG (decoding stops there).
STRIP_FRAMES = 8
STRIP_EVERY = 2.0
STRIP_HEIGHT = 90


def keyframe_strip(data: bytes) -> bytes:
    """A PNG strip of a video's first frames; ``UnhashableContent`` if it cannot be read."""
    import numpy as np
    from PIL import Image

    from takedown.robust.video import sample_frames

    frames = sample_frames(io.BytesIO(data), rate=1 / STRIP_EVERY, max_frames=STRIP_FRAMES)
    tiles = []
    for frame in frames:
        image = Image.fromarray(np.ascontiguousarray(frame.rgb))
        width = max(1, round(image.width * STRIP_HEIGHT / max(1, image.height)))
        tiles.append(image.resize((width, STRIP_HEIGHT)))
    strip = Image.new("RGB", (sum(t.width for t in tiles) + 2 * (len(tiles) - 1), STRIP_HEIGHT))
    x = 0
    for tile in tiles:
        strip.paste(tile, (x, 0))
        x += tile.width + 2
    out = io.BytesIO()
    strip.save(out, format="PNG")
    return out.getvalue()


@router.get("/media/{content_id}/strip.png", response_model=None, **needs("read"))
def media_strip(request: Request, content_id: Id, user: User) -> Response:
    """The keyframe strip of a video the user may see (served like the media: blurred in
    pages until revealed, the media CSP, never cached)."""
    from takedown.signals.base import UnhashableContent

    app = _app(request)
    with app.db.session() as session:
        content = session.get(Content, content_id)
        if content is not None and not can_see_content(session, viewer_of(user), content_id):
            content = None
    if content is None or content.purged_at is not None or content.kind != "video":
        return Response("no such video", status_code=404, media_type="text/plain")
    try:
        body = keyframe_strip(app.blobs.read_verified(content.sha256))
    except (BlobError, OSError, UnhashableContent):
        return Response("no keyframes", status_code=404, media_type="text/plain")
    return Response(
        body,
        media_type="image/png",
        headers={
            "Content-Security-Policy": MEDIA_CSP,
            "Cache-Control": "private, no-store",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )
