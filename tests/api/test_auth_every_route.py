"""Every route refuses a missing, revoked or other-scope key: one table over the route list."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from takedown.api.app import route_table
from takedown.api.auth import PLATFORM_SCOPES, SCOPES, create_key, revoke_key
from takedown.app import App
from tests.api.conftest import bearer

PUBLIC = {"/api/v1/openapi.json"}


def api_routes(api: FastAPI) -> list[tuple[str, str, str]]:
    out = []
    for route_path, methods, extra in route_table(api):
        if not route_path.startswith("/api/") or route_path in PUBLIC:
            continue
        scope = extra.get("x-required-scope")
        assert scope in SCOPES, f"{route_path} declares no scope (use takedown.api.common.scoped)"
        for method in sorted(methods):
            out.append((method, re.sub(r"\{[^}]+\}", "1", route_path), scope))
    return out


def test_the_table_covers_every_api_route(api: FastAPI) -> None:
    table = api_routes(api)
    paths = {p for _m, p, _s in table}
    assert {"/api/v1/sightings", "/api/v1/lookup", "/api/v1/banks", "/api/v1/clusters"} <= paths
    assert len(table) >= 17


def test_every_route_refuses_missing_revoked_and_other_scope_keys(
    app: App, api: FastAPI, client: TestClient
) -> None:
    revoked = create_key(app, "old", list(SCOPES), agency="IRU")
    revoke_key(app, revoked.prefix)
    platform = create_key(app, "plat", sorted(PLATFORM_SCOPES), platform="x").secret
    others = {
        scope: create_key(app, f"no-{scope}", [s for s in SCOPES if s != scope], agency="IRU")
        for scope in SCOPES
    }
    for method, path, scope in api_routes(api):
        missing = client.request(method, path)
        assert missing.status_code == 401, (method, path, missing.text)
        assert missing.json()["error"]["code"] == "unauthenticated"
        old = client.request(method, path, headers=bearer(revoked.secret))
        assert old.status_code == 401, (method, path)
        assert old.json()["error"]["code"] == "invalid_key"
        wrong = client.request(method, path, headers={"X-API-Key": others[scope].secret})
        assert wrong.status_code == 403, (method, path, wrong.text)
        assert wrong.json()["error"]["code"] == "forbidden"
        if scope not in PLATFORM_SCOPES:
            plat = client.request(method, path, headers=bearer(platform))
            assert plat.status_code == 403, (method, path)
        garbage = client.request(method, path, headers=bearer("tdk_nothere_" + "x" * 40))
        assert garbage.status_code == 401


def test_every_web_page_needs_a_session(api: FastAPI, client: TestClient) -> None:
    checked = 0
    for path, methods, _extra in route_table(api):
        if path.startswith(("/api/", "/static", "/login")):
            continue
        for method in methods:
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = client.request(method, url, follow_redirects=False)
            checked += 1
            if method == "GET":
                assert response.status_code == 303, (method, url)
                assert response.headers["location"] == "/login"
            else:
                assert response.status_code in (401, 422), (method, url)
    assert checked >= 8


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_a_valid_key_is_accepted_in_either_header(
    app: App, client: TestClient, header: str
) -> None:
    key = create_key(app, "k", ["read"], agency="IRU").secret
    value = f"Bearer {key}" if header == "Authorization" else key
    response = client.get("/api/v1/sightings", headers={header: value})
    assert response.status_code == 200
    assert response.json() == {"data": [], "next_cursor": None}
