"""The web workspace: login and review queue; what every page shares (session user, CSRF
check, page rendering). Material page: :mod:`takedown.web.material_pages`; referrals board:
:mod:`takedown.web.referral_pages`; dashboard and media: :mod:`takedown.web.dashboard_pages`.

Security: session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS); a CSRF token in
every form, checked on every POST; a strict Content-Security-Policy on every page (set in
``takedown.api.app``); media from ``/media/`` with ``nosniff``, ``Content-Disposition`` and a
``sandbox`` CSP; media blurred and greyscale until the reviewer reveals that one item.
"""

from __future__ import annotations

import hmac
import secrets
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
from takedown.api.models import ApiReviewDecision
from takedown.api.scope import (
    Viewer,
    can_see_sighting,
)
from takedown.app import App
from takedown.referrals.models import ReferralItem
from takedown.store.blobs import BlobError
from takedown.store.models import Content
from takedown.web import humane, throttle
from takedown.web.queue import CLOSING, DECISIONS
from takedown.web.queue_list import (
    PER_PAGE,
    REOPEN,
    SORTS,
    TABS,
    QueueQuery,
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


def _svg(body: str) -> Response:
    return Response(
        body,
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": MEDIA_CSP, "Cache-Control": "no-store"},
    )
