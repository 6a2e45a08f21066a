"""The workspace's holds form sets a PDQ hold's distance (0..63, default 31; over 31 only a
coordinator's wide hold: #20), on SQLite and PostgreSQL; other kinds of hold take none."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.app import App
from takedown.ops.models import OpsHold
from tests.web.conftest import csrf_of

PDQ = "pdq:" + "ab" * 32


def _add(web: TestClient, **fields: str) -> str:
    csrf = csrf_of(web.get("/holds").text)
    response = web.post(
        "/holds", data={"csrf": csrf, "reason": "ours", **fields}, follow_redirects=False
    )
    assert response.status_code in (303, 400), response.text[:300]
    return response.headers.get("location", str(response.status_code))


def _distances(app: App) -> dict[str, int | None]:
    with app.db.session() as session:
        return {h.value: h.max_distance for h in session.scalars(select(OpsHold))}


def test_the_form_offers_the_distance_with_its_default(web: TestClient) -> None:
    page = web.get("/holds").text
    assert 'name="max_distance" type="number" min="0" max="63" value="31"' in page


def test_a_pdq_hold_keeps_the_distance_given_or_31(app: App, web: TestClient) -> None:
    assert _add(web, kind="signal", value=PDQ, max_distance="12") == "/holds"
    other = "pdq:" + "cd" * 32
    assert _add(web, kind="signal", value=other) == "/holds"
    # the form sends its default along with a domain hold: it is not applied there
    assert _add(web, kind="domain", value="held.example", max_distance="31") == "/holds"
    assert _distances(app) == {PDQ: 12, other: 31, "held.example": None}


def test_a_distance_outside_0_to_128_is_refused(app: App, web: TestClient) -> None:
    for bad in ("129", "-1", "x"):
        assert _add(web, kind="signal", value=PDQ, max_distance=bad) == "400"
    # an analyst's hold stays narrow; over 63 no one may
    # refused: the form comes back (400) with the error and what was typed
    assert _add(web, kind="signal", value=PDQ, max_distance="32") == "400"
    assert _add(web, kind="signal", value=PDQ, max_distance="128") == "400"
    assert _add(web, kind="signal", value=PDQ, max_distance="31") == "/holds"
    assert _add(web, kind="signal", value="pdq:" + "ef" * 32, max_distance="0") == "/holds"
    assert _distances(app) == {PDQ: 31, "pdq:" + "ef" * 32: 0}
