"""Shared pieces of the HTTP API: errors, the scope dependency, cursors, bounded uploads."""

from __future__ import annotations

import base64
import binascii
import json
import tempfile
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from takedown.api.auth import Principal, verify_key
from takedown.api.keycache import KeyCache
from takedown.app import App


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(HTTPException):
    """An error with a stable machine code, rendered as ``{"error": {"code", "message"}}``."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "The request cannot be carried out (bad value, unreadable file)."),
        (401, "Missing, unknown, revoked or expired API key."),
        (403, "The key lacks the scope this route needs."),
        (404, "No such resource."),
        (413, "Upload over the size limit."),
        (422, "The request does not match the schema."),
        (503, "Busy: every file-hashing slot is taken (see Retry-After)."),
    )
}

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key>")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: <key>")


def get_app(request: Request) -> App:
    app: App = request.app.state.takedown
    return app


async def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    """The verified caller. A key verified lately is answered from memory on the event loop
    (no thread, no query); otherwise the database is asked in the thread pool."""
    presented = bearer.credentials if bearer is not None else header
    if not presented:
        raise ApiError(401, "unauthenticated", "an API key is required (Bearer or X-API-Key)")
    app = get_app(request)
    keys: KeyCache = getattr(request.app.state, "keys", None) or KeyCache.of(app.db)
    found: Principal | None = keys.fresh(presented)
    if found is None:
        found = await run_in_threadpool(keys.verify, presented, partial(verify_key, app))
    if found is None:
        raise ApiError(401, "invalid_key", "the API key is unknown, revoked or expired")
    return found


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits keys holding ``scope``; routes declare it via ``scoped``."""

    async def dependency(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if scope not in who.scopes:
            raise ApiError(403, "forbidden", f"this route needs the {scope!r} scope")
        return who

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


#: The verified caller, for routes that need to know who asks (the scope is checked apart).
Caller = Annotated[Principal, Depends(principal)]


def scoped(scope: str) -> dict[str, Any]:
    """Keyword arguments for a route decorator: the scope check plus its OpenAPI mark."""
    return {
        "dependencies": [Depends(require(scope))],
        "openapi_extra": {"x-required-scope": scope},
        "responses": ERRORS,
    }


# -- cursors --------------------------------------------------------------------------------
def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"after": last_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after = value["after"]
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**63:
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise ApiError(400, "bad_cursor", "the cursor is not one this API gave out") from None


def page_of(
    rows: list[Any], limit: int, id_of: Callable[[Any], int]
) -> tuple[list[Any], str | None]:
    """Rows were fetched with ``limit + 1``; returns the page and the next cursor."""
    if len(rows) > limit:
        page = rows[:limit]
        return page, encode_cursor(id_of(page[-1]))
    return rows, None


# -- uploads --------------------------------------------------------------------------------
CHUNK = 1024 * 1024


async def save_upload(upload: UploadFile, folder: Path, limit: int) -> Path:
    """Stream an upload to a private temporary file, refusing it past ``limit`` bytes."""
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    size = 0
    try:
        with handle:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, "too_large", f"upload over the limit of {limit} bytes")
                handle.write(chunk)
        if size == 0:
            raise ApiError(400, "empty_upload", "the uploaded file is empty")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes before they are parsed.

    Checks ``Content-Length`` up front and counts the bytes of chunked bodies as they arrive,
    so an oversized upload is never spooled to disk by the multipart parser.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    await self._refuse(send)
                    return
        seen = 0

        async def counting() -> Any:
            nonlocal seen
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counting, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps(
            {"error": {"code": "too_large", "message": f"request over {self.limit} bytes"}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
