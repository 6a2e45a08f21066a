"""Workspace pages of complaints about removals and of operation assignments: agency scoped
(another agency's complaint is not listed and cannot be decided; another agency's operation
is 404), role checked, CSRF checked, every hostile text inert; on SQLite and PostgreSQL, and
one decision in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.api.app import create_app
from takedown.api.auth import create_user
from takedown.api.models import ApiUser
from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.ops.complaints import record_complaint
from takedown.ops.models import OpsAssignment, OpsComplaint
from takedown.ops.operations import close_operation, create_operation
from takedown.store.models import Sighting
from tests.api.scope_world import OPERATION, OTHER, PASSWORD, World, build
from tests.api.seed import HOSTILE, OWNER
from tests.web.conftest import browser_log_in, csrf_of, log_in
from tests.web.test_browser import page, server  # noqa: F401  (fixtures)

COMPLAINANT = "Uploader <script>window.__pwned=5</script>"
GROUNDS = "satire \u202eexe.txt\u202c <img src=x onerror=window.__pwned=6>"
THEIRS = "Their grounds: OTHER-SECRET"
ASSIGNMENTS = f"/operations/{quote(OPERATION, safe='')}/assignments"


def _world(app: App, tmp_path: Path) -> tuple[World, int, int]:
    """The scoping world, plus users of each role, one complaint about A's removed sighting
    and one about B's own sighting: (world, A's complaint id, B's complaint id)."""
    w = build(app, tmp_path)
    create_user(app, "adam", PASSWORD, agency=OWNER, role="administrator")
    create_user(app, "rita", PASSWORD, agency=OWNER, role="read-only")
    create_user(app, "otto", PASSWORD, agency=OTHER, role="administrator")
    source = tmp_path / "other.txt"
    source.write_text("https://x.com/other/status/99\n")
    Ingestor(app).ingest(source, "urls", reporter=OTHER)
    received = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    with app.db.session() as session:
        mine = record_complaint(
            session,
            sighting_id=w.seeded.sighting_ids[0],
            complainant=COMPLAINANT,
            grounds=GROUNDS,
            received_at=received,
        ).id
        theirs_sighting = session.scalar(
            select(Sighting.id).where(Sighting.url == "https://x.com/other/status/99")
        )
        assert theirs_sighting is not None
        theirs = record_complaint(
            session, sighting_id=theirs_sighting, complainant="Theirs", grounds=THEIRS
        ).id
    return w, mine, theirs


@contextmanager
def _as(app: App, username: str) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as client:
        log_in(client, username, PASSWORD)
        yield client


def _complaint(app: App, complaint_id: int) -> OpsComplaint:
    with app.db.session() as session:
        found = session.get(OpsComplaint, complaint_id)
        assert found is not None
        session.expunge(found)
        return found


def _assignments(app: App) -> dict[str, tuple[list[str], list[str]]]:
    with app.db.session() as session:
        rows = session.execute(
            select(ApiUser.username, OpsAssignment.platforms, OpsAssignment.languages).join(
                ApiUser, ApiUser.id == OpsAssignment.user_id
            )
        )
        return {u: (list(p), list(lang)) for u, p, lang in rows}


def _error(response: Any) -> str:
    assert response.status_code == 303, response.text[:300]
    location = str(response.headers["location"])
    found = re.search(r"[?&]error=([^&]*)", location)
    return unquote(found.group(1)) if found else ""


# -- complaints ---------------------------------------------------------------------------------
def test_complaints_show_the_agencys_own_with_deadline_and_hostile_text_inert(
    app: App, tmp_path: Path
) -> None:
    w, mine, theirs = _world(app, tmp_path)
    with _as(app, "ana") as client:
        html = client.get("/complaints").text
        assert f'id="complaint-{mine}"' in html and f'id="complaint-{theirs}"' not in html
        assert "OTHER-SECRET" not in html and "x.com/other/status/99" not in html
        assert "<script>window.__pwned" not in html and "<img src=x" not in html
        assert "Uploader &lt;script&gt;window.__pwned=5&lt;/script&gt;" in html
        assert "\u202e" not in html and "⟦U+202E⟧" in html  # the override is shown, not obeyed
        assert "2026-11-16T09:30:00" in html  # received 2 November + 14 days
        assert 'class="state">overdue<' in html
        assert f'action="/complaints/{mine}/decision"' in html
        assert 'href="/complaints"' in html  # the nav link
    with _as(app, "olga") as client:
        html = client.get("/complaints").text
        assert f'id="complaint-{theirs}"' in html and f'id="complaint-{mine}"' not in html
        for marker in [*w.markers, "Uploader", "satire"]:
            assert marker not in html, marker


def test_another_agencys_complaint_cannot_be_decided(app: App, tmp_path: Path) -> None:
    _w, mine, _theirs = _world(app, tmp_path)
    with _as(app, "olga") as client:
        csrf = csrf_of(client.get("/complaints").text)
        response = client.post(
            f"/complaints/{mine}/decision",
            data={"csrf": csrf, "outcome": "upheld", "reason": "not ours to decide"},
            follow_redirects=False,
        )
        assert response.status_code == 404
        assert "No such complaint." in response.text and "Uploader" not in response.text
        missing = client.post(
            "/complaints/999999/decision",
            data={"csrf": csrf, "outcome": "upheld", "reason": "x"},
            follow_redirects=False,
        )
        assert missing.status_code == 404 and missing.text == response.text
    assert _complaint(app, mine).decided_at is None


def test_deciding_a_complaint_upholds_it_once_and_shows_the_reason_inert(
    app: App, tmp_path: Path
) -> None:
    _w, mine, _theirs = _world(app, tmp_path)
    reason = "Satire is protected <b>here</b> \u202e"
    with _as(app, "ana") as client:
        csrf = csrf_of(client.get("/complaints").text)
        decided = client.post(
            f"/complaints/{mine}/decision",
            data={"csrf": csrf, "outcome": "upheld", "reason": reason},
            follow_redirects=False,
        )
        assert decided.status_code == 303 and decided.headers["location"] == "/complaints"
        row = _complaint(app, mine)
        assert row.outcome == "upheld" and row.reinstated_at is not None
        assert row.decided_by == "user:ana" and row.decision_reason == reason.strip()
        html = client.get("/complaints").text
        assert 'class="state">upheld<' in html and "reinstated" in html
        assert "Satire is protected &lt;b&gt;here&lt;/b&gt; ⟦U+202E⟧" in html
        assert f'action="/complaints/{mine}/decision"' not in html  # no second form
        again = client.post(
            f"/complaints/{mine}/decision",
            data={"csrf": csrf, "outcome": "rejected", "reason": "changed our mind"},
            follow_redirects=False,
        )
        assert "decided already" in _error(again)
        assert _complaint(app, mine).outcome == "upheld"


def test_a_decision_needs_a_known_outcome_and_a_reason(app: App, tmp_path: Path) -> None:
    _w, mine, _theirs = _world(app, tmp_path)
    with _as(app, "ana") as client:
        csrf = csrf_of(client.get("/complaints").text)
        for data, says in (
            ({"outcome": "maybe", "reason": "x"}, "outcome must be one of"),
            ({"outcome": "rejected", "reason": "   "}, "needs its reason"),
            ({"outcome": "rejected"}, "needs its reason"),
        ):
            response = client.post(
                f"/complaints/{mine}/decision",
                data={"csrf": csrf, **data},
                follow_redirects=False,
            )
            assert says in _error(response), data
            shown = client.get(response.headers["location"])
            assert shown.status_code == 200 and says in shown.text
    assert _complaint(app, mine).decided_at is None


def test_a_read_only_role_sees_complaints_but_cannot_record_or_decide(
    app: App, tmp_path: Path
) -> None:
    w, mine, _theirs = _world(app, tmp_path)
    with _as(app, "rita") as client:
        html = client.get("/complaints").text
        assert f'id="complaint-{mine}"' in html
        assert "decide-complaint" not in html and "add-complaint" not in html
        csrf = csrf_of(html)
        decided = client.post(
            f"/complaints/{mine}/decision",
            data={"csrf": csrf, "outcome": "upheld", "reason": "x"},
            follow_redirects=False,
        )
        assert decided.status_code == 403 and "cannot decide" in decided.text
        recorded = client.post(
            "/complaints",
            data={
                "csrf": csrf,
                "sighting_id": str(w.seeded.sighting_ids[1]),
                "complainant": "c",
                "grounds": "g",
            },
            follow_redirects=False,
        )
        assert recorded.status_code == 403
    assert _complaint(app, mine).decided_at is None
    with app.db.session() as session:
        assert len(session.scalars(select(OpsComplaint)).all()) == 2


def test_complaint_forms_refuse_a_missing_or_wrong_csrf_token(app: App, tmp_path: Path) -> None:
    w, mine, _theirs = _world(app, tmp_path)
    with _as(app, "adam") as client:
        for token in ("wrong", ""):
            decided = client.post(
                f"/complaints/{mine}/decision",
                data={"csrf": token, "outcome": "upheld", "reason": "x"},
                follow_redirects=False,
            )
            assert decided.status_code in (400, 403)
            recorded = client.post(
                "/complaints",
                data={
                    "csrf": token,
                    "sighting_id": str(w.seeded.sighting_ids[1]),
                    "complainant": "c",
                    "grounds": "g",
                },
                follow_redirects=False,
            )
            assert recorded.status_code in (400, 403)
            assigned = client.post(
                ASSIGNMENTS,
                data={"csrf": token, "user": "ana", "platforms": "x"},
                follow_redirects=False,
            )
            assert assigned.status_code in (400, 403)
        wrong = client.post(
            f"/complaints/{mine}/decision",
            data={"csrf": "wrong", "outcome": "upheld", "reason": "x"},
            follow_redirects=False,
        )
        assert wrong.status_code == 403 and "CSRF" in wrong.text
    assert _complaint(app, mine).decided_at is None
    assert _assignments(app) == {}


def test_recording_a_complaint_about_a_visible_item_only(app: App, tmp_path: Path) -> None:
    w, _mine, _theirs = _world(app, tmp_path)
    with app.db.session() as session:
        theirs = session.scalar(
            select(Sighting.id).where(Sighting.url == "https://x.com/other/status/99")
        )
    with _as(app, "ana") as client:
        csrf = csrf_of(client.get("/complaints").text)

        def post(**fields: str) -> Any:
            return client.post(
                "/complaints",
                data={"csrf": csrf, "complainant": "Provider <i>x</i>", "grounds": "g", **fields},
                follow_redirects=False,
            )

        sid = w.seeded.sighting_ids[1]
        done = post(sighting_id=str(sid), received_at="2026-11-20T08:15")
        assert done.status_code == 303 and _error(done) == ""
        assert _error(post(sighting_id=str(theirs))) == f"no sighting {theirs}"
        assert _error(post(sighting_id="987654")) == "no sighting 987654"
        assert "time received" in _error(post(sighting_id=str(sid), received_at="soon"))
        assert "complainant" in _error(post(sighting_id=str(sid), complainant="  "))
        assert post(sighting_id="nope").status_code == 400  # not a number: refused, no 500
        html = client.get("/complaints?open=1").text
        assert "Provider &lt;i&gt;x&lt;/i&gt;" in html and "2026-12-04T08:15:00" in html
    with app.db.session() as session:
        rows = session.scalars(select(OpsComplaint).where(OpsComplaint.sighting_id == sid)).all()
        assert [r.complainant for r in rows] == ["Provider <i>x</i>"]
        assert session.scalar(select(OpsComplaint.id).where(OpsComplaint.grounds == "g"))


# -- assignments --------------------------------------------------------------------------------
def test_assigning_an_analyst_lists_them_with_platforms_and_languages(
    app: App, tmp_path: Path
) -> None:
    _world(app, tmp_path)
    with _as(app, "adam") as client:
        html = client.get(ASSIGNMENTS).text
        assert "Op-Alpha &lt;b&gt;48h&lt;/b&gt;" in html and "<b>48h" not in html
        assert 'class="assign"' in html and '<option value="ana">' in html
        assert '<option value="olga">' not in html  # not of an agency taking part
        csrf = csrf_of(html)
        done = client.post(
            ASSIGNMENTS,
            data={"csrf": csrf, "user": "ana", "platforms": "x, telegram,", "languages": "EN"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == ASSIGNMENTS
        assert _assignments(app) == {"ana": (["x", "telegram"], ["en"])}
        shown = client.get(ASSIGNMENTS).text
        assert re.search(r'<td class="analyst">ana</td>\s*<td>Test IRU</td>', shown)
        assert '<td class="platforms">x, telegram</td>' in shown and "user:adam" in shown
        # again: the lists are replaced
        client.post(ASSIGNMENTS, data={"csrf": csrf, "user": "ana", "languages": "de"})
        assert _assignments(app) == {"ana": ([], ["de"])}
        refused = client.post(
            ASSIGNMENTS,
            data={"csrf": csrf, "user": "olga", "platforms": "x"},
            follow_redirects=False,
        )
        assert _error(refused) == "no user named 'olga' of an agency taking part"
        empty = client.post(
            ASSIGNMENTS, data={"csrf": csrf, "user": "rita"}, follow_redirects=False
        )
        assert "at least one platform or language" in _error(empty)
        assert set(_assignments(app)) == {"ana"}


def test_another_agencys_operation_assignments_are_404(app: App, tmp_path: Path) -> None:
    w, _mine, _theirs = _world(app, tmp_path)
    with _as(app, "otto") as client:
        shown = client.get(ASSIGNMENTS)
        assert shown.status_code == 404 and "No such operation." in shown.text
        csrf = csrf_of(client.get("/complaints").text)
        posted = client.post(
            ASSIGNMENTS,
            data={"csrf": csrf, "user": "otto", "platforms": "x"},
            follow_redirects=False,
        )
        assert posted.status_code == 404
        for response in (shown, posted):
            for marker in w.markers:
                assert marker not in response.text, marker
        assert client.get("/operations/nothing-here/assignments").status_code == 404
    assert _assignments(app) == {}


def test_an_analyst_role_sees_assignments_but_cannot_assign(app: App, tmp_path: Path) -> None:
    _world(app, tmp_path)
    with _as(app, "ana") as client:
        html = client.get(ASSIGNMENTS).text
        assert "No one is assigned yet." in html and 'class="assign"' not in html
        refused = client.post(
            ASSIGNMENTS,
            data={"csrf": csrf_of(html), "user": "ana", "platforms": "x"},
            follow_redirects=False,
        )
        assert refused.status_code == 403 and "cannot assign" in refused.text
    assert _assignments(app) == {}


def test_the_lead_assigns_any_participant_a_participant_only_its_own(
    app: App, tmp_path: Path
) -> None:
    _world(app, tmp_path)
    joint = "Joint / assignments"  # a slash, and a name that ends like the page's path
    now = datetime.now(UTC)
    with app.db.session() as session:
        create_operation(
            session,
            joint,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=5),
            agencies=[OTHER, OWNER],
        )
    path = f"/operations/{quote(joint, safe='')}/assignments"
    with _as(app, "adam") as client:  # A takes part; B leads
        csrf = csrf_of(client.get(path).text)
        theirs = client.post(
            path, data={"csrf": csrf, "user": "olga", "platforms": "x"}, follow_redirects=False
        )
        assert _error(theirs) == "no user named 'olga' of your agency"
        own = client.post(
            path, data={"csrf": csrf, "user": "ana", "platforms": "x"}, follow_redirects=False
        )
        assert own.status_code == 303 and _error(own) == ""
        # the operation named "Joint / assignments" still has its board
        board = client.get(f"/operations/{quote(joint, safe='')}")
        assert board.status_code == 200 and "Operation Joint / assignments" in board.text
    with _as(app, "otto") as client:  # the lead assigns a participant's analyst
        csrf = csrf_of(client.get(path).text)
        client.post(path, data={"csrf": csrf, "user": "rita", "languages": "fr"})
        client.post(path, data={"csrf": csrf, "user": "olga", "languages": "de"})
    assert _assignments(app) == {"ana": (["x"], []), "rita": ([], ["fr"]), "olga": ([], ["de"])}


def test_a_closed_operation_refuses_assignments(app: App, tmp_path: Path) -> None:
    _world(app, tmp_path)
    with _as(app, "adam") as client:
        csrf = csrf_of(client.get(ASSIGNMENTS).text)
        with app.db.session() as session:
            close_operation(session, OPERATION)
        html = client.get(ASSIGNMENTS).text
        assert "this record is frozen" in html and 'class="assign"' not in html
        refused = client.post(
            ASSIGNMENTS,
            data={"csrf": csrf, "user": "ana", "platforms": "x"},
            follow_redirects=False,
        )
        assert "was closed" in _error(refused)
    assert _assignments(app) == {}


# -- in a browser -------------------------------------------------------------------------------
def test_decide_a_complaint_in_chromium(
    sqlite_app: App,
    server: tuple[str, Any],  # noqa: F811
    page: Any,  # noqa: F811
) -> None:
    base, seeded = server
    with sqlite_app.db.session() as session:
        complaint_id = record_complaint(
            session,
            sighting_id=seeded.sighting_ids[0],
            complainant=HOSTILE[0],
            grounds=GROUNDS,
        ).id
    tab = page
    browser_log_in(tab, base)
    tab.click("nav >> text=Complaints")
    tab.wait_for_url(f"{base}/complaints")
    row = tab.locator(f"#complaint-{complaint_id}")
    assert row.locator("td.state").inner_text() == "open"
    assert "<script>" in row.inner_text()  # shown as text, not run
    row.locator("select[name=outcome]").select_option("rejected")
    row.locator("input[name=reason]").fill("Not satire: <b>kept down</b>")
    row.locator("button[type=submit]").click()
    tab.wait_for_url(f"{base}/complaints")
    row = tab.locator(f"#complaint-{complaint_id}")
    assert row.locator("td.state").inner_text() == "rejected"
    assert "Not satire: <b>kept down</b>" in row.locator("td.decision").inner_text()
    assert row.locator("form").count() == 0
    assert tab.evaluate("() => window.__pwned === undefined")
    assert not [e for e in tab.errors if "Content Security Policy" in e], tab.errors
