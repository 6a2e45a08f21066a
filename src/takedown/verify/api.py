"""``/api/v1/checks``: the removal checks of sightings' URLs (mounted by the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from takedown.access.visibility import Viewer, visible_ids
from takedown.api.common import Caller, decode_cursor, get_app, page_of, scoped
from takedown.api.v1 import Cursor, Limit, Page
from takedown.verify.models import VerifyCheck

router = APIRouter(prefix="/api/v1", tags=["checks"])

OUTCOMES = ("live", "removed", "unreachable", "unknown")


class CheckOut(BaseModel):
    id: int
    sighting_id: int
    checked_at: datetime
    vantage: str
    outcome: str
    http_status: int | None
    reason: str | None
    final_url: str | None
    elapsed: float | None
    reinstated: bool


@router.get("/checks", response_model=Page[CheckOut], **scoped("figures"))
def list_checks(
    request: Request,
    who: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    sighting_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    outcome: Annotated[str | None, Query(pattern="^(" + "|".join(OUTCOMES) + ")$")] = None,
) -> Page[CheckOut]:
    """Checks, newest first: live, removed (with the vantage point), unreachable, unknown;
    only of the sightings the key's agency may see."""
    app = get_app(request)
    after = decode_cursor(cursor)
    query = select(VerifyCheck).order_by(VerifyCheck.id.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(VerifyCheck.id < after)
    if sighting_id is not None:
        query = query.where(VerifyCheck.sighting_id == sighting_id)
    if outcome is not None:
        query = query.where(VerifyCheck.outcome == outcome)
    with app.db.session() as session:
        query = query.where(VerifyCheck.sighting_id.in_(visible_ids(session, Viewer.of(who))))
        rows = list(session.scalars(query))
        page, nxt = page_of(rows, limit, lambda c: c.id)
        data = [
            CheckOut(
                id=c.id,
                sighting_id=c.sighting_id,
                checked_at=c.checked_at,
                vantage=c.vantage,
                outcome=c.outcome,
                http_status=c.http_status,
                reason=c.reason,
                final_url=c.final_url,
                elapsed=c.elapsed,
                reinstated=c.reinstated,
            )
            for c in page
        ]
    return Page(data=data, next_cursor=nxt)
