"""Sharing on purpose (audited), and wide holds: a coordinator's, within an operation, seen by
the operation's lead agency; bounds no one passes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.access.holds import HoldScopeError, wide_reason
from takedown.api.app import create_app
from takedown.app import App
from takedown.ops.agencies import get_agency
from takedown.ops.holds import HoldTooWide, add_hold, coordinated
from takedown.ops.operations import create_operation
from takedown.referrals.routing import draft
from takedown.store.audit import AuditEvent
from tests.access.world import B_NOTE, PASSWORD, A, B, World, build, user
from tests.api.conftest import bearer
from tests.web.conftest import csrf_of, log_in


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as test_client:
        yield test_client


@pytest.fixture
def world(app: App, client: TestClient, tmp_path: Path) -> World:
    return build(app, client, tmp_path)


def test_a_share_shows_one_report_to_one_agency_until_withdrawn(
    app: App, client: TestClient, world: World
) -> None:
    a, b = bearer(world.keys[A]), bearer(world.keys[B])
    target = world.b_sightings[0]
    assert client.get(f"/api/v1/sightings/{target}", headers=a).status_code == 404
    # A cannot share B's report, nor B share A's
    refused = client.post(f"/api/v1/sightings/{target}/share", headers=a, json={"agency": A})
    assert refused.status_code == 404
    shared = client.post(
        f"/api/v1/sightings/{target}/share", headers=b, json={"agency": A, "note": "joint case"}
    )
    assert shared.status_code == 200, shared.text
    assert shared.json()["data"]["from"] == B and shared.json()["data"]["to"] == A
    seen = client.get(f"/api/v1/sightings/{target}", headers=a)
    assert seen.status_code == 200 and seen.json()["data"]["notes"] == B_NOTE
    assert client.get(f"/api/v1/content/{world.b_content}", headers=a).status_code == 200
    other = client.get(f"/api/v1/sightings/{world.b_sightings[1]}", headers=a)
    assert other.status_code == 404  # one report, not all of B's
    with app.db.session() as session:
        events = list(
            session.scalars(select(AuditEvent.actor).where(AuditEvent.subject == "access_share"))
        )
    assert events and all(e and e.startswith("api-key:") for e in events)
    gone = client.post(f"/api/v1/sightings/{target}/share/withdraw", headers=b, json={"agency": A})
    assert gone.status_code == 200 and gone.json()["data"]["withdrawn_at"]
    assert client.get(f"/api/v1/sightings/{target}", headers=a).status_code == 404


def test_wide_holds_need_a_coordinator_an_operation_and_stay_in_bounds(
    app: App, client: TestClient, world: World
) -> None:
    now = datetime.now(UTC)
    with app.db.session() as session:
        create_operation(
            session,
            "Joint-Day",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=20),
            agencies=[B, A],  # B leads
        )
    analyst, csrf = TestClient(create_app(app)), ""
    with analyst:
        log_in(analyst, user(A, "analyst"), PASSWORD)
        csrf = csrf_of(analyst.get("/holds").text)
        form = {"kind": "domain", "value": "t.me", "reason": "r", "operation": "Joint-Day"}
        answer = analyst.post("/holds", data={**form, "csrf": csrf}, follow_redirects=False)
        assert answer.status_code == 400 and "coordinator" in answer.text
    with TestClient(create_app(app)) as coordinator:
        log_in(coordinator, user(A, "coordinator"), PASSWORD)
        csrf = csrf_of(coordinator.get("/holds").text)
        no_op = {"kind": "domain", "value": "t.me", "reason": "A-WIDE-WHY", "csrf": csrf}
        answer = coordinator.post("/holds", data=no_op, follow_redirects=False)
        assert answer.status_code == 400 and "operation" in answer.text
        too_wide = {**no_op, "kind": "signal", "value": "pdq:" + "0" * 64, "max_distance": "128"}
        answer = coordinator.post("/holds", data={**too_wide, "operation": "Joint-Day"})
        assert "0..63" in answer.text
        answer = coordinator.post(
            "/holds", data={**no_op, "operation": "Joint-Day"}, follow_redirects=False
        )
        assert answer.headers["location"] == "/holds", answer.headers["location"]
    with app.db.session() as session:
        seen_by_lead = coordinated(session, B)
        assert [(h["agency"], h["value"], h["operation"]) for h in seen_by_lead] == [
            (A, "t.me", "Joint-Day")
        ]
        assert "A-WIDE-WHY" not in str(seen_by_lead)  # the reason stays A's
        assert coordinated(session, A) == []  # A takes part, B leads
        b_id = get_agency(session, B).id
    with TestClient(create_app(app)) as lead:
        log_in(lead, user(B, "read-only"), PASSWORD)
        page = lead.get("/holds").text
        assert "Wide holds in operations you lead" in page and "t.me" in page
        assert "A-WIDE-WHY" not in page
    routed = draft(app, agency_id=b_id)
    assert routed.blocked  # the wide hold, placed as it should be, does hold B's t.me item
    assert all(m == f"deconfliction hit: contact {A}" for m in routed.blocked.values())


@pytest.mark.parametrize(
    ("kind", "value", "distance", "expected"),
    [
        ("url", "https://t.me/chan/1", None, None),
        ("domain", "outlet.example", None, None),
        ("domain", "sub.t.me", None, None),
        ("domain", "t.me", None, "platform"),
        ("domain", "www.t.me", None, "platform"),
        ("domain", "twitter.com", None, "platform"),
        ("domain", "co.uk", None, "refused"),
        ("domain", "blogspot.com", None, "refused"),
        ("label", "outlet:x", None, "label"),
        ("signal", "sha256:" + "a" * 64, None, None),
        ("signal", "pdq:" + "0" * 64, 31, None),
        ("signal", "pdq:" + "0" * 64, 32, "radius"),
        ("signal", "pdq:" + "0" * 64, 63, "radius"),
        ("signal", "pdq:" + "0" * 64, 64, "refused"),
        ("signal", "pdq:" + "0" * 64, 128, "refused"),
    ],
)
def test_the_scope_of_a_hold(kind: str, value: str, distance: int | None, expected: str) -> None:
    if expected == "refused":
        with pytest.raises(HoldScopeError):
            wide_reason(kind, value, distance)
        return
    found = wide_reason(kind, value, distance)
    assert (found is None) == (expected is None), found
    if expected is not None:
        assert expected in str(found)


def test_the_workflow_refuses_a_wide_hold_without_the_right(app: App, world: World) -> None:
    with app.db.session() as session, pytest.raises(HoldTooWide, match="coordinator"):
        add_hold(session, agency=A, kind="label", value="outlet:x", reason="r", days=1)
