"""Errors in the workspace's own layout (the API stays JSON), and the queue's accessible
names: labelled note inputs, distinct names for every "Show this…" button, dir="auto" on
text from sources, language names, times without microseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update

from takedown.app import App
from takedown.store.models import Sighting
from tests.api.seed import Seeded
from tests.web.conftest import csrf_of


def in_layout(html: str) -> bool:
    return "<nav>" in html and 'href="/queue"' in html and "<h1>" in html


def test_errors_in_the_workspace_layout(web: TestClient, seeded: Seeded) -> None:
    missing = web.get("/no/such/page")
    assert missing.status_code == 404 and in_layout(missing.text) and "Not found" in missing.text
    api = web.get("/api/v1/no-such-route")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    bad = web.get("/queue", params={"per_page": "many"})
    assert bad.status_code == 400 and in_layout(bad.text)
    csrf = csrf_of(web.get("/queue").text)
    sid = seeded.sighting_ids[0]
    unknown = web.post(f"/queue/{sid}/decision", data={"csrf": csrf, "decision": "burn"})
    assert unknown.status_code == 400 and in_layout(unknown.text)
    forged = web.post(f"/queue/{sid}/decision", data={"csrf": "forged", "decision": "refer"})
    assert forged.status_code == 403 and in_layout(forged.text)
    web.post(f"/queue/{sid}/decision", data={"csrf": csrf, "decision": "second_review"})
    conflict = web.post(f"/queue/{sid}/decision", data={"csrf": csrf, "decision": "refer"})
    assert conflict.status_code == 409 and in_layout(conflict.text)
    assert "another reviewer must decide" in conflict.text


def test_accessible_names_and_text_direction(web: TestClient, seeded: Seeded) -> None:
    html = web.get("/queue").text
    notes = re.findall(r'<input id="(note-\d+)" name="note"', html)
    assert notes and all(f'<label class="visually-hidden" for="{n}">' in html for n in notes)
    names = re.findall(r'class="reveal"[^>]*aria-label="([^"]+)"', html)
    assert len(names) >= 3 and len(set(names)) == len(names)
    assert 'dir="auto"' in html and 'dir="ltr"' not in html
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", html)  # no microseconds
    assert re.search(r'<time datetime="[^"]+" title="[^"]+ UTC">', html)


def test_complaint_from_the_material_page_and_no_default_decision(
    app: App, web: TestClient, seeded: Seeded
) -> None:
    sid = seeded.sighting_ids[0]
    with app.db.session() as session:
        session.execute(
            update(Sighting).where(Sighting.id == sid).values(removed_at=datetime.now(UTC))
        )
    material = web.get(f"/material/{seeded.cluster_id}").text
    link = re.search(r'class="complain-link" href="([^"]+)"', material)
    assert link is not None and "/holds?kind=url" in material
    form = web.get(link.group(1).replace("&amp;", "&")).text
    assert f'<input type="hidden" name="sighting_id" value="{sid}">' in form
    assert 'name="sighting_id" type="number"' not in form  # no raw number to type
    web.post(
        "/complaints",
        data={
            "csrf": csrf_of(form),
            "sighting_id": str(sid),
            "complainant": "uploader",
            "grounds": "satire",
        },
    )
    listed = web.get("/complaints").text
    assert '<option value="" selected disabled>choose…</option>' in listed
    assert 'class="countdown" data-deadline=' in listed
