"""``/api/v1/complaints`` and ``/api/v1/operations/{id}/assignments``
(takedown.ops.complaints_api), on SQLite and PostgreSQL: each route for the agency it
concerns, for another agency (404, nothing shown) and for the states that refuse it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from takedown.api.auth import create_user
from takedown.app import App
from takedown.referrals.machine import apply
from takedown.referrals.models import Referral
from takedown.referrals.routing import draft
from takedown.store.models import Sighting
from tests.ops.conftest import World, ingest, record

GROUNDS = "SECRET-GROUNDS news reporting <script>x</script>"
COMPLAINTS = "/api/v1/complaints"
OPS = "/api/v1/operations"


def _removed_sighting(app: App, tmp_path: Path) -> tuple[int, int]:
    """An Alpha sighting whose referral was sent and removed: (sighting id, referral id)."""
    ingest(app, tmp_path, [record("https://t.me/s/chan/1", "unit-alpha")])
    draft(app)
    with app.db.session() as session:
        referral = session.scalars(select(Referral)).one()
        apply(session, referral, "send")
        apply(session, referral, "removed")
        sighting = session.scalars(select(Sighting.id)).one()
        return sighting, referral.id


def test_record_list_read_and_deadline(app: App, tmp_path: Path, world: World) -> None:
    sighting, referral = _removed_sighting(app, tmp_path)
    received = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    body = {
        "sighting_id": sighting,
        "complainant": "uploader",
        "grounds": GROUNDS,
        "received_at": received.isoformat(),
    }
    made = world.call("Alpha", "POST", COMPLAINTS, json=body)
    assert made.status_code == 201, made.text
    c = made.json()["data"]
    assert c["referral_id"] == referral and c["grounds"] == GROUNDS
    assert datetime.fromisoformat(c["deadline"]) == received + timedelta(days=14)
    assert c["overdue"] is True and c["decided_at"] is None and c["outcome"] is None
    fresh = world.call("Alpha", "POST", COMPLAINTS, json={**body, "received_at": None})
    assert fresh.status_code == 201 and fresh.json()["data"]["overdue"] is False
    listed = world.call("reader", "GET", COMPLAINTS).json()["data"]
    assert [x["id"] for x in listed] == [c["id"], fresh.json()["data"]["id"]]
    one = world.call("reader", "GET", f"{COMPLAINTS}/{c['id']}")
    assert one.status_code == 200 and one.json()["data"] == c
    # another agency: the sighting and its complaints do not exist for it
    for response in (
        world.call("Bravo", "POST", COMPLAINTS, json=body),
        world.call("Bravo", "GET", f"{COMPLAINTS}/{c['id']}"),
    ):
        assert response.status_code == 404 and "SECRET" not in response.text
    assert world.call("Bravo", "GET", COMPLAINTS).json()["data"] == []
    assert world.call("Alpha", "GET", f"{COMPLAINTS}/999999").status_code == 404


def test_recording_is_refused_without_scope_zone_or_sighting(
    app: App, tmp_path: Path, world: World
) -> None:
    sighting, _ = _removed_sighting(app, tmp_path)
    body = {"sighting_id": sighting, "complainant": "uploader", "grounds": GROUNDS}
    assert world.call("reader", "POST", COMPLAINTS, json=body).status_code == 403
    naive = world.call(
        "Alpha", "POST", COMPLAINTS, json={**body, "received_at": "2026-11-02T09:30"}
    )
    assert naive.status_code == 400 and "time zone" in naive.text
    # issue #20: a received_at of 0 was accepted as a complaint of 1970
    for implausible in (0, "1970-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2999-01-01T00:00Z"):
        refused = world.call("Alpha", "POST", COMPLAINTS, json={**body, "received_at": implausible})
        assert refused.status_code == 400, (implausible, refused.text)
        assert "plausible" in refused.text or "future" in refused.text
    blank = world.call("Alpha", "POST", COMPLAINTS, json={**body, "grounds": "  "})
    assert blank.status_code == 400
    missing = world.call("Alpha", "POST", COMPLAINTS, json={**body, "sighting_id": 999999})
    assert missing.status_code == 404
    assert world.call("Alpha", "GET", COMPLAINTS).json()["data"] == []


def test_an_upheld_complaint_reinstates_once(app: App, tmp_path: Path, world: World) -> None:
    sighting, referral = _removed_sighting(app, tmp_path)
    body = {"sighting_id": sighting, "complainant": "provider", "grounds": GROUNDS}
    first = world.call("Alpha", "POST", COMPLAINTS, json=body).json()["data"]
    second = world.call("Alpha", "POST", COMPLAINTS, json=body).json()["data"]
    upheld = {"outcome": "upheld", "reason": "journalistic context"}
    url = f"{COMPLAINTS}/{first['id']}/decision"
    assert world.call("Bravo", "POST", url, json=upheld).status_code == 404
    assert world.call("reader", "POST", url, json=upheld).status_code == 403
    bad = world.call("Alpha", "POST", url, json={"outcome": "maybe", "reason": "x"})
    assert bad.status_code == 422
    decided = world.call("Alpha", "POST", url, json=upheld)
    assert decided.status_code == 200, decided.text
    d = decided.json()["data"]
    assert d["outcome"] == "upheld" and d["reinstated_at"] is not None
    assert d["answered_in_time"] is True and d["decision_reason"] == "journalistic context"
    with app.db.session() as session:
        row = session.get(Referral, referral)
        assert row is not None and row.state == "reinstated"
    again = world.call("Alpha", "POST", url, json={"outcome": "rejected", "reason": "x"})
    assert again.status_code == 409
    rejected = world.call(
        "Alpha",
        "POST",
        f"{COMPLAINTS}/{second['id']}/decision",
        json={"outcome": "rejected", "reason": "incitement"},
    ).json()["data"]
    assert rejected["outcome"] == "rejected" and rejected["reinstated_at"] is None
    assert world.call("Alpha", "GET", COMPLAINTS, params={"open": "true"}).json()["data"] == []
    assert len(world.call("Alpha", "GET", COMPLAINTS).json()["data"]) == 2


# -- assignments --------------------------------------------------------------------------------
def _operation(app: App, w: World) -> int:
    for user, agency in (("al", "Alpha"), ("bo", "Bravo"), ("ch", "Charlie")):
        create_user(app, user, "synthetic password", agency=agency)
    now = datetime.now(UTC)
    body = {
        "name": "RAD <b>2</b>",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=47)).isoformat(),
        "agencies": ["Bravo"],
    }
    made = w.call("Alpha", "POST", OPS, json=body)
    assert made.status_code == 201, made.text
    op_id: int = made.json()["data"]["id"]
    return op_id


def test_assign_and_list(app: App, world: World) -> None:
    op = _operation(app, world)
    url = f"{OPS}/{op}/assignments"
    assert world.call("Alpha", "GET", url).json()["data"] == []
    lead = world.call("Alpha", "POST", url, json={"user": "bo", "platforms": ["telegram"]})
    assert lead.status_code == 200, lead.text
    assert lead.json()["data"]["agency"] == "Bravo"
    assert lead.json()["data"]["assigned_by"].startswith("api-key:")
    own = world.call("Bravo", "POST", url, json={"user": "bo", "languages": ["AR", "fr"]})
    assert own.status_code == 200
    assert own.json()["data"]["platforms"] == [] and own.json()["data"]["languages"] == ["ar", "fr"]
    world.call("Alpha", "POST", url, json={"user": "al", "platforms": ["x"]})
    listed = world.call("Bravo", "GET", url).json()["data"]
    assert [(a["user"], a["agency"]) for a in listed] == [("al", "Alpha"), ("bo", "Bravo")]
    board = world.call("reader", "GET", f"{OPS}/{op}/board").json()["data"]
    assert [a["user"] for a in board["assignments"]] == ["al", "bo"]


def test_assignment_refusals(app: App, world: World) -> None:
    op = _operation(app, world)
    url = f"{OPS}/{op}/assignments"
    # Charlie takes no part: the operation does not exist for it
    for method, kwargs in (("GET", {}), ("POST", {"json": {"user": "ch", "platforms": ["x"]}})):
        response = world.call("Charlie", method, url, **kwargs)
        assert response.status_code == 404 and "RAD" not in response.text
    # a participant assigns its own analysts only; the lead any participant's
    other = world.call("Bravo", "POST", url, json={"user": "al", "platforms": ["x"]})
    assert other.status_code == 400 and "of your agency" in other.text
    outsider = world.call("Alpha", "POST", url, json={"user": "ch", "platforms": ["x"]})
    nobody = world.call("Alpha", "POST", url, json={"user": "zz", "platforms": ["x"]})
    assert outsider.status_code == nobody.status_code == 400
    assert (
        outsider.json()["error"]["message"].replace("ch", "zz") == nobody.json()["error"]["message"]
    )
    empty = world.call("Alpha", "POST", url, json={"user": "al"})
    assert empty.status_code == 400 and "at least one" in empty.text
    assert (
        world.call("reader", "POST", url, json={"user": "al", "platforms": ["x"]}).status_code
        == 403
    )
    assert world.call("Alpha", "GET", url).json()["data"] == []
    assert world.call("Alpha", "POST", f"{OPS}/{op}/close").status_code == 200
    closed = world.call("Alpha", "POST", url, json={"user": "al", "platforms": ["x"]})
    assert closed.status_code == 409 and "closed" in closed.text
