"""Two agencies, "Unit A" and "Unit B", each with a user of every role and an all-scope key.

B reports an image (with notes, under B's own operation) and a text; A then reports the same
two URLs. Every string of B's own work is a *marker* that must never reach A.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.api.auth import SCOPES, create_key
from takedown.app import App
from takedown.ops.agencies import create_agency, create_user
from takedown.ops.operations import create_operation
from takedown.store.models import Sighting
from tests.api.conftest import bearer
from tests.api.seed import synthetic_image

A, B = "Unit A", "Unit B"
PASSWORD = "synthetic password"
#: roles every agency has a user of (username: "<a|b>-<role>")
ROLES = ("administrator", "coordinator", "analyst", "reviewer", "liaison", "read-only")
IMAGE_URL = "https://t.me/bchan/7"
TEXT_URL = "https://justpaste.it/b-text-1"
B_NOTE = "B-NOTE-SECRET"
B_TEXT = "B-TEXT-SECRET statement of the synthetic kind"
B_OPERATION = "B-Op-Secret"


@dataclass
class World:
    keys: dict[str, str]  # agency -> all-scope key
    b_sightings: list[int]
    a_sightings: list[int]
    b_content: int
    markers: list[str] = field(default_factory=lambda: [B_NOTE, "B-TEXT-SECRET", B_OPERATION])


def user(agency: str, role: str) -> str:
    return f"{agency[-1].lower()}-{role}"


def build(app: App, client: TestClient, folder: Path, roles: tuple[str, ...] = ROLES) -> World:
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    with app.db.session() as session:
        for agency in (A, B):
            create_agency(session, agency)
            for role in roles:
                create_user(session, user(agency, role), PASSWORD, agency=agency, role=role)
        create_operation(
            session,
            B_OPERATION,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=40),
            agencies=[B],
        )
    keys = {a: create_key(app, f"{a} key", sorted(SCOPES), agency=a).secret for a in (A, B)}
    image = synthetic_image(folder / "b.png", 7)
    made = client.post(
        "/api/v1/sightings/upload",
        headers=bearer(keys[B]),
        files={"file": ("b-secret-name.png", image.read_bytes(), "image/png")},
        data={"url": IMAGE_URL, "notes": B_NOTE, "operation": B_OPERATION},
    )
    assert made.status_code == 201, made.text
    text = client.post(
        "/api/v1/sightings",
        headers=bearer(keys[B]),
        json={"url": TEXT_URL, "text": B_TEXT, "notes": B_NOTE},
    )
    assert text.status_code == 201, text.text
    b_ids = made.json()["data"]["sighting_ids"] + text.json()["data"]["sighting_ids"]
    a_ids = []
    for url in (IMAGE_URL, TEXT_URL):
        mine = client.post("/api/v1/sightings", headers=bearer(keys[A]), json={"url": url})
        assert mine.status_code == 201, mine.text
        a_ids += mine.json()["data"]["sighting_ids"]
    with app.db.session() as session:
        content = session.scalar(select(Sighting.content_id).where(Sighting.id == b_ids[0]))
    assert content is not None and len(b_ids) == 2 and len(a_ids) == 2
    return World(keys, b_ids, a_ids, content)
