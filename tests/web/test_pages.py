"""The workspace over HTTP: sessions, CSRF, headers, decisions, inert hostile text, charts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.api.app import create_app
from takedown.api.models import ApiReviewDecision
from takedown.app import App
from takedown.web.text import inert
from tests.api.seed import HOSTILE, OWNER, Seeded
from tests.web.conftest import PASSWORD, csrf_of, log_in

PAGES = [
    "/queue",
    "/material/{cluster}",
    "/referrals",
    "/dashboard",
    "/operations",
    "/holds",
    "/infra",
]


def test_login_sets_a_strict_http_only_cookie(app: App, seeded: Seeded) -> None:
    with TestClient(create_app(app)) as client:
        cookie = log_in(client)
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert client.get("/queue").status_code == 200
        csrf = csrf_of(client.get("/queue").text)
        client.post("/logout", data={"csrf": csrf})
        assert client.get("/queue", follow_redirects=False).status_code == 303


def test_login_refuses_wrong_password_and_missing_csrf(app: App, seeded: Seeded) -> None:
    with TestClient(create_app(app)) as client:
        token = csrf_of(client.get("/login").text)
        wrong = client.post(
            "/login",
            data={"username": "ana", "password": "nope", "csrf": token},
            follow_redirects=False,
        )
        assert wrong.headers["location"] == "/login?error=1"
        forged = client.post(
            "/login",
            data={"username": "ana", "password": PASSWORD, "csrf": "forged"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert "td_session" not in client.cookies


def test_every_page_sends_a_strict_csp(web: TestClient, seeded: Seeded) -> None:
    for template in PAGES:
        response = web.get(template.format(cluster=seeded.cluster_id))
        assert response.status_code == 200, template
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text.replace('<script src="/static/takedown.js"', "")
        assert not re.search(r"<[a-z][^>]*\son[a-z]+=", response.text), template


def test_media_is_served_inert(web: TestClient, seeded: Seeded) -> None:
    queue = web.get("/queue").text
    content_id = re.search(r'src="/media/(\d+)"', queue)
    assert content_id
    media = web.get(f"/media/{content_id.group(1)}")
    assert media.status_code == 200
    assert media.headers["content-type"] == "image/png"
    assert media.headers["x-content-type-options"] == "nosniff"
    assert media.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in media.headers["content-security-policy"]
    assert 'class="media blurred"' in queue


def test_decisions_need_csrf_and_are_recorded(app: App, web: TestClient, seeded: Seeded) -> None:
    sid = seeded.sighting_ids[2]
    missing = web.post(f"/queue/{sid}/decision", data={"decision": "refer"})
    assert missing.status_code in (400, 403, 422)
    forged = web.post(f"/queue/{sid}/decision", data={"decision": "refer", "csrf": "x"})
    assert forged.status_code == 403
    csrf = csrf_of(web.get("/queue").text)
    assert f'id="item-{sid}"' in web.get("/queue").text
    done = web.post(
        f"/queue/{sid}/decision",
        data={"decision": "second_review", "csrf": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = web.get("/queue").text
    assert f'id="item-{sid}"' in page and "second review asked by ana" in page
    alone = web.post(f"/queue/{sid}/decision", data={"decision": "refer", "csrf": csrf})
    assert alone.status_code == 409  # the one who asked for a second reviewer cannot close it
    with TestClient(create_app(app)) as second:
        log_in(second, "ben")
        token = csrf_of(second.get("/queue").text)
        second.post(
            f"/queue/{sid}/decision", data={"decision": "refer", "csrf": token, "note": "n"}
        )
        assert f'id="item-{sid}"' not in second.get("/queue").text
    with app.db.session() as session:
        decisions = list(
            session.scalars(select(ApiReviewDecision.decision).order_by(ApiReviewDecision.id))
        )
    assert decisions == ["second_review", "refer"]
    board = web.get("/referrals").text
    assert f"#{sid}" in board
    material = web.get(f"/material/{seeded.cluster_id}").text
    assert "Refer" in material


def test_queue_puts_known_reuploaded_material_first(web: TestClient, seeded: Seeded) -> None:
    order = [
        int(i) for i in re.findall(r'<li class="item" id="item-(\d+)"', web.get("/queue").text)
    ]
    # the re-upload of known material (id 3), then the known copy with reach (id 2)
    assert order[:3] == [seeded.sighting_ids[2], seeded.sighting_ids[1], seeded.sighting_ids[0]]


def test_hostile_text_is_inert_on_every_page(web: TestClient, seeded: Seeded) -> None:
    for template in PAGES:
        html = web.get(template.format(cluster=seeded.cluster_id)).text
        assert "<script>window" not in html and "<img src=x" not in html
        for mark in ("\u202e", "\u202c", "\u2066", "\u2069", "\u200f"):
            assert mark not in html, (template, hex(ord(mark)))
        assert "A" * 5000 not in html
    queue = web.get("/queue").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in queue
    assert "⟦U+202E⟧exe.txt" in queue
    assert "more characters not shown" in queue


@pytest.mark.parametrize("text", [*HOSTILE, "\ud800 lone surrogate", "\x00\x07\x1b[31m"])
def test_inert_shows_controls_and_bounds_length(text: str) -> None:
    out = inert(text, 100)
    assert len(out) < 100 * 12 + 60
    assert not any(ch in out for ch in "\u202e\u202c\u2066\u2069\u200f\x00\x07\x1b\ud800")


def test_dashboard_charts_are_svg_with_csv(web: TestClient, seeded: Seeded) -> None:
    page = web.get("/dashboard").text
    names = re.findall(r'src="/dashboard/([a-z_]+)\.svg"', page)
    assert {"time_to_removal", "removed_within", "removal_survival", "reuploads"} <= set(names)
    for name in names:
        chart = web.get(f"/dashboard/{name}.svg")
        assert chart.headers["content-type"].startswith("image/svg+xml")
        assert chart.text.startswith("<svg") and "<script" not in chart.text
        assert "sandbox" in chart.headers["content-security-policy"]
        table = web.get(f"/dashboard/{name}.csv")
        assert table.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
        assert len(table.text.splitlines()) >= 1
    removal = web.get("/dashboard/time_to_removal.csv").text.splitlines()
    assert removal[0].startswith("platform,removed,p10_h")
    assert removal[1].startswith("x,1,3.0")
    survival = web.get("/dashboard/removal_survival.svg").text
    assert 'class="curve"' in survival
    assert web.get("/dashboard/nope.svg").status_code == 404


def test_material_page_shows_copies_on_a_timeline(web: TestClient, seeded: Seeded) -> None:
    page = web.get(f"/material/{seeded.cluster_id}").text
    assert page.count('<tr class="copy') == 3
    assert 'class="copy removed"' in page and 'class="copy reupload"' in page
    timeline = web.get(f"/material/{seeded.cluster_id}/timeline.svg").text
    assert timeline.count('class="copy') == 4  # 3 copies + 1 removal mark
    assert "Not found" in web.get("/material/999999").text


def test_sending_decided_referrals_needs_csrf_and_a_role_that_may_refer(
    app: App, web: TestClient, seeded: Seeded
) -> None:
    from takedown.api.auth import create_user
    from takedown.referrals.models import Referral, ReferralItem

    sid = seeded.sighting_ids[2]
    csrf = csrf_of(web.get("/queue").text)
    web.post(f"/queue/{sid}/decision", data={"decision": "refer", "csrf": csrf})
    assert web.post("/referrals/send", data={"csrf": "forged"}).status_code == 403
    create_user(app, "rita", PASSWORD, agency=OWNER, role="read-only")
    with TestClient(create_app(app)) as viewer:
        log_in(viewer, "rita")
        token = csrf_of(viewer.get("/referrals").text)
        assert viewer.post("/referrals/send", data={"csrf": token}).status_code == 403
    sent = web.post("/referrals/send", data={"csrf": csrf, "order": "yes"}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/referrals?sent=1"
    with app.db.session() as session:
        items = list(session.scalars(select(ReferralItem.sighting_id)))
        kinds = list(session.scalars(select(Referral.kind)))
    assert items == [sid]  # only the decided item, not everything pending
    assert kinds == ["removal_order"]
    board = web.get("/referrals").text
    assert "removal order" in board and 'class="referral' in board
    again = web.post("/referrals/send", data={"csrf": csrf}, follow_redirects=False)
    assert again.headers["location"] == "/referrals?sent=0"  # nothing referred twice


def test_a_page_request_reads_the_web_session_once(
    app: App, web: TestClient, seeded: Seeded
) -> None:
    """The middleware looks the session up for the audit actor; the page reuses that user."""
    from sqlalchemy import event

    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "api_web_session" in statement:
            reads.append(statement)

    event.listen(app.db.engine, "before_cursor_execute", count)
    try:
        response = web.get("/queue")
    finally:
        event.remove(app.db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert len(reads) == 1
    # a stale cookie is still refused (the cached lookup is the cookie's own: None)
    web.cookies.clear()
    web.cookies.set("td_session", "forged-token")
    assert web.get("/queue", follow_redirects=False).status_code in (303, 401)
