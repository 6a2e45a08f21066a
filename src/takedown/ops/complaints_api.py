"""``/api/v1/complaints`` and ``/api/v1/operations/{id}/assignments`` over HTTP.

Thin routes over :mod:`takedown.ops.complaints` and :func:`takedown.ops.operations.assign`,
mounted by :mod:`takedown.api.app` next to :mod:`takedown.ops.api`, with its scopes
(``ACTIONS``) and its scoping:

* Complaints (TCO Regulation Art. 10) are filed by the uploader or content provider with the
  agency, which records them: ``complainant`` names who complained. A complaint is about a
  sighting; a key sees, records and decides complaints about the sightings its agency may see
  (its own and its operations'). Any other complaint or sighting is answered 404, as if it did
  not exist. Each complaint carries its ``deadline`` (14 days from receipt) and ``overdue``;
  an upheld decision reinstates the item (``reinstated_at``; the removing referral moves to
  ``reinstated``). Reading needs ``read``; recording and deciding ``referrals``.
* Assignments put an analyst of a participating agency on platforms and/or languages of an
  operation the caller's agency takes part in (others are 404). A participant assigns its own
  analysts; the lead agency any participant's. Assigning again replaces the analyst's lists.
  A closed operation refuses (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.access.visibility import Viewer, sighting_filter
from takedown.api.auth import Principal
from takedown.api.common import ApiError, Caller, get_app
from takedown.api.models import ApiAgency, ApiUser
from takedown.api.schemas import CheckedIn
from takedown.api.v1 import SAFE, Id, One, Page
from takedown.ops.agencies import OpsError
from takedown.ops.api import _actor, _member, _refused, _scoped, _utc
from takedown.ops.models import OpsAssignment, OpsComplaint, OpsOperation, OpsOperationAgency
from takedown.store.models import Sighting

router = APIRouter(prefix="/api/v1", tags=["operations"])


# -- bodies and answers -------------------------------------------------------------------------
class ComplaintOut(BaseModel):
    id: int
    sighting_id: int
    referral_id: int | None = Field(description="the referral that removed the item, if any")
    complainant: str
    grounds: str
    received_at: datetime
    deadline: datetime = Field(description="received_at + 14 days: the answer is due by then")
    overdue: bool = Field(description="undecided and past its deadline")
    decided_at: datetime | None
    answered_in_time: bool | None
    outcome: str | None = Field(description="upheld | rejected")
    decision_reason: str | None
    reinstated_at: datetime | None = Field(description="set when upheld")


class ComplaintIn(CheckedIn):
    sighting_id: int = Field(ge=1, le=2**31 - 1, description="the removed item complained about")
    complainant: str = Field(
        min_length=1, max_length=200, description="who complained (uploader, content provider)"
    )
    grounds: str = Field(min_length=1, max_length=20000)
    received_at: datetime | None = Field(default=None, description="with a time zone; now")


class DecisionIn(CheckedIn):
    outcome: str = Field(pattern=r"^(upheld|rejected)$", description="upheld reinstates")
    reason: str = Field(min_length=1, max_length=4000, description="sent to the complainant")


class AssignmentOut(BaseModel):
    user: str
    agency: str | None
    platforms: list[str]
    languages: list[str]
    assigned_at: datetime
    assigned_by: str | None


class AssignmentIn(CheckedIn):
    user: str = Field(min_length=1, max_length=200, pattern=SAFE)
    platforms: list[str] = Field(default_factory=list, max_length=100)
    languages: list[str] = Field(default_factory=list, max_length=100)


# -- complaints ---------------------------------------------------------------------------------
def _visible_complaint(session: Session, who: Principal, complaint_id: int) -> OpsComplaint:
    found = session.scalar(
        select(OpsComplaint)
        .join(Sighting, Sighting.id == OpsComplaint.sighting_id)
        .where(OpsComplaint.id == complaint_id, sighting_filter(session, Viewer.of(who)))
    )
    if found is None:
        raise ApiError(404, "not_found", f"no complaint {complaint_id}")
    return found


def _complaint_out(complaint: OpsComplaint) -> ComplaintOut:
    from takedown.ops.complaints import complaint_view

    return ComplaintOut(**complaint_view(complaint))


@router.get("/complaints", response_model=Page[ComplaintOut], **_scoped("read"))
def list_complaints(
    request: Request,
    who: Caller,
    open_only: Annotated[bool, Query(alias="open", description="undecided only")] = False,
) -> Page[ComplaintOut]:
    """Complaints about the sightings the caller's agency may see, oldest first."""
    with get_app(request).db.session() as session:
        query = (
            select(OpsComplaint)
            .join(Sighting, Sighting.id == OpsComplaint.sighting_id)
            .where(sighting_filter(session, Viewer.of(who)))
            .order_by(OpsComplaint.id)
        )
        if open_only:
            query = query.where(OpsComplaint.decided_at.is_(None))
        return Page(data=[_complaint_out(c) for c in session.scalars(query)], next_cursor=None)


@router.post(
    "/complaints", response_model=One[ComplaintOut], status_code=201, **_scoped("complain")
)
def create_complaint(request: Request, who: Caller, body: ComplaintIn) -> One[ComplaintOut]:
    """Record a complaint received about a removal; its deadline is 14 days from receipt."""
    from takedown.ops.complaints import record_complaint

    with get_app(request).db.session() as session:
        visible = session.scalar(
            select(Sighting.id).where(
                Sighting.id == body.sighting_id, sighting_filter(session, Viewer.of(who))
            )
        )
        if visible is None:
            raise ApiError(404, "not_found", f"no sighting {body.sighting_id}")
        try:
            row = record_complaint(
                session,
                sighting_id=body.sighting_id,
                complainant=body.complainant,
                grounds=body.grounds,
                received_at=_utc(body.received_at),
            )
        except OpsError as exc:
            session.rollback()
            raise ApiError(400, "refused", str(exc)) from exc
        return One(data=_complaint_out(row))


@router.get("/complaints/{complaint_id}", response_model=One[ComplaintOut], **_scoped("read"))
def get_complaint(request: Request, who: Caller, complaint_id: Id) -> One[ComplaintOut]:
    """One complaint about a sighting the caller's agency may see."""
    with get_app(request).db.session() as session:
        return One(data=_complaint_out(_visible_complaint(session, who, complaint_id)))


@router.post(
    "/complaints/{complaint_id}/decision",
    response_model=One[ComplaintOut],
    **_scoped("complain", conflict=True),
)
def decide_complaint(
    request: Request, who: Caller, complaint_id: Id, body: DecisionIn
) -> One[ComplaintOut]:
    """Decide a complaint once: ``upheld`` reinstates the item, ``rejected`` keeps it down."""
    from takedown.ops.complaints import decide

    with get_app(request).db.session() as session:
        complaint = _visible_complaint(session, who, complaint_id)
        if complaint.decided_at is not None:
            raise ApiError(409, "conflict", f"complaint {complaint_id} was decided already")
        try:
            row = decide(session, complaint.id, body.outcome, reason=body.reason, actor=_actor(who))
        except OpsError as exc:
            session.rollback()
            raise ApiError(400, "refused", str(exc)) from exc
        return One(data=_complaint_out(row))


# -- assignments --------------------------------------------------------------------------------
def _assignments(session: Session, operation_id: int) -> list[AssignmentOut]:
    rows = session.execute(
        select(OpsAssignment, ApiUser.username, ApiAgency.name)
        .join(ApiUser, ApiUser.id == OpsAssignment.user_id)
        .outerjoin(ApiAgency, ApiAgency.id == ApiUser.agency_id)
        .where(OpsAssignment.operation_id == operation_id)
        .order_by(ApiUser.username)
    )
    return [
        AssignmentOut(
            user=username,
            agency=agency,
            platforms=a.platforms,
            languages=a.languages,
            assigned_at=a.assigned_at,
            assigned_by=a.assigned_by,
        )
        for a, username, agency in rows
    ]


@router.get(
    "/operations/{operation_id}/assignments",
    response_model=Page[AssignmentOut],
    **_scoped("read"),
)
def list_assignments(request: Request, who: Caller, operation_id: Id) -> Page[AssignmentOut]:
    """Who works on which platforms and languages of an operation the caller takes part in."""
    with get_app(request).db.session() as session:
        operation = _member(session, who, operation_id)
        return Page(data=_assignments(session, operation.id), next_cursor=None)


def assignable_agencies(operation: OpsOperation, agency_id: int | None) -> tuple[Any, str]:
    """(query of the agency ids whose analysts ``agency_id`` may assign, and who that is in
    words): the lead agency any participant's, a participant only its own."""
    if operation.lead_agency_id == agency_id:
        agencies = select(OpsOperationAgency.agency_id).where(
            OpsOperationAgency.operation_id == operation.id
        )
        return agencies, "of an agency taking part"
    return select(ApiAgency.id).where(ApiAgency.id == agency_id), "of your agency"


@router.post(
    "/operations/{operation_id}/assignments",
    response_model=One[AssignmentOut],
    **_scoped("operate", conflict=True),
)
def assign_analyst(
    request: Request, who: Caller, operation_id: Id, body: AssignmentIn
) -> One[AssignmentOut]:
    """Assign an analyst to ``platforms`` and/or ``languages`` (replacing earlier lists)."""
    from takedown.ops.operations import assign

    with get_app(request).db.session() as session:
        operation = _member(session, who, operation_id)
        agencies, whose = assignable_agencies(operation, who.agency_id)
        user = session.scalar(
            select(ApiUser.username).where(
                ApiUser.username == body.user.strip(), ApiUser.agency_id.in_(agencies)
            )
        )
        if user is None:  # one answer whether the user exists elsewhere or not at all
            raise ApiError(400, "refused", f"no user named {body.user!r} {whose}")
        try:
            assign(
                session,
                operation.name,
                user,
                platforms=body.platforms,
                languages=body.languages,
                actor=_actor(who),
            )
        except OpsError as exc:
            session.rollback()
            raise _refused(exc) from exc
        found = [a for a in _assignments(session, operation.id) if a.user == user]
        return One(data=found[0])
