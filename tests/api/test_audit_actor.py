"""Audit events caused through the API and the workspace name who asked."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.api.app import create_app
from takedown.api.auth import create_key
from takedown.app import App
from takedown.store.audit import AuditEvent, verify
from tests.api.conftest import bearer


def test_api_changes_are_chained_with_the_key_that_made_them(app: App) -> None:
    key = create_key(app, "writer", ["banks:write", "read"], agency="Test IRU")
    with TestClient(create_app(app)) as client:
        made = client.post("/api/v1/banks", json={"name": "audited"}, headers=bearer(key.secret))
        assert made.status_code == 201, made.text
    with app.db.session() as session:
        actors = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.subject == "bank")))
    assert actors == {f"api-key:{key.prefix}"}
    assert verify(app.db.engine).ok
