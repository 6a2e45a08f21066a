"""One pure ASGI middleware for every request: the audit actor and the security headers.

Pure ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs
the app in a second task with memory streams between them, a cost paid on every request.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser

from takedown.api.auth import session_user
from takedown.app import App
from takedown.store import audit

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "connect-src 'self'"
)
#: Key in the request state of (session cookie token, WebUser or None) looked up here.
SESSION_USER = "takedown.session_user"
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
_FIXED = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def _raw(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs)


_NO_STORE = (("Cache-Control", "no-store"),)
#: The headers every answer gets (unless it set them), as ASGI raw pairs, per kind of path.
_ADDED = {
    (api, cacheable): _raw(
        _FIXED
        + (("Content-Security-Policy", API_CSP if api else PAGE_CSP),)
        + (() if cacheable else _NO_STORE)
    )
    for api in (True, False)
    for cacheable in (True, False)
}


class ActorAndHeaders:
    """Every audit event a request causes names who asked (the API key by its public prefix,
    or the logged-in user); every answer carries the security headers (set unless the
    response set them itself)."""

    def __init__(self, app: Any, takedown: App, session_cookie: str) -> None:
        self.app = app
        self.takedown = takedown
        self.cookie = session_cookie

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = Headers(scope=scope)
        actor = key_actor(headers)
        if actor is None:
            token = cookie_parser(headers.get("cookie", "")).get(self.cookie)
            if token:
                user = await run_in_threadpool(session_user, self.takedown, token)
                # the pages' dependency (takedown.web.views.web_user) reads it from here: one
                # session lookup per request, not two
                scope.setdefault("state", {})[SESSION_USER] = (token, user)
                actor = f"user:{user.username}" if user is not None else None
        added = _ADDED[path.startswith("/api/"), path.startswith("/static/")]

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                # raw pairs, one pass: MutableHeaders.setdefault scans the list once per header
                raw = list(message.get("headers") or ())
                present = {name.lower() for name, _ in raw}
                raw.extend(pair for pair in added if pair[0] not in present)
                message["headers"] = raw
            await send(message)

        with audit.acting_as(actor):
            await self.app(scope, receive, send_with_headers)


def key_actor(headers: Headers) -> str | None:
    """``api-key:<prefix>`` of the presented key (not verified here: the routes do that)."""
    header = headers.get("authorization", "")
    presented = header[7:].strip() if header.lower().startswith("bearer ") else ""
    presented = presented or headers.get("x-api-key", "")
    if not presented:
        return None
    parts = presented.split("_", 2)
    return f"api-key:{parts[1][:32]}" if len(parts) == 3 else "api-key:malformed"
