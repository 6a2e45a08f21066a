"""Deconfliction in the faces: two agencies, one hold, blocked referrals, the owner notified,
and the hold's reason nowhere in the other agency's responses, pages or error messages."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.api.app import create_app
from takedown.app import App
from takedown.ops.hold_checks import notifications
from takedown.ops.holds import add_hold
from takedown.referrals.models import Referral, ReferralItem
from takedown.referrals.routing import draft
from tests.api.conftest import bearer
from tests.api.scope_world import OTHER, PASSWORD, REASON, build
from tests.api.seed import OWNER
from tests.web.conftest import csrf_of, log_in

HELD_API = "https://t.me/heldchan/9"
HELD_WEB = "https://t.me/heldchan/10"
MESSAGE = f"deconfliction hit: contact {OWNER}"


def test_a_hold_blocks_the_other_agency_without_revealing_why(app: App, tmp_path: Path) -> None:
    w = build(app, tmp_path)
    api = create_app(app)
    with TestClient(api) as client:
        other = bearer(w.other_key)
        ids = []
        for url in (HELD_API, HELD_WEB):
            made = client.post("/api/v1/sightings", json={"url": url}, headers=other)
            assert made.status_code == 201, made.text
            ids += made.json()["data"]["sighting_ids"]
        # B's referral is drafted before A places its hold (it must still not go out)
        drafted = draft(app, only=[ids[0]]).drafted
        assert len(drafted) == 1
        with app.db.session() as session:
            for url in (HELD_API, HELD_WEB):
                add_hold(session, agency=OWNER, kind="url", value=url, reason=REASON, days=3)

        # -- the API: send is refused for that referral, with whom to contact, not why
        sent = client.post("/api/v1/referrals/send", headers=other)
        assert sent.status_code == 200, sent.text
        body = sent.json()["data"]
        assert body["queued"] == 0 and body["sent"] == 0
        assert body["blocked"] == [
            {"reference": drafted[0].reference, "item_id": str(ids[0]), "message": MESSAGE}
        ]
        for path in ("/api/v1/referrals", f"/api/v1/referrals/{drafted[0].reference}"):
            response = client.get(path, headers=other)
            assert response.status_code == 200 and "SECRET-REASON" not in response.text
        assert "SECRET-REASON" not in sent.text
        with app.db.session() as session:
            referral = session.scalar(select(Referral).where(Referral.id == drafted[0].id))
            assert referral is not None and referral.sent_at is None

        # -- the workspace: B decides to refer its held item; the board says whom to contact
        log_in(client, "olga", PASSWORD)
        queue = client.get("/queue")
        assert HELD_WEB in queue.text
        csrf = csrf_of(queue.text)
        decided = client.post(
            f"/queue/{ids[1]}/decision",
            data={"decision": "refer", "csrf": csrf},
            follow_redirects=False,
        )
        assert decided.status_code == 303
        board = client.get("/referrals")
        assert MESSAGE in board.text and "SECRET-REASON" not in board.text
        send = client.post("/referrals/send", data={"csrf": csrf}, follow_redirects=False)
        assert send.status_code == 303 and send.headers["location"] == "/referrals?sent=0&held=1"
        after = client.get(send.headers["location"])
        assert MESSAGE in after.text and "SECRET-REASON" not in after.text
        with app.db.session() as session:
            assert (
                session.scalar(select(ReferralItem.id).where(ReferralItem.sighting_id == ids[1]))
                is None
            )
        # B cannot see, lift or even confirm A's hold; no page of B names the reason
        lifted = client.post(f"/holds/{w.hold_id}/lift", data={"csrf": csrf})
        assert lifted.status_code == 404 and "SECRET-REASON" not in lifted.text
        for page in ("/queue", "/holds", "/operations", "/infra", "/dashboard"):
            response = client.get(page)
            assert response.status_code == 200 and "SECRET-REASON" not in response.text, page
        assert "SECRET-REASON" not in client.get("/holds?error=x").text

        # -- A (the owner) is told of every hit, with its reason, on its holds page
        client.cookies.clear()
        log_in(client, "ana", PASSWORD)
        holds = client.get("/holds")
        assert "SECRET-REASON" in holds.text
        assert holds.text.count(OTHER) >= 2  # one hit by the API key, one by the user
        assert "&lt;script&gt;" in holds.text and "<script>alert" not in holds.text
    with app.db.session() as session:
        hits = notifications(session, OWNER)
    assert {(h["sighting_id"], h["requester"]) for h in hits} == {
        (ids[0], OTHER),
        (ids[1], OTHER),
    }
