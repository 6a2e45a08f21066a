"""The generated access test: every route and page of the application (walked from the
router, so a route added anywhere is in it), every role and every key scope, two agencies.

For each route the policy it declares next to itself (``takedown.access.policy``: the key
scope of an API route, the role permission of a page) says who is refused: those subjects
must get the refusal, the others must not; nobody gets a 5xx; and no response to one agency
holds any string of the other agency's work (notes, text, operation, private bank and its
labels, hold and its reason, complaint, referral reference, file name), even when the path
names the other agency's objects — which it does for every path parameter. A route that
declares no policy, or whose path parameter this test cannot fill, fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from takedown.access.policy import Policy, policy_of
from takedown.access.roles import PLATFORM_SCOPES, ROLES, allowed
from takedown.api.app import create_app, route_table
from takedown.app import App
from tests.access.every_route_world import AGENCIES, PASSWORD, Own, World, build, username
from tests.api.conftest import bearer
from tests.web.conftest import csrf_of, log_in

Route = tuple[str, str, Policy]  # method, path template, declared policy
NOT_ROUTES = ("/static",)


def routes(api: FastAPI) -> list[Route]:
    out: list[Route] = []
    undeclared: list[str] = []
    for path, methods, extra in route_table(api):
        if path.startswith(NOT_ROUTES):
            continue
        policy = policy_of(extra)
        if path == "/api/v1/openapi.json":
            policy = Policy("public", "the OpenAPI document")
        for method in sorted(methods):
            if policy is None:
                undeclared.append(f"{method} {path}")
            else:
                out.append((method, path, policy))
    assert not undeclared, (
        "routes without a declared access policy (API: takedown.api.common.scoped(scope); "
        f"pages: **takedown.web.views.needs(permission)): {undeclared}"
    )
    return out


#: path parameter -> the other agency's object (the one this subject must not reach)
def fill(path: str, other: Own) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == "name":
            if path.startswith("/api/v1/banks"):
                return other.bank
            if path.startswith(("/operations/", "/reports/operation/")):
                return quote(other.operation, safe="")
            if path.startswith("/dashboard/"):
                return "items_by_platform"
        if name == "content_id" and path.startswith("/api/hma/"):
            return str(other.entry_id)  # HMA's bank content id is a bank entry
        known: dict[str, Callable[[], Any]] = {
            "bank_name": lambda: other.bank,
            "sighting_id": lambda: other.sightings[0],
            "content_id": lambda: other.content_id,
            "cluster_id": lambda: other.cluster_id,
            "reference": lambda: other.reference,
            "hold_id": lambda: other.hold_id,
            "operation_id": lambda: other.operation_id,
            "complaint_id": lambda: other.complaint_id,
            "entry_id": lambda: other.entry_id,
            "outlet": lambda: "no-such-outlet",
            "figure": lambda: "platforms" if "/operation/" in path else "removed_by_platform",
        }
        if name not in known:
            raise AssertionError(
                f"tests/access/test_every_route.py cannot fill {{{name}}} in {path}: "
                "say which object it names in fill()"
            )
        return str(known[name]())

    return re.sub(r"\{([^}]+)\}", value, path)


#: what a parameter names that belongs to an agency (a path naming one must not succeed)
OBJECTS = {
    "bank_name",
    "sighting_id",
    "content_id",
    "cluster_id",
    "reference",
    "hold_id",
    "operation_id",
    "complaint_id",
    "entry_id",
}


def names_an_object(path: str) -> bool:
    found = {m.split(":")[0] for m in re.findall(r"\{([^}]+)\}", path)}
    named = bool(found & OBJECTS)
    by_name = ("/api/v1/banks", "/operations/", "/reports/operation/")
    return named or ("{name" in path and path.startswith(by_name))


def body_for(method: str, path: str, other: Own) -> dict[str, Any]:
    """A well-formed request where the route needs one (else the request goes bare: the
    refusal must come before validation anyway)."""
    if method != "POST":
        if path == "/reports/chart/operation/{figure}.svg":
            return {"params": {"name": other.operation}}
        if path == "/infra/picture.svg":
            return {"params": {"outlet": "no-such-outlet"}}
        if path == "/api/v1/lookup":
            return {"params": {"signal_type": "sha256", "value": "ab" * 32}}
        return {}
    bodies: dict[str, dict[str, Any]] = {
        "/api/v1/sightings": {"json": {"url": "https://x.com/q/status/1"}},
        "/api/v1/lookup": {"json": {"signal_type": "sha256", "values": ["ab" * 32]}},
        "/api/v1/banks": {"json": {"name": "q-bank"}},
        "/api/hma/c/banks": {"json": {"name": "Q_BANK"}},
        "/api/hma/c/bank/{bank_name}/signal": {"json": {"md5": "cd" * 16}},
        "/api/v1/banks/{name}/entries": {
            "json": {"entries": [{"signal_type": "sha256", "value": "cd" * 32}]}
        },
        "/api/v1/holds": {
            "json": {"kind": "url", "value": "https://q.example/x", "reason": "r", "days": 1}
        },
        "/api/v1/operations/{operation_id}/agencies": {"json": {"agency": other.agency}},
        "/api/v1/complaints": {
            "json": {"sighting_id": other.sightings[0], "complainant": "c", "grounds": "g"}
        },
        "/api/v1/complaints/{complaint_id}/decision": {
            "json": {"outcome": "upheld", "reason": "r"}
        },
        "/api/v1/referrals/{reference}/answer": {"json": {"status": "acknowledged"}},
        "/queue/{sighting_id}/decision": {"data": {"decision": "not_in_scope"}},
        "/holds": {"data": {"kind": "url", "value": "https://q.example/y", "reason": "r"}},
        "/complaints": {
            "data": {"sighting_id": str(other.sightings[0]), "complainant": "c", "grounds": "g"}
        },
        "/complaints/{complaint_id}/decision": {"data": {"outcome": "upheld", "reason": "x"}},
        "/operations/{name:path}/assignments": {"data": {"user": "a-analyst", "platforms": "x"}},
    }
    return dict(bodies.get(path, {}))


def _leaked(response: httpx.Response, markers: list[str], sent: str) -> list[str]:
    return [m for m in markers if m in response.text and m not in sent and quote(m) not in sent]


class Tally:
    def __init__(self) -> None:
        self.cases: set[tuple[str, str, str, str]] = set()  # route, subject, agency

    def add(self, method: str, path: str, subject: str, agency: str) -> None:
        self.cases.add((method, path, subject, agency))


@pytest.fixture
def world(app: App, tmp_path: Path) -> Iterator[tuple[World, FastAPI]]:
    api = create_app(app)
    with TestClient(api) as client:
        yield build(app, client, tmp_path), api


def _api_call(
    client: TestClient, method: str, path: str, key: str, other: Own
) -> tuple[httpx.Response, str]:
    url = fill(path, other)
    kwargs = body_for(method, path, other)
    response = client.request(method, url, headers=bearer(key), **kwargs)
    return response, url + repr(kwargs)


def _refused_by_scope(response: httpx.Response) -> bool:
    if response.status_code != 403:
        return False
    return "scope" in response.json().get("error", {}).get("message", "")


def test_every_api_route_for_every_scope_of_two_agencies(
    app: App, world: tuple[World, FastAPI]
) -> None:
    w, api = world
    table = [r for r in routes(api) if r[2].kind == "scope"]  # keyed routes, wherever mounted
    assert len(table) >= 40
    tally = Tally()
    with TestClient(api) as client:
        for agency in AGENCIES:
            me, other = w.own[agency], w.other(agency)
            subjects = {f"key:{s}": k for s, k in me.scope_keys.items()}
            for method, path, policy in table:
                for subject, key in subjects.items():
                    response, sent = _api_call(client, method, path, key, other)
                    where = (agency, subject, method, path, response.status_code)
                    assert response.status_code < 500, (where, response.text[:300])
                    if policy.kind == "scope":
                        scope = subject.split(":", 1)[1]
                        if scope == policy.need:
                            assert not _refused_by_scope(response), where
                            if names_an_object(path):
                                assert response.status_code >= 400, (where, response.text[:300])
                        else:
                            assert _refused_by_scope(response), (where, response.text[:200])
                    assert not _leaked(response, other.markers, sent), (where, response.text[:500])
                    tally.add(method, path, subject, agency)
        # a platform key: the platform scopes only, and no agency's work at all
        markers = [m for o in w.own.values() for m in o.markers]
        for method, path, policy in table:
            response, sent = _api_call(client, method, path, w.platform_key, w.other(AGENCIES[0]))
            where = ("platform", method, path, response.status_code)
            assert response.status_code < 500, where
            if policy.kind == "scope" and policy.need not in PLATFORM_SCOPES:
                assert _refused_by_scope(response), where
            assert not _leaked(response, markers, sent), (where, response.text[:500])
            tally.add(method, path, "platform-key", "-")
    _record(app, "api", tally, len(table))


def test_every_page_for_every_role_of_two_agencies(app: App, world: tuple[World, FastAPI]) -> None:
    w, api = world
    table = [r for r in routes(api) if r[2].kind == "permission"]  # session pages
    assert len(table) >= 25
    tally = Tally()
    for agency in AGENCIES:
        other_own = w.other(agency)
        for role in ROLES:
            with TestClient(api) as client:
                log_in(client, username(agency, role), PASSWORD)
                csrf = csrf_of(client.get("/queue").text)
                for method, path, policy in table:
                    if path == "/logout":
                        continue
                    kwargs = body_for(method, path, other_own)
                    if method == "POST":
                        kwargs["data"] = {**kwargs.get("data", {}), "csrf": csrf}
                    url = fill(path, other_own)
                    response = client.request(method, url, follow_redirects=False, **kwargs)
                    where = (agency, role, method, path, response.status_code)
                    assert response.status_code < 500, (where, response.text[:300])
                    refused = response.status_code == 403 and "your role cannot" in response.text
                    if policy.kind == "permission":
                        assert refused == (not allowed(role, policy.need)), where
                        if not refused and names_an_object(path):
                            assert response.status_code >= 400, (where, response.text[:300])
                    sent = url + repr(kwargs)
                    assert not _leaked(response, other_own.markers, sent), (
                        where,
                        response.text[:500],
                    )
                    tally.add(method, path, role, agency)
    _record(app, "pages", tally, len(table))


def test_each_agency_reaches_its_own_markers(app: App, world: tuple[World, FastAPI]) -> None:
    """The other side of the table: with its own objects in every path, an agency's
    all-scope key and its administrator reach every one of its markers somewhere — so their
    absence from the other agency's answers means something."""
    w, api = world
    table = routes(api)
    for agency in AGENCIES:
        me = w.own[agency]
        seen = ""
        with TestClient(api) as client:
            for method, path, policy in table:
                if method != "GET" or policy.kind != "scope":
                    continue
                url = fill(path, me)
                seen += client.get(url, headers=bearer(me.key), **body_for("GET", path, me)).text
            log_in(client, username(agency, "administrator"), PASSWORD)
            for method, path, policy in table:
                if method == "GET" and policy.kind == "permission":
                    seen += client.get(fill(path, me), **body_for("GET", path, me)).text
        missing = [m for m in me.markers if m not in seen]
        assert not missing, (agency, missing)


COUNTS: dict[str, int] = {}


def _record(app: App, face: str, tally: Tally, routes_count: int) -> None:
    """The size of the table, printed for docs/security.md (pytest -s shows it)."""
    COUNTS[face] = len(tally.cases)
    print(
        f"\naccess table {face}: {routes_count} routes, {len(tally.cases)} route x subject x agency cases"
    )
