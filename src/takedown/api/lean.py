"""Lean request handling for the hottest API route (``GET /api/v1/lookup``).

A platform checking every upload calls the hash lookup thousands of times a second. FastAPI's
request handling (dependency solving for the key, the scope and four query parameters, then
parameter validation) cost about as much CPU as the lookup itself (``bench/api.py``). A
:class:`LeanRoute` is still a declared FastAPI route — same path, OpenAPI schema, access
policy mark (``takedown.access.policy``) and generated access test — but its handler first
tries a *lean* function that answers only the common, valid request:

* a key the key cache verified lately (:meth:`KeyCache.fresh`), holding the route's scope;
* parameters that pass the same limits the route declares.

Anything else — no key, an unknown, revoked, expired or uncached key, a missing scope, a
malformed parameter — returns ``None`` from the lean function and the request goes through
FastAPI's full handler, which gives the very answer it always gave (401, 403, 422...). The
lean function can therefore only ever *serve* requests the full handler would also serve,
with the same code (``tests/api/test_lean_lookup.py`` compares both on generated requests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from takedown.api.auth import Principal
from takedown.api.keycache import KeyCache

#: ``lean(request, who)``: the answer, or None to hand the request to FastAPI's handler.
Lean = Callable[[Request, Principal], Awaitable[Response | None]]


def presented_key(request: Request) -> str | None:
    """The API key as the full handler's security dependencies read it (``HTTPBearer``, then
    ``X-API-Key``), for the plain cases only; None for anything else (the full handler then
    decides)."""
    headers = request.headers
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer" and credentials:
            return credentials
    # no Authorization, or not a usable bearer one: HTTPBearer gives None, X-API-Key decides
    return headers.get("x-api-key") or None


def cached_caller(request: Request, scope: str) -> Principal | None:
    """The caller when the key cache knows the presented key (verified lately, not due for
    the revocation poll) and it holds ``scope``; None otherwise."""
    presented = presented_key(request)
    if presented is None:
        return None
    keys: KeyCache | None = getattr(request.app.state, "keys", None)
    if keys is None:
        return None
    found: Principal | None = keys.fresh(presented)
    if found is None or scope not in found.scopes:
        return None
    return found


def lean_route(lean: Lean, scope: str) -> type[APIRoute]:
    """An :class:`APIRoute` class whose handler tries ``lean`` first (see the module)."""

    class LeanRoute(APIRoute):
        #: requests the lean function answered (tests check the lean path is really taken)
        served = 0

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            full = super().get_route_handler()

            async def handler(request: Request) -> Response:
                who = cached_caller(request, scope)
                if who is not None:
                    answer = await lean(request, who)
                    if answer is not None:
                        LeanRoute.served += 1
                        return answer
                return await full(request)

            return handler

    return LeanRoute
