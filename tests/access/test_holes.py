"""Regression tests of the holes of issue #20, items 2-6 (each failed on the code before the
access package): two agencies, and what one of them could do to the other's work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from takedown.api.app import create_app
from takedown.api.models import ApiReviewDecision
from takedown.app import App
from takedown.ops.models import OpsHold
from takedown.referrals.models import Referral, ReferralItem
from takedown.referrals.routing import draft
from takedown.store.models import BankEntry
from tests.access.world import (
    B_OPERATION,
    IMAGE_URL,
    PASSWORD,
    TEXT_URL,
    A,
    B,
    World,
    build,
    user,
)
from tests.api.conftest import bearer
from tests.web.conftest import csrf_of, log_in

BASE_ROLES = ("administrator", "analyst", "reviewer", "liaison", "read-only")


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as test_client:
        yield test_client


@pytest.fixture
def world(app: App, client: TestClient, tmp_path: Path) -> World:
    return build(app, client, tmp_path, BASE_ROLES)


def _web(app: App, username: str) -> tuple[TestClient, str]:
    web = TestClient(create_app(app))
    log_in(web, username, PASSWORD)
    return web, csrf_of(web.get("/queue").text)


def _leaks(w: World, text: str) -> list[str]:
    return [m for m in w.markers if m in text]


# -- 2: submitting B's URL gave A B's notes, operation, content, media and queue text -------
def test_reporting_the_same_url_shows_nothing_of_the_other_agencys_work(
    app: App, client: TestClient, world: World
) -> None:
    a = bearer(world.keys[A])
    listed = client.get("/api/v1/sightings?limit=500", headers=a)
    assert listed.status_code == 200
    assert {s["id"] for s in listed.json()["data"]} == set(world.a_sightings)
    assert not _leaks(world, listed.text)
    for sid in world.b_sightings:
        assert client.get(f"/api/v1/sightings/{sid}", headers=a).status_code == 404
    assert client.get(f"/api/v1/content/{world.b_content}", headers=a).status_code == 404
    clusters = client.get("/api/v1/clusters", headers=a)
    assert clusters.status_code == 200 and clusters.json()["data"] == []
    # what A does learn: the item is known, and whom to contact
    mine = client.get(f"/api/v1/sightings/{world.a_sightings[0]}", headers=a).json()["data"]
    assert mine["url"] == IMAGE_URL and mine["also_reported_by"] == [B]
    assert B_OPERATION not in str(mine) and mine["operation"] is None
    web, _csrf = _web(app, user(A, "analyst"))
    with web:
        queue = web.get("/queue")
        assert queue.status_code == 200 and not _leaks(world, queue.text)
        assert web.get(f"/media/{world.b_content}").status_code == 404
        figures = web.get("/dashboard")
        assert not _leaks(world, figures.text)
    # B, the first reporter, still sees all of its own work
    b = bearer(world.keys[B])
    own = client.get(f"/api/v1/sightings/{world.b_sightings[0]}", headers=b).json()["data"]
    assert own["notes"] == "B-NOTE-SECRET" and own["operation"] == B_OPERATION
    assert own["also_reported_by"] == [A]


# -- 3: A closed B's review items ---------------------------------------------------------
def test_an_agency_cannot_decide_the_other_agencys_review_items(app: App, world: World) -> None:
    web, csrf = _web(app, user(A, "analyst"))
    with web:
        for sid in world.b_sightings:
            answer = web.post(
                f"/queue/{sid}/decision",
                data={"decision": "not_in_scope", "csrf": csrf},
                follow_redirects=False,
            )
            assert answer.status_code == 404, answer.text
    with app.db.session() as session:
        decided = session.scalar(
            select(func.count(ApiReviewDecision.id)).where(
                ApiReviewDecision.sighting_id.in_(world.b_sightings)
            )
        )
    assert decided == 0
    b_web, _ = _web(app, user(B, "analyst"))
    with b_web:
        assert IMAGE_URL in b_web.get("/queue").text and TEXT_URL in b_web.get("/queue").text


# -- 4: a read-only user decided review items, one awaiting a second reviewer included -----
def test_a_read_only_user_cannot_decide(app: App, world: World) -> None:
    target = world.a_sightings[0]
    reviewer, reviewer_csrf = _web(app, user(A, "reviewer"))
    with reviewer:
        asked = reviewer.post(
            f"/queue/{target}/decision",
            data={"decision": "second_review", "csrf": reviewer_csrf},
            follow_redirects=False,
        )
        assert asked.status_code == 303
    reader, csrf = _web(app, user(A, "read-only"))
    with reader:
        for sid, decision in ((target, "refer"), (world.a_sightings[1], "not_in_scope")):
            answer = reader.post(
                f"/queue/{sid}/decision",
                data={"decision": decision, "csrf": csrf},
                follow_redirects=False,
            )
            assert answer.status_code == 403, answer.text
    with app.db.session() as session:
        decisions = list(session.scalars(select(ApiReviewDecision.decision)))
    assert decisions == ["second_review"]


# -- 5: one agency's hold held everyone's referrals ------------------------------------------
WIDE_HOLDS = [
    {"kind": "domain", "value": "t.me", "reason": "r", "days": 1},
    {"kind": "domain", "value": "www.t.me", "reason": "r", "days": 1},
    {"kind": "signal", "value": "pdq:" + "0" * 64, "max_distance": 128, "reason": "r", "days": 1},
    {"kind": "signal", "value": "pdq:" + "f" * 64, "max_distance": 64, "reason": "r", "days": 1},
]


def test_an_agency_key_cannot_hold_a_whole_platform_or_a_wide_pdq_radius(
    app: App, client: TestClient, world: World
) -> None:
    a = bearer(world.keys[A])
    for body in WIDE_HOLDS:
        answer = client.post("/api/v1/holds", headers=a, json=body)
        assert answer.status_code in (403, 422), (body, answer.text)
    narrow = {"kind": "domain", "value": "b-outlet.example", "reason": "ours", "days": 1}
    assert client.post("/api/v1/holds", headers=a, json=narrow).status_code == 201
    web, csrf = _web(app, user(A, "analyst"))
    with web:
        form = {"kind": "domain", "value": "t.me", "reason": "r", "days": "1", "csrf": csrf}
        answer = web.post("/holds", data=form, follow_redirects=False)
        # refused: the form comes back with the error and what was typed (400), or 403
        assert answer.status_code in (400, 403), answer.status_code
    with app.db.session() as session:
        values = set(session.scalars(select(OpsHold.value)))
        assert values == {"b-outlet.example"}
        b_id = session.scalar(select(func.min(ReferralItem.id)))  # nothing drafted yet
        assert b_id is None
    with app.db.session() as session:
        from takedown.ops.agencies import get_agency

        b_agency = get_agency(session, B).id
    routed = draft(app, agency_id=b_agency)
    assert not routed.blocked, routed.blocked
    assert routed.drafted


# -- 6: banks had no owner; a referral drafted for A held B's items --------------------------
def test_an_agency_cannot_change_the_other_agencys_bank(
    app: App, client: TestClient, world: World
) -> None:
    a, b = bearer(world.keys[A]), bearer(world.keys[B])
    assert client.post("/api/v1/banks", headers=b, json={"name": "B-bank"}).status_code == 201
    added = client.post(
        "/api/v1/banks/B-bank/entries",
        headers=b,
        json={"entries": [{"signal_type": "sha256", "value": "ab" * 32}]},
    )
    assert added.status_code == 200, added.text
    entry = client.get("/api/v1/banks/B-bank/entries", headers=b).json()["data"][0]["id"]
    deleted = client.delete(f"/api/v1/banks/B-bank/entries/{entry}", headers=a)
    assert deleted.status_code in (403, 404), deleted.text
    more = client.post(
        "/api/v1/banks/B-bank/entries",
        headers=a,
        json={"entries": [{"signal_type": "sha256", "value": "cd" * 32}]},
    )
    assert more.status_code in (403, 404), more.text
    with app.db.session() as session:
        rows = list(session.scalars(select(BankEntry)))
    assert [(e.value, e.removed_at) for e in rows] == [("ab" * 32, None)]
    # B's own key still may
    assert client.delete(f"/api/v1/banks/B-bank/entries/{entry}", headers=b).status_code == 200


def test_refer_for_one_agency_drafts_only_that_agencys_items(app: App, world: World) -> None:
    from takedown.cli import main

    result = CliRunner().invoke(
        main,
        ["--data", str(app.settings.data), "refer", "--agency", A, "--json"],
        env={"TAKEDOWN_DATABASE_URL": app.settings.database_url or ""},
    )
    assert result.exit_code == 0, result.output
    with app.db.session() as session:
        items = set(session.scalars(select(ReferralItem.sighting_id)))
        referrals = session.scalar(select(func.count(Referral.id)))
    assert not items & set(world.b_sightings), "A's referral holds B's items"
    # B reported both items first: they are B's to refer; A's reports are duplicates of them
    assert referrals == 0
