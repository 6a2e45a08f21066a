"""A symmetric world for the generated access test: each of two agencies has its own work
(notes, text, operation, private bank, hold, decision, referral, complaint), every string of it
a marker, and each has reported the other's two URLs as well (the deconfliction case)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.access.roles import PLATFORM_SCOPES, ROLES, SCOPES
from takedown.api.auth import create_key
from takedown.api.models import ApiReviewDecision, ApiUser
from takedown.app import App
from takedown.ops.agencies import create_agency, create_user, get_agency
from takedown.ops.operations import create_operation
from takedown.referrals.routing import draft
from takedown.store.models import Content, Sighting
from tests.api.conftest import bearer
from tests.api.seed import synthetic_image

AGENCIES = ("Unit A", "Unit B")
PASSWORD = "synthetic password"


def prefix(agency: str) -> str:
    return agency[-1]  # "A" or "B"


def username(agency: str, role: str) -> str:
    return f"{prefix(agency).lower()}-{role}"


@dataclass
class Own:
    """One agency's objects (ids to put in paths) and the strings that are its alone."""

    agency: str
    agency_id: int
    key: str  # every scope
    scope_keys: dict[str, str]  # one key per single scope
    sightings: list[int]
    content_id: int
    cluster_id: int
    reference: str
    hold_id: int
    operation: str
    operation_id: int
    bank: str
    entry_id: int
    complaint_id: int
    urls: list[str]
    markers: list[str] = field(default_factory=list)


@dataclass
class World:
    own: dict[str, Own]
    platform_key: str

    def other(self, agency: str) -> Own:
        return next(o for a, o in self.own.items() if a != agency)


def _plant(app: App, client: TestClient, folder: Path, agency: str, seed: int) -> Own:
    p = prefix(agency)
    now = datetime.now(UTC)
    with app.db.session() as session:
        create_agency(session, agency)
        for role in ROLES:
            create_user(session, username(agency, role), PASSWORD, agency=agency, role=role)
        operation = create_operation(
            session,
            f"{p}-Op-Secret",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=40),
            agencies=[agency],
        )
        operation_id, operation_name = operation.id, operation.name
        agency_id = get_agency(session, agency).id
    key = create_key(app, f"{agency} all", sorted(SCOPES), agency=agency).secret
    scope_keys = {s: create_key(app, f"{agency} {s}", [s], agency=agency).secret for s in SCOPES}
    auth = bearer(key)
    image = synthetic_image(folder / f"{p}.png", seed)
    urls = [f"https://t.me/{p.lower()}chan/7", f"https://justpaste.it/{p.lower()}-text-1"]
    made = client.post(
        "/api/v1/sightings/upload",
        headers=auth,
        files={"file": (f"{p}-secret-name.png", image.read_bytes(), "image/png")},
        data={"url": urls[0], "notes": f"{p}-NOTE-SECRET", "operation": operation_name},
    )
    assert made.status_code == 201, made.text
    text = client.post(
        "/api/v1/sightings",
        headers=auth,
        json={"url": urls[1], "text": f"{p}-TEXT-SECRET words", "notes": f"{p}-NOTE-SECRET"},
    )
    assert text.status_code == 201, text.text
    sightings = made.json()["data"]["sighting_ids"] + text.json()["data"]["sighting_ids"]
    bank = f"{p}-Private-Bank"
    assert (
        client.post(
            "/api/v1/banks", headers=auth, json={"name": bank, "sharing": "private"}
        ).status_code
        == 201
    )
    entry = {"signal_type": "sha256", "value": f"{seed:02x}" * 32, "labels": {"note": f"{p}-LBL"}}
    added = client.post(f"/api/v1/banks/{bank}/entries", headers=auth, json={"entries": [entry]})
    assert added.status_code == 200, added.text
    entry_id = client.get(f"/api/v1/banks/{bank}/entries", headers=auth).json()["data"][0]["id"]
    hold = client.post(
        "/api/v1/holds",
        headers=auth,
        json={
            "kind": "domain",
            "value": f"{p.lower()}-held.example",
            "reason": f"{p}-HOLD-WHY",
            "days": 5,
        },
    )
    assert hold.status_code == 201, hold.text
    with app.db.session() as session:
        analyst = session.scalar(
            select(ApiUser.id).where(ApiUser.username == username(agency, "analyst"))
        )
        session.add(
            ApiReviewDecision(
                sighting_id=sightings[1],
                user_id=analyst,
                decision="second_review",
                note=f"{p}-DECISION-NOTE",
            )
        )
        content_id = session.scalar(select(Sighting.content_id).where(Sighting.id == sightings[0]))
        cluster_id = session.scalar(select(Content.cluster_id).where(Content.id == content_id))
        sha256 = session.scalar(select(Content.sha256).where(Content.id == content_id))
    assert content_id is not None and cluster_id is not None and sha256
    drafted = draft(app, agency_id=agency_id, only=[sightings[0]]).drafted
    assert len(drafted) == 1
    complaint = client.post(
        "/api/v1/complaints",
        headers=auth,
        json={"sighting_id": sightings[0], "complainant": "c", "grounds": f"{p}-GROUNDS"},
    )
    assert complaint.status_code == 201, complaint.text
    return Own(
        agency,
        agency_id,
        key,
        scope_keys,
        sightings,
        content_id,
        cluster_id,
        drafted[0].reference,
        hold.json()["data"]["id"],
        operation_name,
        operation_id,
        bank,
        entry_id,
        complaint.json()["data"]["id"],
        urls,
        markers=[
            f"{p}-NOTE-SECRET",
            f"{p}-TEXT-SECRET",
            f"{p}-Op-Secret",
            f"{p}-Private-Bank",
            f"{p}-LBL",
            f"{p.lower()}-held.example",
            f"{p}-HOLD-WHY",
            f"{p}-GROUNDS",
            sha256,  # the content's metadata (the other agency never had these bytes)
            drafted[0].reference,
        ],
    )


def build(app: App, client: TestClient, folder: Path) -> World:
    folder.mkdir(parents=True, exist_ok=True)
    own = {a: _plant(app, client, folder, a, 11 + i) for i, a in enumerate(AGENCIES)}
    for agency in AGENCIES:  # each reports the other's URLs too
        other = next(o for a, o in own.items() if a != agency)
        for url in other.urls:
            made = client.post(
                "/api/v1/sightings", headers=bearer(own[agency].key), json={"url": url}
            )
            assert made.status_code == 201, made.text
    platform = create_key(
        app, "platform", sorted(PLATFORM_SCOPES), platform="nobody"
    ).secret  # addressed by no referral
    return World(own, platform)
