"""The referrals over HTTP: the agency lists, reads and sends; a platform answers its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.api.app import create_app
from takedown.api.auth import create_key
from takedown.app import App
from takedown.referrals.routing import draft
from takedown.store.models import Sighting
from takedown.verify.models import VerifyCheck

from .conftest import Receiver, add_sighting, make_app, platforms_file


@pytest.fixture
def setup(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> Iterator[tuple[App, TestClient, dict[str, dict[str, str]], list[str]]]:
    app = make_app(
        database_url, tmp_path, platforms_file=platforms_file(tmp_path / "p.json", receiver.url)
    )
    ids = [
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0"),
        add_sighting(app, "https://fakevid0.test/v/2", "fakevid0"),
        add_sighting(app, "https://fakevid1.test/v/3", "fakevid1"),
    ]
    references = [r.reference for r in draft(app).drafted]
    keys = {
        "agency": create_key(app, "iru", ["referrals", "figures"], agency="IRU").secret,
        "recorder": create_key(app, "rec", ["referrals:respond"], agency="IRU").secret,
        "fakevid0": create_key(app, "p0", ["referrals:respond"], platform="fakevid0").secret,
        "fakevid1": create_key(app, "p1", ["referrals:respond"], platform="fakevid1").secret,
    }
    headers = {name: {"Authorization": f"Bearer {k}"} for name, k in keys.items()}
    with TestClient(create_app(app)) as client:
        yield app, client, headers, [str(i) for i in ids] + references
    app.close()


def test_agency_lists_sends_and_reads_referrals(
    setup: tuple[App, TestClient, dict[str, dict[str, str]], list[str]], receiver: Receiver
) -> None:
    _app, client, headers, _ids = setup
    listed = client.get("/api/v1/referrals", headers=headers["agency"]).json()
    assert {r["addressee"] for r in listed["data"]} == {"fakevid0", "fakevid1"}
    assert all(r["state"] == "drafted" for r in listed["data"])
    page = client.get("/api/v1/referrals?limit=1", headers=headers["agency"]).json()
    assert len(page["data"]) == 1 and page["next_cursor"]
    rest = client.get(
        f"/api/v1/referrals?limit=1&cursor={page['next_cursor']}", headers=headers["agency"]
    ).json()
    assert rest["data"][0]["reference"] != page["data"][0]["reference"]

    sent = client.post("/api/v1/referrals/send", headers=headers["agency"]).json()["data"]
    assert sent == {"queued": 2, "sent": 2, "failed": 0}
    assert len(receiver.posts) == 2
    again = client.post("/api/v1/referrals/send", headers=headers["agency"]).json()["data"]
    assert again == {"queued": 0, "sent": 0, "failed": 0}  # idempotent: nothing sent twice
    assert len(receiver.posts) == 2

    ref0 = next(r for r in listed["data"] if r["addressee"] == "fakevid0")["reference"]
    detail = client.get(f"/api/v1/referrals/{ref0}", headers=headers["agency"]).json()["data"]
    assert detail["state"] == "sent" and detail["items"] == 2
    assert [e["to_state"] for e in detail["events"]] == ["drafted", "sent"] or detail["events"][-1][
        "to_state"
    ] == "sent"
    assert {i["url"] for i in detail["item_list"]} == {
        "https://fakevid0.test/v/1",
        "https://fakevid0.test/v/2",
    }
    sent_only = client.get("/api/v1/referrals?state=sent", headers=headers["agency"]).json()
    assert len(sent_only["data"]) == 2


def test_platform_sees_and_answers_only_its_own(
    setup: tuple[App, TestClient, dict[str, dict[str, str]], list[str]],
) -> None:
    app, client, headers, ids = setup
    client.post("/api/v1/referrals/send", headers=headers["agency"])
    mine = client.get("/api/v1/platform/referrals", headers=headers["fakevid0"]).json()["data"]
    assert [r["addressee"] for r in mine] == ["fakevid0"]
    ref0 = mine[0]["reference"]
    ref1 = client.get("/api/v1/platform/referrals", headers=headers["fakevid1"]).json()["data"][0][
        "reference"
    ]
    # another platform's referral does not exist for this key, to read or to answer
    assert (
        client.get(f"/api/v1/platform/referrals/{ref1}", headers=headers["fakevid0"]).status_code
        == 404
    )
    other = client.post(
        f"/api/v1/referrals/{ref1}/answer", json={"status": "removed"}, headers=headers["fakevid0"]
    )
    assert other.status_code == 404
    # an agency key cannot use the platform listing
    assert client.get("/api/v1/platform/referrals", headers=headers["recorder"]).status_code == 403

    body = {
        "status": "removed",
        "at": "2030-01-01T00:10:00Z",
        "items": [{"item_id": ids[0], "status": "removed"}],
    }
    first = client.post(f"/api/v1/referrals/{ref0}/answer", json=body, headers=headers["fakevid0"])
    assert first.status_code == 200, first.text
    assert first.json()["data"]["to_state"] == "actioned"
    assert first.json()["data"]["duplicate"] is False
    repeat = client.post(f"/api/v1/referrals/{ref0}/answer", json=body, headers=headers["fakevid0"])
    assert repeat.status_code == 200 and repeat.json()["data"]["duplicate"] is True
    with app.db.session() as session:
        removed = session.scalar(select(Sighting.removed_at).where(Sighting.id == int(ids[0])))
        assert removed is not None and removed.year == 2030

    bad_item = client.post(
        f"/api/v1/referrals/{ref1}/answer",
        json={"status": "acknowledged", "items": [{"item_id": "999999", "status": "removed"}]},
        headers=headers["fakevid1"],
    )
    assert bad_item.status_code == 400 and bad_item.json()["error"]["code"] == "bad_answer"
    unknown_status = client.post(
        f"/api/v1/referrals/{ref1}/answer", json={"status": "gone"}, headers=headers["fakevid1"]
    )
    assert unknown_status.status_code == 422
    # an emailed answer recorded by the agency: source operator
    recorded = client.post(
        f"/api/v1/referrals/{ref1}/answer",
        json={"status": "rejected", "reason": "not against our terms"},
        headers=headers["recorder"],
    )
    assert recorded.status_code == 200 and recorded.json()["data"]["to_state"] == "rejected"
    illegal = client.post(
        f"/api/v1/referrals/{ref1}/answer", json={"status": "send"}, headers=headers["recorder"]
    )
    assert illegal.status_code in (409, 422)


def test_checks_are_listed_with_filters(
    setup: tuple[App, TestClient, dict[str, dict[str, str]], list[str]],
) -> None:
    app, client, headers, ids = setup
    with app.db.session() as session:
        session.add(VerifyCheck(sighting_id=int(ids[0]), vantage="eu", outcome="live"))
        session.add(VerifyCheck(sighting_id=int(ids[0]), vantage="eu", outcome="removed"))
        session.add(VerifyCheck(sighting_id=int(ids[1]), vantage="eu", outcome="unreachable"))
    every = client.get("/api/v1/checks", headers=headers["agency"]).json()["data"]
    assert [c["outcome"] for c in every] == ["unreachable", "removed", "live"]
    one = client.get(
        f"/api/v1/checks?sighting_id={ids[0]}&outcome=removed", headers=headers["agency"]
    )
    assert [c["outcome"] for c in one.json()["data"]] == ["removed"]
    assert client.get("/api/v1/checks?outcome=nope", headers=headers["agency"]).status_code == 422
