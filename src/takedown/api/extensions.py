"""Routes of the referrals and verify features, mounted when those packages provide them.

WIRING POINT for the lead (issue #5 x referrals/verify). The API mounts, when present:

* ``takedown.referrals.api.router`` / ``takedown.verify.api.router`` — an ``APIRouter``
  whose routes use ``takedown.api.common.scoped(...)`` (``referrals`` for the agency side,
  ``referrals:respond`` for platforms answering their own referrals, ``figures`` for checks
  and figures). ``tests/api/test_auth_every_route.py`` walks every route, so a route
  mounted here without a scope fails the suite.
* ``takedown.referrals.callbacks.handle_callback(app, raw_body, headers)`` — mounted as
  ``POST /api/v1/referrals/callback`` (scope ``referrals:respond``); the caller's platform
  is passed in the headers as ``x-takedown-platform`` (from the key, never from the client).

Nothing here is required: without those modules the API serves everything else.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from takedown.api.common import Caller, scoped
from takedown.app import App

ROUTERS = ("takedown.referrals.api", "takedown.verify.api")
CALLBACKS = "takedown.referrals.callbacks"
MAX_CALLBACK_BYTES = 1024 * 1024


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def mounted(api: FastAPI) -> list[str]:
    found: list[str] = api.state.extensions
    return found


def mount_extensions(api: FastAPI, app: App) -> None:
    api.state.extensions = []
    for name in ROUTERS:
        module = _optional(name)
        router = getattr(module, "router", None) if module else None
        if router is not None:
            api.include_router(router)
            api.state.extensions.append(name)
    module = _optional(CALLBACKS)
    handler = getattr(module, "handle_callback", None) if module else None
    if callable(handler):
        _mount_callback(api, handler)
        api.state.extensions.append(f"{CALLBACKS}.handle_callback")


def _mount_callback(api: FastAPI, handler: Any) -> None:
    @api.post(
        "/api/v1/referrals/callback",
        tags=["referrals"],
        summary="A platform answers one of its referrals",
        **scoped("referrals:respond"),
    )
    async def referral_callback(request: Request, who: Caller) -> Any:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_CALLBACK_BYTES:
                return JSONResponse(
                    {"error": {"code": "too_large", "message": "callback body over 1 MiB"}},
                    status_code=413,
                )
        headers = {k.lower(): v for k, v in request.headers.items()}
        headers["x-takedown-platform"] = who.platform_key or ""
        headers["x-takedown-key-id"] = str(who.key_id)
        try:
            result = await run_in_threadpool(handler, request.app.state.takedown, raw, headers)
            if inspect.isawaitable(result):
                result = await result
        except ValueError as exc:  # the handler's refusals (e.g. CallbackError: code, status)
            status = getattr(exc, "status", 400)
            return JSONResponse(
                {"error": {"code": getattr(exc, "code", "bad_callback"), "message": str(exc)}},
                status_code=status if isinstance(status, int) and 400 <= status < 500 else 400,
            )
        if hasattr(result, "as_dict"):
            result = result.as_dict()
        return {"data": result}
