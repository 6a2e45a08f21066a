"""``/api/v1/sightings/{id}/share``: an agency shares one of its sightings with another, on
purpose (:mod:`takedown.access.shares`), and withdraws the share."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from takedown.access.shares import ShareRefused, share, share_view, withdraw
from takedown.api.common import ApiError, Caller, get_app, scoped
from takedown.api.schemas import SAFE, Id, One
from takedown.api.uploads import submitter

router = APIRouter(prefix="/api/v1", tags=["sightings"])


class ShareIn(BaseModel):
    agency: str = Field(min_length=1, max_length=200, pattern=SAFE)
    note: str | None = Field(default=None, max_length=4000)


class ShareOut(BaseModel):
    sighting_id: int
    from_: str | None = Field(alias="from")
    to: str | None
    shared_by: str | None
    shared_at: str
    withdrawn_at: str | None


def _act(request: Request, who: Caller, sighting_id: int, body: ShareIn, give: bool) -> Any:
    if who.agency_id is None:
        raise ApiError(403, "forbidden", "this route is for keys of an agency")
    with get_app(request).db.session() as session:
        try:
            if give:
                row = share(
                    session,
                    sighting_id,
                    from_agency_id=who.agency_id,
                    to_agency=body.agency,
                    actor=submitter(who),
                    note=body.note,
                )
            else:
                row = withdraw(
                    session,
                    sighting_id,
                    from_agency_id=who.agency_id,
                    to_agency=body.agency,
                    actor=submitter(who),
                )
        except ShareRefused as exc:
            session.rollback()
            raise ApiError(404, "not_found", str(exc)) from exc
        return One(data=ShareOut(**share_view(session, row)))


@router.post("/sightings/{sighting_id}/share", response_model=One[ShareOut], **scoped("submit"))
def share_sighting(request: Request, who: Caller, sighting_id: Id, body: ShareIn) -> Any:
    """Share one of your agency's sightings with another agency (its notes, operation,
    decisions, content and media become visible to that agency). Audited."""
    return _act(request, who, sighting_id, body, True)


@router.post(
    "/sightings/{sighting_id}/share/withdraw", response_model=One[ShareOut], **scoped("submit")
)
def withdraw_share(request: Request, who: Caller, sighting_id: Id, body: ShareIn) -> Any:
    """Withdraw a share (recorded with who and when)."""
    return _act(request, who, sighting_id, body, False)
