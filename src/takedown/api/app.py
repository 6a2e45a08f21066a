"""The ASGI application: ``/api/v1`` (API keys) and the web workspace (sessions) in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from takedown.api import hma, lookup, shares, v1
from takedown.api.common import ApiError, BodyLimit
from takedown.api.extensions import mount_extensions
from takedown.api.keycache import KeyCache
from takedown.api.middleware import ActorAndHeaders
from takedown.api.service import LookupService
from takedown.api.uploads import HashSlots
from takedown.app import App
from takedown.boundary import InvalidValue
from takedown.web import (
    complaint_pages,
    dashboard_pages,
    infra_pages,
    jobs_page,
    material_pages,
    ops_pages,
    queue_pages,
    referral_pages,
    report_charts,
    views,
)

STATIC = Path(views.__file__).parent / "static"


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
    api.state.keys = KeyCache.of(app.db)  # verified API keys, in memory for a short while
    api.state.hash_slots = HashSlots(app.settings.hash_concurrency)  # uploads, file lookups

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        response = _error(exc.status_code, exc.code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @api.exception_handler(StarletteHTTPException)  # routing's 404/405 too, not only ours
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
            return _error(exc.status_code, code, str(exc.detail))
        messages = {404: "No such page.", 405: "This page does not take that method."}
        return views.error_page(request, exc.status_code, messages.get(exc.status_code, ""))

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()[:5]
        )
        if _is_api(request):
            return _error(422, "invalid_request", problems[:2000] or "invalid request")
        return views.error_page(request, 400, f"The request was not understood: {problems[:300]}")

    @api.exception_handler(InvalidValue)
    async def invalid_value(request: Request, exc: InvalidValue) -> Response:
        # the boundary text rule (docs/security.md): the same answer on both backends
        if _is_api(request):
            return _error(422, "invalid_request", str(exc)[:2000])
        return views.error_page(request, 400, "invalid request: " + str(exc)[:500])

    @api.exception_handler(DataError)
    async def out_of_range(request: Request, exc: DataError) -> Response:
        # e.g. PostgreSQL's "integer out of range" for an id a face did not bound
        if _is_api(request):
            return _error(422, "invalid_request", "a value is out of range for the store")
        return views.error_page(request, 400, "invalid request: a value is out of range")

    @api.exception_handler(views.LoginRequired)
    async def login_required(request: Request, exc: views.LoginRequired) -> Response:
        if request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return views.error_page(request, 401, "Your session has ended: log in again.")

    @api.exception_handler(views.RoleRefused)
    async def role_refused(request: Request, exc: views.RoleRefused) -> Response:
        return views.error_page(request, 403, f"your role cannot {exc.what}")

    @api.exception_handler(views.CsrfFailed)
    async def csrf_failed(request: Request, exc: views.CsrfFailed) -> Response:
        return views.error_page(
            request, 403, "This form has expired (invalid or missing CSRF token): reload the page."
        )

    lookup.add_hot_routes(api)  # first: the hottest route is matched before the rest
    api.include_router(v1.router)
    api.include_router(hma.router)  # /api/hma: HMA 2.0's routes and shapes
    api.include_router(ops_pages.api_router)  # /api/v1/operations, /api/v1/holds
    api.include_router(ops_pages.complaints_router)  # /api/v1/complaints, .../assignments
    api.include_router(shares.router)  # /api/v1/sightings/{id}/share (takedown.access)
    mount_extensions(api, app)
    # multipart overhead on top of the largest file intake accepts
    api.add_middleware(BodyLimit, limit=app.settings.max_file_bytes + 1024 * 1024)
    # outermost (added last), so refusals of BodyLimit carry the headers too
    api.add_middleware(ActorAndHeaders, takedown=app, session_cookie=views.COOKIE)
    api.include_router(views.router)
    api.include_router(material_pages.router)  # /material
    api.include_router(referral_pages.router)  # /referrals
    api.include_router(queue_pages.router)  # /queue/bulk
    api.include_router(dashboard_pages.router)  # /dashboard, /media
    api.include_router(complaint_pages.router)  # before /operations/{name:path}
    api.include_router(report_charts.router)  # before /reports/operation/{name:path}
    api.include_router(ops_pages.router)
    api.include_router(infra_pages.router)  # /infra
    api.include_router(jobs_page.router)  # /jobs
    api.mount("/static", StaticFiles(directory=STATIC, follow_symlink=False), name="static")
    return api


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
