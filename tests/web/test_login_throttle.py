"""Workspace login brute-force protection (issue #20, item 9): per account and per address,
stored in the database (so a second process sees it), with audit events naming the actor."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.api.app import create_app
from takedown.api.auth import create_user
from takedown.app import App
from takedown.store.audit import AuditEvent
from takedown.web import throttle
from tests.web.conftest import PASSWORD, csrf_of


def _try(client: TestClient, username: str, password: str) -> tuple[int, dict[str, str]]:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    return response.status_code, dict(response.headers)


def _events(app: App, action: str) -> list[tuple[str | None, str]]:
    with app.db.session() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.subject).where(AuditEvent.action == action)
        ).all()
    return [(actor, subject) for actor, subject in rows]


def test_wrong_passwords_lock_the_account_then_the_right_one_is_refused(app: App) -> None:
    create_user(app, "ana", PASSWORD, agency="Unit A")
    with TestClient(create_app(app)) as client:
        for _ in range(throttle.PER_ACCOUNT):
            status, headers = _try(client, "ana", "wrong guess")
            assert (status, headers["location"]) == (303, "/login?error=1")
        status, headers = _try(client, "ana", PASSWORD)
        assert status == 429
        assert 0 < int(headers["retry-after"]) <= throttle.WINDOW.total_seconds() + 1
    # another process (a second app on the same database) holds the same limit
    second = App(app.settings)
    try:
        with TestClient(create_app(second)) as other:
            assert _try(other, "ana", PASSWORD)[0] == 429
    finally:
        second.db.engine.dispose()
    failed = _events(app, "login.failed")
    assert len(failed) == throttle.PER_ACCOUNT
    assert all(actor == "login:ana@testclient" for actor, _ in failed)
    assert _events(app, "login.throttled")


def test_one_address_spraying_many_accounts_is_refused(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "PER_ADDRESS", 4)
    create_user(app, "ben", PASSWORD, agency="Unit A")
    with TestClient(create_app(app)) as client:
        for name in ("u1", "u2", "u3", "u4"):
            assert _try(client, name, "guess")[0] == 303
        assert _try(client, "ben", PASSWORD)[0] == 429  # a fresh account, the same address


def test_a_success_clears_the_account_and_is_audited(app: App) -> None:
    create_user(app, "cy", PASSWORD, agency="Unit A")
    with TestClient(create_app(app)) as client:
        for _ in range(throttle.PER_ACCOUNT - 1):
            _try(client, "cy", "wrong")
        status, headers = _try(client, "cy", PASSWORD)
        assert (status, headers["location"]) == (303, "/queue")
        assert throttle.recent_failures(app, username="cy") == 0
        assert _try(client, "cy", "wrong")[0] == 303  # counting starts again
    assert ("login:cy@testclient", "user:cy") in _events(app, "login")
