"""The referrals board: per addressee pending, overdue, answered, removed share and median
time to removal; the referrals a page at a time; what reviewers decided to refer, ready to
send (deconfliction holds block an item without telling why)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from takedown.access.roles import allowed
from takedown.api.models import ApiReviewDecision, ApiUser
from takedown.api.scope import Viewer, sighting_filter
from takedown.app import App
from takedown.referrals.board import listing
from takedown.referrals.machine import KINDS
from takedown.referrals.models import ReferralItem
from takedown.referrals.outbox import ChannelError, send_due
from takedown.referrals.outbox import queue as queue_referrals
from takedown.referrals.routing import draft
from takedown.store.models import Sighting
from takedown.web import referral_table
from takedown.web.queue_list import latest_decisions
from takedown.web.text import inert
from takedown.web.views import (
    User,
    _app,
    error_page,
    needs,
    page,
    refused,
    viewer_of,
)

router = APIRouter(include_in_schema=False)


# -- referrals board ------------------------------------------------------------------------
def _decided_unreferred(app: App, viewer: Viewer) -> list[tuple[str, list[dict[str, Any]]]]:
    """Sightings reviewers decided to refer that are in no referral yet, per platform; each
    held by another agency's deconfliction hold carries ``blocked`` ("deconfliction hit:
    contact <agency>", never the hold's reason)."""
    from takedown.ops.hold_checks import check

    out: dict[str, list[dict[str, Any]]] = {}
    latest = latest_decisions()
    with app.db.session() as session:
        referred = select(ReferralItem.sighting_id)
        for decision, s, who in session.execute(
            select(ApiReviewDecision, Sighting, ApiUser.username)
            .join(Sighting, Sighting.id == ApiReviewDecision.sighting_id)
            .outerjoin(ApiUser, ApiUser.id == ApiReviewDecision.user_id)
            .where(
                ApiReviewDecision.decision == "refer",
                ApiReviewDecision.id.in_(select(latest.c.id)),  # not undone since
                Sighting.id.not_in(referred),
                sighting_filter(session, viewer),
            )
            .order_by(ApiReviewDecision.at.desc())
            .limit(2000)
        ):
            rows = out.setdefault(s.platform_key or "unknown", [])
            if all(r["sighting"].id != s.id for r in rows):
                rows.append({"decision": decision, "sighting": s, "by": who, "blocked": None})
        sightings = [r["sighting"] for rows in out.values() for r in rows]
        held = check(session, sightings, agency_id=viewer.agency_id, record_hits=False)
        for rows in out.values():
            for r in rows:
                found = held.get(r["sighting"].id)
                r["blocked"] = found.message if found else None
    return sorted(out.items())


def _referrals_of(app: App, viewer: Viewer) -> list[dict[str, Any]]:
    """The referrals the viewer may see, with counts of the items it may see (filtered and
    counted by the database: ``takedown.referrals.board.listing``)."""
    return listing(app, limit=100_000, viewer=viewer)


@router.get("/referrals", response_class=HTMLResponse, **needs("read"))
def referrals_board(
    request: Request,
    user: User,
    sent: Annotated[int | None, Query(ge=0, le=10**6)] = None,
    held: Annotated[int | None, Query(ge=0, le=10**6)] = None,
    queued: Annotated[int | None, Query(ge=0, le=1)] = None,
    addressee: Annotated[str, Query(max_length=255)] = "",
    state: Annotated[str, Query(max_length=32)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=10**6)] = 1,
) -> HTMLResponse:
    """Per addressee: pending, overdue (removal orders past their hour), answered, removed
    share and median time to removal; the referrals a page at a time (filtered by addressee
    or state); and what reviewers decided to refer, ready to send per addressee."""
    app = _app(request)
    viewer = viewer_of(user)
    now = datetime.now(UTC)
    referrals = _referrals_of(app, viewer)
    shown = [
        r
        for r in referrals
        if (not addressee or r["addressee"] == addressee) and (not state or r["state"] == state)
    ]
    pages = max(1, -(-len(shown) // referral_table.PER_PAGE))
    number = min(page_number, pages)
    start = (number - 1) * referral_table.PER_PAGE
    return page(
        request,
        "referrals.html",
        user,
        board=referral_table.addressee_rows(referrals, referral_table.removals(app, viewer), now),
        referrals=shown[start : start + referral_table.PER_PAGE],
        listed={
            "total": len(shown),
            "first": start + 1,
            "page": number,
            "pages": pages,
            "addressee": addressee,
            "state": state,
            "states": sorted({r["state"] for r in referrals}),
        },
        to_refer=_decided_unreferred(app, viewer),
        now=now,
        sent=sent,
        held=held,
        queued=bool(queued),
        title="Referrals",
    )


@router.post("/referrals/send", response_model=None, **needs("refer", "send referrals"))
def send_decided(
    request: Request,
    user: User,
    csrf: Annotated[str, Form(max_length=200)],
    order: Annotated[str, Form(max_length=8)] = "",
    basis: Annotated[str, Form(max_length=1000)] = "",
    platform: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """Draft referrals (or removal orders) for the items decided "refer" and send them: for
    one platform's items when ``platform`` is given, else for all."""
    if (refusal := refused(user, csrf, "refer", "send referrals")) is not None:
        return refusal
    app = _app(request)
    viewer = viewer_of(user)
    ids = [
        r["sighting"].id
        for key, rows in _decided_unreferred(app, viewer)
        if not platform or key == platform
        for r in rows
    ]
    kind = KINDS[1] if order == "yes" else KINDS[0]
    routed = draft(
        app,
        kind=kind,
        basis=basis.strip() or None,
        actor=user.username,
        agency_id=user.agency_id,
        only=ids,
    )
    references = [r.reference for r in routed.drafted]
    sent = 0
    held = f"&held={len(routed.blocked)}" if routed.blocked else ""
    if references:
        try:
            queue_referrals(app, references)
        except ChannelError as exc:
            return error_page(request, 409, f"Cannot send: {inert(str(exc), 500)}", user)
        if app.queued:  # PostgreSQL: a worker sends; the page request does not wait for it
            app.jobs.submit("referrals.send")
            if allowed(user.role, "administer"):
                return RedirectResponse("/jobs", status_code=303)
            return RedirectResponse(f"/referrals?queued=1{held}", status_code=303)
        sent = len(send_due(app).sent)
    return RedirectResponse(f"/referrals?sent={sent}{held}", status_code=303)
