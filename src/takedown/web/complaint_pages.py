"""Workspace pages of complaints about removals and of operation assignments.

* ``/complaints``: the complaints about the sightings the user may see (the API's scoping:
  :func:`takedown.api.scope.sighting_filter`), each with its state, its deadline (14 days
  from receipt) and its decision; forms to record a complaint received and to decide a
  pending one (upheld reinstates the item, rejected keeps it down; a reason either way).
  Any other complaint or sighting is answered as if it did not exist.
* ``/operations/{name}/assignments``: who works on which platforms and languages of an
  operation the user's agency takes part in (others are 404); a form to assign an analyst.
  A participant assigns its own analysts; the lead agency any participant's (the API's rule,
  :func:`takedown.ops.complaints_api.assign_analyst`). A closed operation refuses.

Roles: the API asks keys for the ``referrals`` scope to record and decide complaints and
(``operate``) to assign. :data:`takedown.ops.agencies.PERMISSIONS` has no ``complain``
action, so the workspace asks for ``refer`` (the referral desk, as the scope says), and
``operate`` for assignments, as :mod:`takedown.web.ops_pages` asks ``hold`` for holds.

Every value is hostile data (complainants, grounds, reasons, URLs, names): the templates
escape it and pass it through the ``inert`` filter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.api.models import ApiUser
from takedown.api.scope import Viewer, sighting_filter
from takedown.ops import complaints_api
from takedown.ops.agencies import OpsError, allowed, operations_of
from takedown.ops.complaints import ANSWER_WITHIN, OUTCOMES, complaint_view
from takedown.ops.models import OpsComplaint, OpsOperation
from takedown.store.models import Sighting, utcnow
from takedown.web.ops_pages import Name, _actor, _member_operation
from takedown.web.views import Id, User, _app, needs, not_found, page, refused, viewer_of

router = APIRouter(include_in_schema=False)
#: the role action asked to record and decide complaints (see the module docstring)
COMPLAIN = "refer"
#: the role action asked to assign analysts (the API's ``operate``)
ASSIGN = "operate"
SUFFIX = "/assignments"


def _back(path: str, error: str | None = None) -> RedirectResponse:
    suffix = f"?error={quote(error[:300], safe='')}" if error else ""
    return RedirectResponse(f"{path}{suffix}", status_code=303)


# -- complaints ---------------------------------------------------------------------------------
def _complaints(session: Session, viewer: Viewer, *, open_only: bool) -> list[dict[str, Any]]:
    """The complaints about the sightings ``viewer`` may see, oldest first, with their URL."""
    query = (
        select(OpsComplaint, Sighting.url)
        .join(Sighting, Sighting.id == OpsComplaint.sighting_id)
        .where(sighting_filter(session, viewer))
        .order_by(OpsComplaint.id)
    )
    if open_only:
        query = query.where(OpsComplaint.decided_at.is_(None))
    now = utcnow()
    out = []
    for complaint, url in session.execute(query):
        view = complaint_view(complaint, now)
        view["url"] = url
        view["decided_by"] = complaint.decided_by
        view["state"] = view["outcome"] or ("overdue" if view["overdue"] else "open")
        out.append(view)
    return out


def _visible_complaint(session: Session, viewer: Viewer, complaint_id: int) -> OpsComplaint | None:
    found: OpsComplaint | None = session.scalar(
        select(OpsComplaint)
        .join(Sighting, Sighting.id == OpsComplaint.sighting_id)
        .where(OpsComplaint.id == complaint_id, sighting_filter(session, viewer))
    )
    return found


@router.get("/complaints", response_class=HTMLResponse, **needs("read"))
def complaints(
    request: Request,
    user: User,
    error: Annotated[str | None, Query(max_length=400)] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    sighting: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    """Complaints; ``?sighting=<id>`` (the link on a material page's copy) fills the form
    with that item, shown by its URL rather than a number to type."""
    viewer = viewer_of(user)
    about: dict[str, Any] | None = None
    with _app(request).db.session() as session:
        rows = _complaints(session, viewer, open_only=open_only)
        if sighting is not None:
            found = session.execute(
                select(Sighting.id, Sighting.url).where(
                    Sighting.id == sighting, sighting_filter(session, viewer)
                )
            ).first()
            about = {"id": found[0], "url": found[1]} if found else None
        operations = operations_of(session, viewer.agency_id) if viewer.agency_id else []
    return page(
        request,
        "complaints.html",
        user,
        complaints=rows,
        outcomes=OUTCOMES,
        answer_days=ANSWER_WITHIN.days,
        may_complain=allowed(user.role, COMPLAIN),
        open_only=open_only,
        about=about,
        now=datetime.now(UTC),
        operations=sorted(operations),
        error=error,
        title="Complaints",
    )


def _received(value: str) -> datetime | None:
    """The form's time received (UTC unless it names a zone); blank is now. ValueError if bad."""
    if not value.strip():
        return None
    when = datetime.fromisoformat(value.strip())
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@router.post("/complaints", response_model=None, **needs(COMPLAIN, "record complaints"))
def record(
    request: Request,
    user: User,
    csrf: Annotated[str, Form(max_length=200)],
    sighting_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    complainant: Annotated[str, Form(max_length=200)] = "",
    grounds: Annotated[str, Form(max_length=20000)] = "",
    received_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    from takedown.ops.complaints import record_complaint
    from takedown.store.audit import acting_as

    if (refusal := refused(user, csrf, COMPLAIN, "record complaints")) is not None:
        return refusal
    try:
        when = _received(received_at)
    except ValueError:
        return _back("/complaints", "Give the time received as a date and time (UTC).")
    with _app(request).db.session() as session:
        visible = session.scalar(
            select(Sighting.id).where(
                Sighting.id == sighting_id, sighting_filter(session, viewer_of(user))
            )
        )
        if visible is None:  # one answer whether it exists elsewhere or not at all
            return _back("/complaints", f"no sighting {sighting_id}")
        try:
            with acting_as(_actor(user)):
                record_complaint(
                    session,
                    sighting_id=sighting_id,
                    complainant=complainant,
                    grounds=grounds,
                    received_at=when,
                )
        except OpsError as exc:
            session.rollback()
            return _back("/complaints", str(exc))
    return _back("/complaints")


@router.post(
    "/complaints/{complaint_id}/decision",
    response_model=None,
    **needs(COMPLAIN, "decide complaints"),
)
def decide(
    request: Request,
    user: User,
    complaint_id: Id,
    csrf: Annotated[str, Form(max_length=200)],
    outcome: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    from takedown.ops.complaints import decide as decide_complaint
    from takedown.store.audit import acting_as

    if (refusal := refused(user, csrf, COMPLAIN, "decide complaints")) is not None:
        return refusal
    with _app(request).db.session() as session:
        complaint = _visible_complaint(session, viewer_of(user), complaint_id)
        if complaint is None:
            return not_found(request, user, "No such complaint.")
        try:
            with acting_as(_actor(user)):
                decide_complaint(session, complaint.id, outcome, reason=reason, actor=_actor(user))
        except OpsError as exc:
            session.rollback()
            return _back("/complaints", str(exc))
    return _back("/complaints")


# -- assignments --------------------------------------------------------------------------------
def _operation(session: Session, viewer: Viewer, name: str) -> OpsOperation | None:
    """The operation if the viewer's agency takes part in it (the pages' rule); else None."""
    if not _member_operation(session, viewer, name):
        return None
    found: OpsOperation | None = session.scalar(
        select(OpsOperation).where(OpsOperation.name == name)
    )
    return found


def _agencies(operation: OpsOperation, viewer: Viewer) -> Any:
    return complaints_api.assignable_agencies(operation, viewer.agency_id)[0]


def _assignments_path(name: str) -> str:
    return f"/operations/{quote(name, safe='')}{SUFFIX}"


@router.get("/operations/{name:path}/assignments", response_class=HTMLResponse, **needs("read"))
def assignments(
    request: Request,
    user: User,
    name: Name,
    error: Annotated[str | None, Query(max_length=400)] = None,
) -> HTMLResponse:
    viewer = viewer_of(user)
    with _app(request).db.session() as session:
        operation = _operation(session, viewer, name)
        if operation is None:
            if _member_operation(session, viewer, name + SUFFIX):  # an operation so named
                from takedown.web.ops_pages import operation_board

                return operation_board(request, user, name + SUFFIX)
            return not_found(request, user, "No such operation.")
        rows = [a.model_dump() for a in complaints_api._assignments(session, operation.id)]
        may_assign = allowed(user.role, ASSIGN) and operation.closed_at is None
        candidates: list[str] = []
        if may_assign:
            candidates = list(
                session.scalars(
                    select(ApiUser.username)
                    .where(ApiUser.agency_id.in_(_agencies(operation, viewer)))
                    .order_by(ApiUser.username)
                    .limit(500)
                )
            )
        closed = operation.closed_at.isoformat() if operation.closed_at else None
        operation_name = operation.name
    return page(
        request,
        "assignments.html",
        user,
        operation=operation_name,
        closed_at=closed,
        assignments=rows,
        candidates=candidates,
        may_assign=may_assign,
        action=_assignments_path(operation_name),
        error=error,
        title=f"Assignments: {operation_name}",
    )


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@router.post(
    "/operations/{name:path}/assignments", response_model=None, **needs(ASSIGN, "assign analysts")
)
def assign(
    request: Request,
    user: User,
    name: Name,
    csrf: Annotated[str, Form(max_length=200)],
    analyst: Annotated[str, Form(alias="user", max_length=200)] = "",
    platforms: Annotated[str, Form(max_length=4000)] = "",
    languages: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    from takedown.ops.operations import assign as assign_user
    from takedown.store.audit import acting_as

    if (refusal := refused(user, csrf, ASSIGN, "assign analysts")) is not None:
        return refusal
    viewer = viewer_of(user)
    with _app(request).db.session() as session:
        operation = _operation(session, viewer, name)
        if operation is None:
            return not_found(request, user, "No such operation.")
        back = _assignments_path(operation.name)
        whose = (
            "of an agency taking part"
            if operation.lead_agency_id == viewer.agency_id
            else "of your agency"
        )
        username = session.scalar(
            select(ApiUser.username).where(
                ApiUser.username == analyst.strip(),
                ApiUser.agency_id.in_(_agencies(operation, viewer)),
            )
        )
        if username is None:  # one answer whether the user exists elsewhere or not at all
            return _back(back, f"no user named {analyst.strip()!r} {whose}")
        try:
            with acting_as(_actor(user)):
                assign_user(
                    session,
                    operation.name,
                    username,
                    platforms=_listed(platforms),
                    languages=_listed(languages),
                    actor=_actor(user),
                )
        except OpsError as exc:
            session.rollback()
            return _back(back, str(exc))
    return _back(back)
