"""Workspace pages of operations and deconfliction holds (infrastructure:
:mod:`takedown.web.infra_pages`).

* ``/operations`` and ``/operations/{name}``: the operations the user's agency takes part in
  and each one's live board (found / items / unique material / referred / removed by platform,
  language and agency; assignments). Others' operations are 404.
* ``/reports/operation/{name}``: the operation report of an operation the user's agency takes
  part in (others are 404); ``/reports/transparency?from=&to=``: the period's transparency
  figures counting only the sightings the user may see (and the orders, events and complaints
  about them). Both are the figures of :mod:`takedown.ops.reports` as tables, with charts
  drawn by :mod:`takedown.web.report_charts` (SVG images); never any media.
* ``/holds``: the user's agency's holds (with their reasons: the owner's view) and every hit
  on them (who tried to refer what); add (with a PDQ hold's distance, 0..128, default 31)
  and lift, for roles allowed to ``hold``.

Every value on these pages comes from hostile data (operation names, hold reasons...):
templates escape it and pass it through the ``inert`` filter; the SVG escapes every label.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from takedown.api.auth import WebUser
from takedown.api.scope import Viewer, agency_name, visible_ids
from takedown.ops import api as ops_api
from takedown.ops import complaints_api
from takedown.ops.holds import MAX_PDQ_DISTANCE, PDQ_DISTANCE
from takedown.web.views import (
    MEDIA_CSP,
    User,
    _app,
    error_page,
    needs,
    not_found,
    page,
    refused,
    templates,
    viewer_of,
)

router = APIRouter(include_in_schema=False)
#: the ops feature's API routes (takedown.ops.api), mounted by takedown.api.app with the pages
api_router = ops_api.router
#: complaints and assignments (takedown.ops.complaints_api), mounted the same way
complaints_router = complaints_api.router
Name = Annotated[str, PathParam(min_length=1, max_length=200)]
HOLD_KINDS = ("url", "domain", "signal", "label")


def _quote(value: object) -> str:
    return quote(str(value), safe="")


templates.env.filters["path_part"] = _quote


def _actor(user: WebUser) -> str:
    return f"user:{user.username}"[:200]


# -- operations ---------------------------------------------------------------------------------
def _member_operation(session: Session, viewer: Viewer, name: str) -> bool:
    from takedown.ops.agencies import operations_of

    return viewer.agency_id is not None and name in operations_of(session, viewer.agency_id)


@router.get("/operations", response_class=HTMLResponse, **needs("read"))
def operations(request: Request, user: User) -> HTMLResponse:
    from takedown.ops.operations import list_operations

    viewer = viewer_of(user)
    found: list[dict[str, Any]] = []
    if viewer.agency_id is not None:
        with _app(request).db.session() as session:
            found = list_operations(session, viewer.agency_id)
    return page(request, "operations.html", user, operations=found, title="Operations")


@router.get("/operations/{name:path}", response_class=HTMLResponse, **needs("read"))
def operation_board(request: Request, user: User, name: Name) -> HTMLResponse:
    from takedown.ops.agencies import OpsError
    from takedown.ops.operations import board

    viewer = viewer_of(user)
    with _app(request).db.session() as session:
        if not _member_operation(session, viewer, name):
            return not_found(request, user, "No such operation.")
        try:
            figures = board(session, name)
        except OpsError:
            return not_found(request, user, "No such operation.")
    return page(request, "operation.html", user, board=figures, title=f"Operation {name}")


# -- reports ------------------------------------------------------------------------------------
def _tables(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report as titled tables (the HTML and PDF renderers' sections): listings get a
    header row, key/value sections none."""
    from takedown.ops.render import sections

    out = []
    for title, rows in sections(report):
        listing = len(rows) > 1 and title.startswith(("By", "Orders", "Removed"))
        out.append(
            {
                "title": title,
                "head": rows[0] if listing else None,
                "rows": rows[1:] if listing else rows,
            }
        )
    return out


@router.get("/reports/operation/{name:path}", response_model=None, **needs("read"))
def operation_report(
    request: Request,
    user: User,
    name: Name,
    format: Annotated[str, Query(max_length=8, pattern="^(html|pdf)?$")] = "",
    marking: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """The operation's report page; ``?format=pdf``: the same report as a PDF (every script
    printed, the handling marking and page numbers on each page; ``marking``: this report's
    handling marking, default the ``TAKEDOWN_HANDLING_MARKING`` setting)."""
    from takedown.ops.agencies import OpsError
    from takedown.ops.marking import handling_marking
    from takedown.ops.render import render_pdf
    from takedown.ops.reports import operation_report as build

    default_marking = _app(request).settings.handling_marking
    try:
        chosen = handling_marking(marking if marking is not None else default_marking)
    except ValueError as exc:
        return error_page(request, 400, f"Handling marking: {exc}.", user)
    viewer = viewer_of(user)
    with _app(request).db.session() as session:
        if not _member_operation(session, viewer, name):
            return not_found(request, user, "No such operation.")
        try:
            report = build(session, name)
        except OpsError:
            return not_found(request, user, "No such operation.")
    if format == "pdf":
        return Response(
            render_pdf(report, chosen),
            media_type="application/pdf",
            headers={
                "Content-Disposition": 'attachment; filename="operation-report.pdf"',
                "Content-Security-Policy": MEDIA_CSP,
            },
        )
    return page(
        request,
        "report.html",
        user,
        report=report,
        tables=_tables(report),
        marking=chosen,
        heading=f"Operation report: {report['operation']}",
        title="Operation report",
    )


def _day(value: str | None, fallback: date) -> date | None:
    if not value:
        return fallback
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@router.get("/reports/transparency", response_class=HTMLResponse, **needs("read"))
def transparency(
    request: Request,
    user: User,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> HTMLResponse:
    """The period [from, to) (dates, UTC; default: this calendar year so far and the rest)."""
    from takedown.ops.reports import transparency_report

    today = datetime.now(UTC).date()
    first = _day(start, date(today.year, 1, 1))
    last = _day(end, date(today.year + 1, 1, 1))
    error = None
    report: dict[str, Any] | None = None
    if first is None or last is None or last <= first:
        error = "Give the period as two dates, from before to (YYYY-MM-DD)."
    else:
        begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
        until = datetime(last.year, last.month, last.day, tzinfo=UTC)
        with _app(request).db.session() as session:
            visible = visible_ids(session, viewer_of(user))
            report = transparency_report(session, begin, until, visible=visible)
    return page(
        request,
        "report.html",
        user,
        report=report,
        tables=_tables(report) if report else [],
        heading="Transparency report",
        period={"from": (first or today).isoformat(), "to": (last or today).isoformat()},
        error=error,
        title="Transparency report",
    )


# -- holds --------------------------------------------------------------------------------------
@router.get("/holds", response_class=HTMLResponse, **needs("read"))
def holds(
    request: Request,
    user: User,
    error: Annotated[str | None, Query(max_length=400)] = None,
    kind: Annotated[str, Query(max_length=16)] = "",
    value: Annotated[str, Query(max_length=4000)] = "",
    alt: Annotated[list[str] | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    """The holds page; ``kind``/``value`` pre-fill the form ("hold from here" on the queue),
    ``alt`` offers other values of the same item (``sha256:…``, ``pdq:…``)."""
    return _holds_page(request, user, error, {"kind": kind, "value": value}, alt or [])


def _holds_page(
    request: Request,
    user: WebUser,
    error: str | None,
    form: dict[str, Any],
    alternatives: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    from takedown.ops.agencies import allowed
    from takedown.ops.hold_checks import notifications
    from takedown.ops.holds import coordinated, list_holds

    viewer = viewer_of(user)
    mine: list[dict[str, Any]] = []
    hits: list[dict[str, Any]] = []
    wide: list[dict[str, Any]] = []
    with _app(request).db.session() as session:
        agency = agency_name(session, viewer)
        if agency is not None:
            mine = list_holds(session, agency, all_states=True)
            hits = notifications(session, agency)
            wide = coordinated(session, agency)
    response = page(
        request,
        "holds.html",
        user,
        agency=agency,
        holds=mine,
        hits=hits,
        coordinated=wide,
        kinds=HOLD_KINDS,
        pdq_distance=PDQ_DISTANCE,
        max_pdq=MAX_PDQ_DISTANCE,
        may_hold=agency is not None and allowed(user.role, "hold"),
        may_hold_wide=agency is not None and allowed(user.role, "hold_wide"),
        error=error,
        form=form,
        alternatives=[a for a in alternatives or [] if ":" in a][:8],
        title="Holds",
    )
    response.status_code = status
    return response


def _pdq_hold(kind: str, value: str) -> bool:
    """A signal hold on a PDQ hash: the only kind the form's distance applies to."""
    return kind == "signal" and value.strip().lower().startswith("pdq:")


def _back_to_holds(error: str | None = None) -> RedirectResponse:
    suffix = f"?error={quote(error[:300], safe='')}" if error else ""
    return RedirectResponse(f"/holds{suffix}", status_code=303)


@router.post("/holds", response_model=None, **needs("hold", "place holds"))
def add_hold(
    request: Request,
    user: User,
    csrf: Annotated[str, Form(max_length=200)],
    kind: Annotated[str, Form(max_length=16)],
    value: Annotated[str, Form(max_length=4000)],
    reason: Annotated[str, Form(max_length=4000)],
    days: Annotated[float, Form(gt=0, le=366)] = 30,
    max_distance: Annotated[int, Form(ge=0, le=128)] = PDQ_DISTANCE,  # over 63: refused
    operation: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    from takedown.ops.agencies import OpsError, allowed
    from takedown.ops.holds import add_hold as add
    from takedown.store.audit import acting_as

    if (refusal := refused(user, csrf, "hold", "place holds")) is not None:
        return refusal
    with _app(request).db.session() as session:
        agency = agency_name(session, viewer_of(user))
        if agency is None:
            return error_page(request, 403, "Your account belongs to no agency.", user)
        try:
            with acting_as(_actor(user)):
                add(
                    session,
                    agency=agency,
                    kind=kind,
                    value=value,
                    reason=reason,
                    days=days,
                    max_distance=max_distance if _pdq_hold(kind, value) else None,
                    actor=_actor(user),
                    may_hold_wide=allowed(user.role, "hold_wide"),
                    operation=operation.strip() or None,
                )
        except OpsError as exc:
            session.rollback()
            typed = {
                "kind": kind,
                "value": value,
                "reason": reason,
                "days": days,
                "max_distance": max_distance,
            }
            return _holds_page(request, user, str(exc)[:400], typed, status=400)
    return _back_to_holds()


@router.post("/holds/{hold_id}/lift", response_model=None, **needs("hold", "lift holds"))
def lift_hold(
    request: Request,
    user: User,
    hold_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    csrf: Annotated[str, Form(max_length=200)],
) -> Response:
    from takedown.ops.agencies import OpsError
    from takedown.ops.holds import lift_hold as lift
    from takedown.store.audit import acting_as

    if (refusal := refused(user, csrf, "hold", "lift holds")) is not None:
        return refusal
    with _app(request).db.session() as session:
        agency = agency_name(session, viewer_of(user))
        if agency is None:
            return error_page(request, 404, "No such hold.", user)
        try:
            with acting_as(_actor(user)):
                lift(session, hold_id, agency=agency, actor=_actor(user))
        except OpsError:
            session.rollback()
            return error_page(request, 404, "No such hold.", user)
    return _back_to_holds()
