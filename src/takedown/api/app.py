"""The ASGI application: ``/api/v1`` (API keys) and the web workspace (sessions) in one process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from takedown.api import v1
from takedown.api.auth import session_user
from takedown.api.common import ApiError, BodyLimit
from takedown.api.extensions import mount_extensions
from takedown.api.service import LookupService
from takedown.app import App
from takedown.store import audit
from takedown.web import ops_pages, views

STATIC = Path(views.__file__).parent / "static"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "connect-src 'self'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(app: App) -> FastAPI:
    """The FastAPI app for one Takedown :class:`App` (database, blobs, settings)."""
    api = FastAPI(
        title="Takedown API",
        version="1",
        description=(
            "Sightings and content, match lookup, banks, clusters and figures. Every route "
            "needs an API key (`Authorization: Bearer <key>` or `X-API-Key`) holding the "
            'scope named in `x-required-scope`. Responses: `{"data": ..., "next_cursor": '
            '...}`; errors: `{"error": {"code", "message"}}`.'
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load assets from CDNs; the schema is enough
        redoc_url=None,
    )
    api.state.takedown = app
    api.state.lookups = LookupService(app)

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(exc.status_code, exc.code, str(exc.detail))

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _is_api(request):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
            return _error(exc.status_code, code, str(exc.detail))
        return HTMLResponse(f"{exc.status_code}", status_code=exc.status_code)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()[:5]
        )
        if _is_api(request):
            return _error(422, "invalid_request", problems[:2000] or "invalid request")
        return HTMLResponse("invalid request", status_code=400)

    @api.exception_handler(views.LoginRequired)
    async def login_required(request: Request, exc: views.LoginRequired) -> Response:
        if request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return HTMLResponse("login required", status_code=401)

    @api.exception_handler(views.CsrfFailed)
    async def csrf_failed(request: Request, exc: views.CsrfFailed) -> Response:
        return HTMLResponse("invalid or missing CSRF token", status_code=403)

    @api.middleware("http")
    async def actor_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Any]]
    ) -> Response:
        """Every audit event a request causes names who asked (the API key by its public
        prefix, or the logged-in user); every answer carries the security headers. One
        middleware layer: each ``BaseHTTPMiddleware`` costs a task per request."""
        actor = _key_actor(request)
        if actor is None and request.cookies.get(views.COOKIE):
            actor = await run_in_threadpool(_user_actor, app, request.cookies[views.COOKIE])
        with audit.acting_as(actor):
            response: Response = await call_next(request)
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", API_CSP if _is_api(request) else PAGE_CSP)
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response

    api.include_router(v1.router)
    api.include_router(ops_pages.api_router)  # /api/v1/operations, /api/v1/holds
    mount_extensions(api, app)
    # multipart overhead on top of the largest file intake accepts
    api.add_middleware(BodyLimit, limit=app.settings.max_file_bytes + 1024 * 1024)
    api.include_router(views.router)
    api.include_router(ops_pages.router)
    api.mount("/static", StaticFiles(directory=STATIC, follow_symlink=False), name="static")
    return api


def _key_actor(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    presented = header[7:].strip() if header.lower().startswith("bearer ") else ""
    presented = presented or request.headers.get("x-api-key", "")
    if not presented:
        return None
    parts = presented.split("_", 2)
    return f"api-key:{parts[1][:32]}" if len(parts) == 3 else "api-key:malformed"


def _user_actor(app: App, token: str) -> str | None:
    user = session_user(app, token)
    return f"user:{user.username}" if user is not None else None


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory takedown.api.app:app_from_env`` (settings from TAKEDOWN_*)."""
    from takedown.config import Settings

    return create_app(App(Settings()))


def route_table(api: FastAPI) -> list[tuple[str, frozenset[str], dict[str, Any]]]:
    """(path, methods, openapi_extra) of every HTTP route, routers included (for the tests)."""
    out: list[tuple[str, frozenset[str], dict[str, Any]]] = []
    for route in api.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        items = list(contexts()) if callable(contexts) else [route]
        for item in items:
            methods = getattr(item, "methods", None)
            path = getattr(item, "path", None)
            if methods and path:
                extra = getattr(item, "openapi_extra", None) or {}
                out.append((str(path), frozenset(methods) - {"HEAD"}, dict(extra)))
    return out
