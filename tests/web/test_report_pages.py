"""Report pages of the workspace: the operation report and the transparency report, agency
scoped (another agency gets 404 or its own zero figures), every text escaped, no media."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import update

from takedown.api.app import create_app
from takedown.api.scope import Viewer, visible_ids
from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.ops.agencies import get_agency
from takedown.ops.reports import transparency_report
from takedown.store.models import Sighting
from tests.api.scope_world import OPERATION, OTHER, PASSWORD, REASON, World, build
from tests.api.seed import OWNER
from tests.web.conftest import log_in

REPORT = f"/reports/operation/{quote(OPERATION, safe='')}"


def _only_charts(html: str) -> bool:
    """Every image on a report page is one of its charts (never media)."""
    sources = re.findall(r'<img[^>]* src="([^"]+)"', html)
    return all(src.startswith("/reports/chart/") for src in sources) and html.count("<img") == len(
        sources
    )


def _world(app: App, tmp_path: Path) -> World:
    """The scoping world, with A's first two sightings filed under its operation and removed,
    and one removed sighting of B's own."""
    w = build(app, tmp_path)
    now = datetime.now(UTC)
    source = tmp_path / "other.txt"
    source.write_text("https://x.com/other/status/99\n")
    Ingestor(app).ingest(source, "urls", reporter=OTHER)
    with app.db.session() as session:
        session.execute(
            update(Sighting)
            .where(Sighting.id.in_(w.seeded.sighting_ids[:2]))
            .values(operation=OPERATION, removed_at=now - timedelta(minutes=5))
        )
        session.execute(
            update(Sighting)
            .where(Sighting.url == "https://x.com/other/status/99")
            .values(removed_at=now - timedelta(minutes=5))
        )
    return w


def _cell(html: str, label: str) -> str:
    found = re.search(rf"<td[^>]*>{re.escape(label)}</td><td[^>]*>([^<]*)</td>", html)
    assert found, label
    return found.group(1)


def test_operation_report_page_for_participants_only(app: App, tmp_path: Path) -> None:
    w = _world(app, tmp_path)
    with TestClient(create_app(app)) as client:
        log_in(client, "ana", PASSWORD)
        board = client.get(f"/operations/{quote(OPERATION, safe='')}")
        assert f'href="{REPORT}"' in board.text and 'href="/reports/transparency"' in board.text
        page = client.get(REPORT)
        assert page.status_code == 200
        html = page.text
        assert "Op-Alpha &lt;b&gt;48h&lt;/b&gt;" in html and "<b>48h" not in html
        assert _cell(html, "sightings") == "2" and _cell(html, "removed") == "0"
        assert _cell(html, "participants") == OWNER
        assert "/media/" not in html and _only_charts(html)  # figures only, never media
        assert "SECRET-REASON" not in html  # a hold reason is never part of a report
        assert client.get("/reports/operation/nothing-here").status_code == 404
        client.cookies.clear()
        log_in(client, "olga", PASSWORD)
        hidden = client.get(REPORT)
        assert hidden.status_code == 404
        for marker in w.markers:
            assert marker not in hidden.text


def test_transparency_page_counts_what_the_agency_may_see(app: App, tmp_path: Path) -> None:
    _world(app, tmp_path)
    year = datetime.now(UTC).year
    with app.db.session() as session:
        start = datetime(year, 1, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC)
        everyone = transparency_report(session, start, end)
        other = Viewer(get_agency(session, OTHER).id)
        theirs = transparency_report(session, start, end, visible=visible_ids(session, other))
    assert everyone["platform_art7"]["items_removed"] == 3
    assert theirs["platform_art7"]["items_removed"] == 1
    with TestClient(create_app(app)) as client:
        for user, removed in (("ana", "2"), ("olga", "1")):
            client.cookies.clear()
            log_in(client, user, PASSWORD)
            html = client.get("/reports/transparency").text
            assert _cell(html, "items removed") == removed, user
            assert f'value="{year}-01-01"' in html and f'value="{year + 1}-01-01"' in html
            assert "/media/" not in html and _only_charts(html)
        # olga's page shows B's own platform breakdown and nothing of A's
        assert "x.com/a/status" not in html and "t.me/chan" not in html
        assert REASON not in html
        earlier = client.get(
            "/reports/transparency", params={"from": "2001-01-01", "to": "2002-01-01"}
        )
        assert _cell(earlier.text, "items removed") == "0"
        for bad in ({"from": "2026-02-01", "to": "2026-01-01"}, {"from": "yesterday"}):
            refused = client.get("/reports/transparency", params=bad)
            assert refused.status_code == 200 and "Give the period" in refused.text
            assert "items removed" not in refused.text


def test_report_page_chooses_the_pdf_handling_marking(app: App, tmp_path: Path) -> None:
    from takedown.ops.marking import HANDLING
    from tests.ops.test_report_marking import pdf_pages

    _world(app, tmp_path)
    with TestClient(create_app(app)) as client:
        log_in(client, "ana", PASSWORD)
        html = client.get(REPORT).text
        assert 'name="marking"' in html and f'value="{HANDLING}"' in html
        response = client.get(REPORT, params={"format": "pdf", "marking": "TLP:RED · cell 7"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        pages = pdf_pages(response.content, tmp_path)
        assert pages and all("TLP:RED · cell 7" in p and HANDLING not in p for p in pages)
        default = pdf_pages(client.get(REPORT, params={"format": "pdf"}).content, tmp_path)
        assert default and all(HANDLING in p for p in default)
        for bad in ("", "bell\x07", "x" * 201):
            refused = client.get(REPORT, params={"format": "pdf", "marking": bad})
            assert refused.status_code == 400, bad
            assert "text/html" in refused.headers["content-type"]
            assert "Handling marking" in refused.text
