"""The access policy each HTTP route and page declares next to itself.

An API route declares the key scope it needs (``takedown.api.common.scoped``, which writes
``x-required-scope``); a workspace page declares the role permission it needs
(``takedown.web.views.needs``, which writes ``x-access`` and installs the check as a
dependency); a page anyone may open (the login form) declares :func:`public`. The generated
access test (``tests/access/test_every_route.py``) walks the router and reads these marks:
a route without one fails it, so a new route must say who may use it before it ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from takedown.access.roles import ACTIONS, SCOPES

SCOPE_MARK = "x-required-scope"
PAGE_MARK = "x-access"


@dataclass(frozen=True)
class Policy:
    """``kind``: "scope" (an API key needs ``need``), "permission" (a user's role needs
    ``need``) or "public" (no one needs anything; ``need`` says why)."""

    kind: str
    need: str


def page_mark(permission: str) -> dict[str, Any]:
    if permission not in ACTIONS:
        raise ValueError(f"unknown permission {permission!r} (one of: {', '.join(ACTIONS)})")
    return {PAGE_MARK: {"permission": permission}}


def public(why: str) -> dict[str, Any]:
    """``openapi_extra`` of a route anyone may call (e.g. the login form)."""
    return {"openapi_extra": {PAGE_MARK: {"public": why}}}


def policy_of(extra: dict[str, Any]) -> Policy | None:
    """The policy a route's ``openapi_extra`` declares; None when it declares none."""
    scope = extra.get(SCOPE_MARK)
    if isinstance(scope, str) and scope in SCOPES:
        return Policy("scope", scope)
    mark = extra.get(PAGE_MARK)
    if isinstance(mark, dict):
        if mark.get("permission") in ACTIONS:
            return Policy("permission", str(mark["permission"]))
        if isinstance(mark.get("public"), str):
            return Policy("public", str(mark["public"]))
    return None
