"""The web workspace: login, review queue, material page, referrals board; what every page
shares (session user, CSRF check, page rendering). Dashboard and media:
:mod:`takedown.web.dashboard_pages`.

Security: session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS); a CSRF token in
every form, checked on every POST; a strict Content-Security-Policy on every page (set in
``takedown.api.app``); media from ``/media/`` with ``nosniff``, ``Content-Disposition`` and a
``sandbox`` CSP; media blurred and greyscale until the reviewer reveals that one item.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import select

from takedown.access.banks import readable as readable_banks
from takedown.access.policy import page_mark, public
from takedown.access.roles import allowed
from takedown.api.auth import (
    WebUser,
    authenticate_user,
    end_session,
    session_user,
    start_session,
)
from takedown.api.middleware import SESSION_USER
from takedown.api.models import ApiReviewDecision, ApiUser
from takedown.api.scope import (
    Viewer,
    can_see_cluster,
    can_see_sighting,
    sighting_filter,
)
from takedown.app import App
from takedown.referrals.board import listing
from takedown.referrals.machine import KINDS
from takedown.referrals.models import ReferralItem
from takedown.referrals.outbox import ChannelError, send_due
from takedown.referrals.outbox import queue as queue_referrals
from takedown.referrals.routing import draft
from takedown.store.blobs import BlobError
from takedown.store.models import Bank, BankEntry, Cluster, Content, Match, Platform, Sighting
from takedown.web import humane, referral_table, svg, throttle
from takedown.web.queue import CLOSING, DECISIONS, how_matched
from takedown.web.queue_list import (
    PER_PAGE,
    REOPEN,
    SORTS,
    TABS,
    QueueQuery,
    latest_decisions,
    queue_page,
)
from takedown.web.text import has_controls, inert

HERE = Path(__file__).parent
COOKIE = "td_session"
LOGIN_COOKIE = "td_login"
TEXT_PREVIEW = 64 * 1024
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"

templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
)
templates.env.filters["inert"] = inert
templates.env.filters["has_controls"] = has_controls
templates.env.globals["DECISIONS"] = DECISIONS
templates.env.globals.update(TABS=TABS, SORTS=SORTS, PER_PAGE=PER_PAGE)
humane.install(templates.env)

router = APIRouter(include_in_schema=False)
Id = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


class LoginRequired(Exception):
    """Raised by :func:`web_user` when there is no valid session (handled: redirect)."""


class CsrfFailed(Exception):
    """A POST without the session's CSRF token (handled: 403)."""


def _app(request: Request) -> App:
    app: App = request.app.state.takedown
    return app


def _secure(request: Request) -> bool:
    """Cookies are Secure when the request came over TLS (as uvicorn sees it, believing the
    trusted proxies' X-Forwarded-Proto) or when ``serve --secure-cookies`` says so."""
    return request.url.scheme == "https" or _app(request).settings.secure_cookies


def web_user(request: Request) -> WebUser:
    token = request.cookies.get(COOKIE)
    looked_up = request.scope.get("state", {}).get(SESSION_USER)  # by the middleware
    if looked_up is not None and looked_up[0] == token:
        user: WebUser | None = looked_up[1]
    else:
        user = session_user(_app(request), token)
    if user is None:
        raise LoginRequired
    return user


User = Annotated[WebUser, Depends(web_user)]


class RoleRefused(Exception):
    """Raised by the check :func:`needs` installs (handled: 403 "your role cannot ...")."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def needs(permission: str, what: str | None = None) -> dict[str, Any]:
    """Keyword arguments for a page's route decorator: the user's role must allow
    ``permission`` (:func:`takedown.access.roles.allowed`), checked before the handler runs
    (else 403 "your role cannot <what>"), and the mark the generated access test reads
    (:mod:`takedown.access.policy`)."""
    mark = page_mark(permission)

    def check(user: User) -> None:
        if not allowed(user.role, permission):
            raise RoleRefused(what or permission)

    check.__name__ = f"needs_{permission}"
    return {"dependencies": [Depends(check)], "openapi_extra": mark}


def viewer_of(user: WebUser) -> Viewer:
    return Viewer(user.agency_id, None, user.username)


ERROR_TITLES = {
    400: "Not understood",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Cannot do that now",
    413: "Too large",
}


def error_page(
    request: Request, status: int, message: str, user: WebUser | None = None
) -> HTMLResponse:
    """An error in the workspace's own layout (the API keeps answering JSON)."""
    if user is None:
        try:
            user = web_user(request)
        except LoginRequired:
            user = None
    response = page(
        request,
        "error.html",
        user,
        message=message,
        status=status,
        title=ERROR_TITLES.get(status, "Something went wrong"),
    )
    response.status_code = status
    return response


def not_found(request: Request, user: WebUser, what: str = "No such page.") -> HTMLResponse:
    return error_page(request, 404, what, user)


def check_csrf(user: WebUser, token: str) -> None:
    if not hmac.compare_digest(user.csrf.encode(), token.encode()[:200]):
        raise CsrfFailed


def refused(user: WebUser, csrf: str, action: str, what: str) -> Response | None:
    """A form handler's first checks: the session's CSRF token (:class:`CsrfFailed` if it is
    wrong), then the user's role may ``action`` (:func:`takedown.ops.agencies.allowed`).
    The 403 answer "your role cannot <what>" if it may not; else None, go on."""
    check_csrf(user, csrf)
    if allowed(user.role, action):
        return None
    return HTMLResponse(_error_html(403, f"Your role cannot {what}."), status_code=403)


def _error_html(status: int, message: str) -> str:
    """The error page's markup without a request (for answers built before one is at hand)."""
    body: str = templates.env.get_template("error.html").render(
        user=None, csrf="", status=status, message=message, title=ERROR_TITLES.get(status, "Error")
    )
    return body


def page(request: Request, name: str, user: WebUser | None, **context: Any) -> HTMLResponse:
    response: HTMLResponse = templates.TemplateResponse(
        request, name, {"user": user, "csrf": user.csrf if user else "", **context}
    )
    return response


# -- login ----------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse, **public("the login form"))
def login_form(request: Request, error: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response: HTMLResponse = templates.TemplateResponse(
        request, "login.html", {"user": None, "login_csrf": token, "error": error}
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.post("/login", response_model=None, **public("logging in"))
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=200)],
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode()):
        raise CsrfFailed
    app = _app(request)
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(app, username, address)
    if wait is not None:  # checked before the password: a throttled guess proves nothing
        return HTMLResponse(
            f"too many failed logins: try again in {wait // 60 + 1} minutes",
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    user = authenticate_user(app, username, password)
    if user is None:
        throttle.failed(app, username, address)
        return RedirectResponse("/login?error=1", status_code=303)
    throttle.succeeded(app, username, address)
    token, _csrf = start_session(app, user.id)
    response = RedirectResponse("/queue", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", response_model=None, **needs("read"))
def logout(
    request: Request,
    user: User,
    csrf: Annotated[str, Form(max_length=200)],
) -> Response:
    check_csrf(user, csrf)
    end_session(_app(request), request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/", response_model=None, **needs("read"))
def home(user: User) -> Response:
    return RedirectResponse("/queue", status_code=303)


# -- review queue ---------------------------------------------------------------------------
def _text_of(app: App, content: Content | None) -> str | None:
    if content is None or content.kind != "text" or content.purged_at is not None:
        return None
    try:
        with app.blobs.open_verified(content.sha256) as handle:
            data = handle.read(TEXT_PREVIEW)
    except (BlobError, OSError):
        return "[text not available]"
    return data.decode("utf-8", "replace")


@router.get("/queue", response_class=HTMLResponse, **needs("read"))
def queue(
    request: Request,
    user: User,
    tab: Annotated[str, Query(max_length=16)] = "open",
    operation: Annotated[str, Query(max_length=200)] = "",
    platform: Annotated[str, Query(max_length=255)] = "",
    language: Annotated[str, Query(max_length=16)] = "",
    mine: Annotated[str, Query(max_length=4)] = "",
    q: Annotated[str, Query(max_length=500)] = "",
    sort: Annotated[str, Query(max_length=16)] = "priority",
    page_number: Annotated[int, Query(alias="page", ge=1, le=10**7)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 25,
) -> HTMLResponse:
    app = _app(request)
    query = QueueQuery(
        tab, operation, platform, language, mine == "1", q, sort, page_number, per_page
    )
    found = queue_page(app, viewer_of(user), query, user.user_id)
    texts = {i.sighting.id: _text_of(app, i.content) for i in found.items}
    return page(
        request,
        "queue.html",
        user,
        found=found,
        items=found.items,
        texts=texts,
        back=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        title=f"Review queue ({found.counts['open']} open)",
    )


def _queue_back(back: str) -> str:
    """Where a decision returns to: the same queue page (a local /queue URL only)."""
    return back if back.startswith("/queue") and "//" not in back and "\\" not in back else "/queue"


def _answer(request: Request, status: int, message: str, back: str = "") -> Response:
    """A decision's answer: JSON for the page's script, else text (errors) or a redirect."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": status < 400, "message": message}, status_code=status)
    if status >= 400:
        return error_page(request, status, message)
    return RedirectResponse(_queue_back(back), status_code=303)


@router.post(
    "/queue/{sighting_id}/decision", response_model=None, **needs("review", "decide review items")
)
def decide(
    request: Request,
    user: User,
    sighting_id: Id,
    decision: Annotated[str, Form(max_length=32)],
    csrf: Annotated[str, Form(max_length=200)],
    note: Annotated[str, Form(max_length=10_000)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if (refusal := refused(user, csrf, "review", "decide review items")) is not None:
        return refusal
    if decision not in DECISIONS and decision != REOPEN:
        return _answer(request, 400, "unknown decision")
    app = _app(request)
    with app.db.session() as session:
        if not can_see_sighting(session, viewer_of(user), sighting_id):
            return _answer(request, 404, "no such sighting")
        asked = set(
            session.scalars(
                select(ApiReviewDecision.user_id).where(
                    ApiReviewDecision.sighting_id == sighting_id,
                    ApiReviewDecision.decision == "second_review",
                )
            )
        )
        if decision in CLOSING and user.user_id in asked:
            return _answer(
                request, 409, "you asked for a second reviewer: another reviewer must decide"
            )
        if decision == REOPEN and session.scalar(
            select(ReferralItem.id).where(ReferralItem.sighting_id == sighting_id).limit(1)
        ):
            return _answer(request, 409, "already in a referral: it cannot be undone here")
        session.add(
            ApiReviewDecision(
                sighting_id=sighting_id,
                user_id=user.user_id,
                decision=decision,
                note=note.strip() or None,
            )
        )
    return _answer(request, 200, DECISIONS.get(decision, "Back in the queue"), back)


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


def _svg(body: str) -> Response:
    return Response(
        body,
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": MEDIA_CSP, "Cache-Control": "no-store"},
    )


# -- referrals board ------------------------------------------------------------------------
def _decided_unreferred(app: App, viewer: Viewer) -> list[tuple[str, list[dict[str, Any]]]]:
    """Sightings reviewers decided to refer that are in no referral yet, per platform; each
    held by another agency's deconfliction hold carries ``blocked`` ("deconfliction hit:
    contact <agency>", never the hold's reason)."""
    from takedown.ops.holds import check

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
