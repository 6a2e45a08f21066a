"""``/api/v1/operations`` and ``/api/v1/holds`` (takedown.ops.api), on SQLite and PostgreSQL:
each route for the agency it concerns, for another agency (404, nothing shown) and for the
states that refuse it (closed operation, lifted hold)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from takedown.app import App
from takedown.ops.models import OpsHold
from takedown.ops.reports import operation_report
from takedown.referrals.routing import draft
from tests.ops.conftest import World, ingest, record

REASON = "SECRET-REASON covert account <script>x</script>"
OPS = "/api/v1/operations"


def _new_operation(w: World, name: str = "RAD <b>1</b>", **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "name": name,
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=47)).isoformat(),
        **extra,
    }
    made = w.call("Alpha", "POST", OPS, json=body)
    assert made.status_code == 201, made.text
    data: dict[str, Any] = made.json()["data"]
    return data


def test_create_list_read_and_board(app: App, tmp_path: Path, world: World) -> None:
    op = _new_operation(world, outlets=["outlet-x"], labels=["taxonomy:propaganda"])
    assert op["lead"] == "Alpha" and op["participants"] == ["Alpha"]
    assert op["targets"] == {"outlets": ["outlet-x"], "labels": ["taxonomy:propaganda"]}
    assert op["closed_at"] is None and op["final_digest"] is None
    ingest(
        app,
        tmp_path,
        [record("https://t.me/s/c/1", "unit-alpha"), record("https://t.me/s/c/2", "unit-alpha")],
        operation=op["name"],
    )
    listed = world.call("Alpha", "GET", OPS).json()["data"]
    assert [o["id"] for o in listed] == [op["id"]]
    assert world.call("Bravo", "GET", OPS).json()["data"] == []
    one = world.call("reader", "GET", f"{OPS}/{op['id']}")
    assert one.status_code == 200 and one.json()["data"] == op
    board = world.call("Alpha", "GET", f"{OPS}/{op['id']}/board").json()["data"]
    assert board["total"]["found"] == 2 and board["operation"] == op["name"]
    for path in ("", "/board", "/report"):
        hidden = world.call("Bravo", "GET", f"{OPS}/{op['id']}{path}")
        assert hidden.status_code == 404 and "RAD" not in hidden.text
    assert world.call("Alpha", "GET", f"{OPS}/999").status_code == 404
    # a read-only key reads but cannot create
    refused = world.call("reader", "POST", OPS, json={"name": "x"})
    assert refused.status_code in (403, 422)


def test_create_refuses_bad_time_boxes_and_duplicates(world: World) -> None:
    now = datetime.now(UTC)
    bad = [
        {"starts_at": now.isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()},
        {"starts_at": now.isoformat(), "ends_at": (now + timedelta(days=40)).isoformat()},
        {"starts_at": "2026-04-26T06:00", "ends_at": "2026-04-27T06:00"},  # no zone
    ]
    for times in bad:
        response = world.call("Alpha", "POST", OPS, json={"name": "x", **times})
        assert response.status_code == 400, response.text
    _new_operation(world, "dup")
    again = world.call(
        "Bravo",
        "POST",
        OPS,
        json={"name": "dup", "starts_at": now.isoformat(), "ends_at": "2099-01-01T00:00Z"},
    )
    assert again.status_code in (400, 409)
    unknown = world.call(
        "Alpha",
        "POST",
        OPS,
        json={
            "name": "y",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "agencies": ["Nobody"],
        },
    )
    assert unknown.status_code == 400 and "Nobody" in unknown.text


def test_join_and_close_are_the_leads_and_closing_freezes(
    app: App, tmp_path: Path, world: World
) -> None:
    op = _new_operation(world)
    url = f"{OPS}/{op['id']}"
    assert (
        world.call("Bravo", "POST", f"{url}/agencies", json={"agency": "Bravo"}).status_code == 404
    )
    joined = world.call("Alpha", "POST", f"{url}/agencies", json={"agency": "Bravo"})
    assert joined.status_code == 200 and joined.json()["data"]["participants"] == ["Alpha", "Bravo"]
    assert world.call("Bravo", "GET", url).status_code == 200  # Bravo sees it now
    twice = world.call("Alpha", "POST", f"{url}/agencies", json={"agency": "Bravo"})
    assert twice.status_code == 409
    nobody = world.call("Alpha", "POST", f"{url}/agencies", json={"agency": "Nobody"})
    assert nobody.status_code == 400
    # a participant that does not lead may neither add agencies nor close
    by_bravo = world.call("Bravo", "POST", f"{url}/agencies", json={"agency": "Charlie"})
    assert by_bravo.status_code == 403 and "Alpha" in by_bravo.text
    assert world.call("Bravo", "POST", f"{url}/close").status_code == 403
    assert world.call("Charlie", "POST", f"{url}/close").status_code == 404
    ingest(app, tmp_path, [record("https://t.me/s/c/9", "unit-bravo")], operation=op["name"])
    closed = world.call("Alpha", "POST", f"{url}/close")
    assert closed.status_code == 200, closed.text
    data = closed.json()["data"]
    assert data["closed_at"] and len(data["final_digest"]) == 64
    board = world.call("Bravo", "GET", f"{url}/board").json()["data"]
    assert board["frozen"] is True and board["total"]["found"] == 1
    assert world.call("Alpha", "POST", f"{url}/close").status_code == 409
    late = world.call("Alpha", "POST", f"{url}/agencies", json={"agency": "Charlie"})
    assert late.status_code == 409 and "closed" in late.text


def test_the_report_is_the_operation_report(app: App, tmp_path: Path, world: World) -> None:
    op = _new_operation(world)
    world.call("Alpha", "POST", f"{OPS}/{op['id']}/agencies", json={"agency": "Bravo"})
    ingest(
        app,
        tmp_path,
        [
            record("https://t.me/s/c/1", "unit-alpha", "ar"),
            record("https://t.me/s/c/1", "unit-bravo", "ar"),
            record("https://x.com/a/status/2", "unit-bravo", "en"),
        ],
        operation=op["name"],
    )
    response = world.call("Bravo", "GET", f"{OPS}/{op['id']}/report")
    assert response.status_code == 200
    got = response.json()["data"]
    with app.db.session() as session:
        expected = operation_report(session, op["name"])
    got.pop("generated_at"), expected.pop("generated_at")
    assert got == expected
    assert got["summary"]["sightings"] == 3 and got["summary"]["items"] == 2
    # the report needs the figures scope
    assert world.call("reader", "GET", f"{OPS}/{op['id']}/report").status_code == 403


def test_holds_are_their_owners_alone(app: App, world: World) -> None:
    made = world.call(
        "Alpha",
        "POST",
        "/api/v1/holds",
        json={"kind": "url", "value": "https://t.me/heldchan/9", "reason": REASON, "days": 3},
    )
    assert made.status_code == 201, made.text
    hold = made.json()["data"]
    assert hold["reason"] == REASON and hold["state"] == "active" and hold["agency"] == "Alpha"
    assert hold["created_by"].startswith("api-key:") and hold["max_distance"] is None
    mine = world.call("Alpha", "GET", "/api/v1/holds").json()["data"]
    assert [h["id"] for h in mine] == [hold["id"]]
    for who in ("Bravo", "Charlie"):
        theirs = world.call(who, "GET", "/api/v1/holds?all=true")
        assert theirs.json()["data"] == [] and "SECRET" not in theirs.text
        lift = world.call(who, "POST", f"/api/v1/holds/{hold['id']}/lift")
        assert lift.status_code == 404 and "SECRET" not in lift.text and "Alpha" not in lift.text
    lifted = world.call("Alpha", "POST", f"/api/v1/holds/{hold['id']}/lift")
    assert lifted.status_code == 200 and lifted.json()["data"]["state"] == "lifted"
    assert lifted.json()["data"]["lifted_by"].startswith("api-key:")
    assert world.call("Alpha", "POST", f"/api/v1/holds/{hold['id']}/lift").status_code == 409
    assert world.call("Alpha", "GET", "/api/v1/holds").json()["data"] == []
    every = world.call("Alpha", "GET", "/api/v1/holds?all=true").json()["data"]
    assert [h["state"] for h in every] == ["lifted"]


def test_hold_expiry_and_pdq_distance(app: App, world: World) -> None:
    soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    pdq = "pdq:" + "ab" * 32
    cases: list[tuple[dict[str, Any], int]] = [
        ({"kind": "domain", "value": "a.example", "reason": "r", "expires_at": soon}, 201),
        ({"kind": "signal", "value": pdq, "reason": "r", "days": 1, "max_distance": 12}, 201),
        ({"kind": "signal", "value": pdq, "reason": "r", "days": 1}, 201),
        ({"kind": "domain", "value": "a.example", "reason": "r"}, 400),  # no expiry
        (
            {"kind": "domain", "value": "a.example", "reason": "r", "days": 1, "expires_at": soon},
            400,
        ),
        (
            {
                "kind": "domain",
                "value": "a.example",
                "reason": "r",
                "expires_at": "2030-01-01T00:00",
            },
            400,
        ),
        ({"kind": "domain", "value": "a.example", "reason": "r", "days": 400}, 422),
        ({"kind": "url", "value": "x", "reason": "r", "days": 1, "max_distance": 3}, 400),
        ({"kind": "signal", "value": "pdq:12", "reason": "r", "days": 1}, 400),
        ({"kind": "nothing", "value": "a", "reason": "r", "days": 1}, 422),
    ]
    for body, expected in cases:
        response = world.call("Alpha", "POST", "/api/v1/holds", json=body)
        assert response.status_code == expected, (body, response.text)
    listed = world.call("Alpha", "GET", "/api/v1/holds").json()["data"]
    assert [h["max_distance"] for h in listed] == [None, 12, 31]
    assert listed[0]["expires_at"].startswith(soon[:16])
    with app.db.session() as session:
        assert len(list(session.scalars(select(OpsHold)))) == 3


def test_a_held_item_tells_the_other_agency_whom_to_contact_only(app: App, world: World) -> None:
    made = world.call("Bravo", "POST", "/api/v1/sightings", json={"url": "https://t.me/heldchan/9"})
    assert made.status_code == 201, made.text
    (sid,) = made.json()["data"]["sighting_ids"]
    drafted = draft(app, only=[sid]).drafted
    assert len(drafted) == 1  # drafted before the hold: the sender must still hold it back
    held = world.call(
        "Alpha",
        "POST",
        "/api/v1/holds",
        json={"kind": "url", "value": "https://t.me/heldchan/9", "reason": REASON, "days": 3},
    )
    assert held.status_code == 201
    sent = world.call("Bravo", "POST", "/api/v1/referrals/send")
    assert sent.status_code == 200
    assert sent.json()["data"]["blocked"] == [
        {
            "reference": drafted[0].reference,
            "item_id": str(sid),
            "message": "deconfliction hit: contact Alpha",
        }
    ]
    assert "SECRET" not in sent.text
    hits = world.call("Alpha", "GET", "/api/v1/holds").json()["data"]
    assert [h["value"] for h in hits] == ["https://t.me/heldchan/9"]


def test_intake_over_the_api_is_filed_only_under_the_callers_operations(world: World) -> None:
    op = _new_operation(world, name="RAD-intake")
    sighting = {"url": "https://t.me/s/c/77", "operation": op["name"]}
    other = world.call("Bravo", "POST", "/api/v1/sightings", json=sighting)
    assert other.status_code == 404 and "RAD-intake" in other.text
    batch = world.call(
        "Bravo",
        "POST",
        "/api/v1/sightings/batch",
        files={"file": ("list.txt", b"https://t.me/s/c/78\n")},
        data={"operation": op["name"], "format": "urls"},
    )
    assert batch.status_code == 404
    board = f"{OPS}/{op['id']}/board"
    assert world.call("Alpha", "GET", board).json()["data"]["total"]["found"] == 0
    own = world.call("Alpha", "POST", "/api/v1/sightings", json=sighting)
    assert own.status_code == 201, own.text
    assert world.call("Alpha", "GET", board).json()["data"]["total"]["found"] == 1
    free = world.call("Bravo", "POST", "/api/v1/sightings", json={**sighting, "operation": "x"})
    assert free.status_code == 201  # a free-text label, not an action-day operation
    assert world.call("Alpha", "POST", f"{OPS}/{op['id']}/close").status_code == 200
    closed = world.call("Alpha", "POST", "/api/v1/sightings", json=sighting)
    assert closed.status_code == 400 and closed.json()["error"]["code"] == "bad_submission"
