"""One rule for text at the boundary, the same on SQLite and PostgreSQL (issue #20, item 7).

Text holding U+0000 or a lone surrogate is refused with 422 (API) or 400 (workspace) before it
reaches the database; ids outside the store's integer range get 422 or 404; nothing answers
500 and nothing half-written stays behind.
"""

from __future__ import annotations

import itertools
import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from takedown.api.app import create_app
from takedown.api.auth import SCOPES, create_key
from takedown.app import App
from takedown.ops.models import OpsHold
from takedown.store.models import Sighting
from tests.api.seed import OWNER, Seeded
from tests.web.conftest import csrf_of

BAD_TEXT = ["a\x00b", "\x00", "a\ud800b", "\udfff"]
HUGE_IDS = [2**31, 2**31 + 7, 2**63 - 1, 2**63, 2**64 + 1]


def _raw_json(payload: dict[str, str]) -> bytes:
    # json.dumps escapes a lone surrogate as \udXXX, which the server decodes back into one
    return json.dumps(payload).encode()


def _key(app: App) -> dict[str, str]:
    secret = create_key(app, "boundary", list(SCOPES), agency=OWNER).secret
    return {"X-API-Key": secret, "Content-Type": "application/json"}


def _sightings(app: App) -> int:
    with app.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Sighting)) or 0)


def test_api_sighting_with_invalid_text_is_refused(app: App) -> None:
    before = _sightings(app)
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        headers = _key(app)
        for bad, field in itertools.product(BAD_TEXT, ("notes", "url", "text", "operation")):
            payload = {"url": "https://video.example/watch/boundary", field: bad}
            if field == "url":
                payload["url"] = f"https://video.example/{bad}"
            response = client.post("/api/v1/sightings", content=_raw_json(payload), headers=headers)
            assert response.status_code == 422, (field, response.text[:300])
            assert response.json()["error"]["code"] == "invalid_request"
    assert _sightings(app) == before


def test_api_hold_with_invalid_text_is_refused(app: App) -> None:
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        headers = _key(app)
        for payload in [
            p
            for bad in BAD_TEXT
            for p in (
                {"kind": "domain", "value": f"held{bad}.example", "reason": "ours", "days": 1},
                {"kind": "domain", "value": "held.example", "reason": f"ours{bad}", "days": 1},
            )
        ]:
            response = client.post("/api/v1/holds", content=_raw_json(payload), headers=headers)
            assert response.status_code == 422, (payload, response.text[:300])
    with app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OpsHold)) == 0


def test_workspace_forms_with_invalid_text_are_refused(web: TestClient, seeded: Seeded) -> None:
    sid = seeded.sighting_ids[2]
    csrf = csrf_of(web.get("/queue").text)
    for bad in ("a\x00b", "\x00"):  # a form cannot carry a surrogate: UTF-8 has none
        _refused_forms(web, sid, csrf, bad)
    assert f'id="item-{sid}"' in web.get("/queue").text  # not decided
    for path in ("/infra/%00", "/infra/a%00b", "/operations/%00", "/reports/operation/x%00"):
        response = web.get(path)
        assert response.status_code in (400, 404, 422), (path, response.status_code)


def _refused_forms(web: TestClient, sid: int, csrf: str, bad: str) -> None:
    decided = web.post(
        f"/queue/{sid}/decision",
        data={"decision": "refer", "csrf": csrf, "note": f"note {bad}"},
        follow_redirects=False,
    )
    assert decided.status_code == 400, decided.text[:300]
    held = web.post(
        "/holds",
        data={"csrf": csrf, "kind": "domain", "value": "held.example", "reason": f"x{bad}"},
        follow_redirects=False,
    )
    assert held.status_code == 400, held.text[:300]


def test_nul_in_api_query_and_path_is_not_a_server_error(app: App) -> None:
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        headers = _key(app)
        for path in (
            "/api/v1/banks/%00",
            "/api/v1/sightings?platform=%00",
            "/api/v1/sightings?operation=a%00",
            "/api/v1/lookup?signal=pdq&value=%00",
        ):
            response = client.get(path, headers=headers)
            assert response.status_code in (400, 404, 422), (path, response.text[:200])


def test_ids_beyond_the_integer_range_are_refused_not_500(app: App, web: TestClient) -> None:
    csrf = csrf_of(web.get("/queue").text)
    for number in HUGE_IDS:
        _huge_id(app, web, csrf, number)


def _huge_id(app: App, web: TestClient, csrf: str, number: int) -> None:
    for path in (f"/material/{number}", f"/media/{number}", f"/material/{number}/timeline.svg"):
        assert web.get(path).status_code in (400, 404, 422), path
    for path, data in (
        (f"/queue/{number}/decision", {"decision": "refer", "csrf": csrf}),
        (
            "/complaints",
            {"csrf": csrf, "sighting_id": str(number), "complainant": "u", "grounds": "g"},
        ),
        (f"/holds/{number}/lift", {"csrf": csrf}),
        (f"/complaints/{number}/decision", {"csrf": csrf, "outcome": "rejected", "reason": "r"}),
    ):
        status = web.post(path, data=data, follow_redirects=False).status_code
        assert status in (303, 400, 404, 422), (path, status)
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        headers = _key(app)
        for method, path, body in (
            ("GET", f"/api/v1/sightings/{number}", None),
            ("GET", f"/api/v1/content/{number}", None),
            ("GET", f"/api/v1/clusters/{number}", None),
            ("GET", f"/api/v1/operations/{number}", None),
            ("GET", f"/api/v1/complaints/{number}", None),
            ("GET", f"/api/v1/sightings?cluster_id={number}", None),
            ("POST", f"/api/v1/holds/{number}/lift", {}),
            (
                "POST",
                "/api/v1/complaints",
                {"sighting_id": number, "complainant": "u", "grounds": "g"},
            ),
        ):
            response = client.request(
                method, path, headers=headers, content=None if body is None else json.dumps(body)
            )
            assert response.status_code in (404, 422), (path, response.text[:200])
