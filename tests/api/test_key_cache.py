"""Verified keys are kept in memory, yet revocation, rotation and expiry still hold."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from takedown.api import keycache
from takedown.api.auth import Principal, create_key, revoke_key, rotate_key, verify_key
from takedown.api.keycache import KeyCache
from takedown.api.models import ApiKey
from takedown.app import App
from tests.api.conftest import bearer

SIGHTINGS = "/api/v1/sightings"


def test_a_verified_key_is_answered_from_memory(app: App) -> None:
    key = create_key(app, "k", ["read"], agency="IRU")
    cache = KeyCache.of(app.db)
    check = partial(verify_key, app)
    assert cache.fresh(key.secret) is None  # never seen
    who = cache.verify(key.secret, check)
    assert who is not None and who.key_id == key.id
    assert cache.fresh(key.secret) == who
    assert cache.fresh(key.secret + "x") is None
    assert cache.verify(key.secret[:-1] + "!", check) is None


def test_revoking_a_key_in_use_takes_effect_at_once(app: App, client: TestClient) -> None:
    key = create_key(app, "k", ["read"], agency="IRU")
    assert client.get(SIGHTINGS, headers=bearer(key.secret)).status_code == 200
    assert KeyCache.of(app.db).fresh(key.secret) is not None  # it is cached
    revoke_key(app, key.prefix)
    refused = client.get(SIGHTINGS, headers=bearer(key.secret))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_key"


def test_rotating_a_key_in_use_refuses_the_old_secret_at_once(app: App, client: TestClient) -> None:
    old = create_key(app, "k", ["read"], agency="IRU")
    assert client.get(SIGHTINGS, headers={"X-API-Key": old.secret}).status_code == 200
    new = rotate_key(app, old.prefix)
    assert client.get(SIGHTINGS, headers={"X-API-Key": old.secret}).status_code == 401
    assert client.get(SIGHTINGS, headers={"X-API-Key": new.secret}).status_code == 200


def test_a_revocation_by_another_process_is_seen_at_the_next_poll(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (the CLI) writes ``revoked_at`` without touching this cache; the poll
    of the key table (here before every verification) notices and empties the cache."""
    monkeypatch.setattr(keycache, "REVOCATION_POLL_SECONDS", 0.0)
    key = create_key(app, "k", ["read"], agency="IRU")
    asked: list[str] = []

    def check(presented: str) -> Principal | None:
        asked.append(presented)
        return verify_key(app, presented)

    cache = KeyCache.of(app.db)
    assert cache.verify(key.secret, check) is not None
    assert cache.verify(key.secret, check) is not None
    assert len(asked) == 1  # the second answer came from memory: the poll saw no change
    with app.db.session() as session:
        session.execute(
            update(ApiKey).where(ApiKey.id == key.id).values(revoked_at=datetime.now(UTC))
        )
    assert cache.verify(key.secret, check) is None
    assert len(asked) == 2


def test_a_cached_key_stops_at_its_expiry(app: App) -> None:
    key = create_key(app, "k", ["read"], agency="IRU", expires_days=1)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    with app.db.session() as session:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(expires_at=soon))
    cache, check = KeyCache.of(app.db), partial(verify_key, app)
    assert cache.verify(key.secret, check) is not None
    assert cache.fresh(key.secret) is not None
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.05)
    assert cache.fresh(key.secret) is None
    assert cache.verify(key.secret, check) is None


def test_each_database_has_its_own_cache(app: App, sqlite_app: App) -> None:
    key = create_key(app, "k", ["read"], agency="IRU")
    assert KeyCache.of(app.db).verify(key.secret, partial(verify_key, app)) is not None
    assert KeyCache.of(sqlite_app.db) is not KeyCache.of(app.db)
    assert KeyCache.of(sqlite_app.db).fresh(key.secret) is None
    assert KeyCache.of(sqlite_app.db).verify(key.secret, partial(verify_key, sqlite_app)) is None


def test_api_answers_and_refusals_carry_the_security_headers(app: App, client: TestClient) -> None:
    key = create_key(app, "k", ["read"], agency="IRU")
    answers = [
        (client.get(SIGHTINGS, headers=bearer(key.secret)), 200),
        (client.get(SIGHTINGS), 401),
        (client.post("/api/v1/sightings/batch", headers={"content-length": str(2**40)}), 413),
    ]
    for response, status in answers:
        assert response.status_code == status
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"].endswith("sandbox")
        assert response.headers["cache-control"] == "no-store"
