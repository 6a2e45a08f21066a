"""Charts of the report pages (takedown.web.report_charts): SVG images under the media CSP,
their numbers those of the report the page shows, scoped like the pages (another agency's
operation is 404; the transparency figures count what the user may see), hostile names
escaped, and loaded as images by Chromium."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from takedown.api.app import create_app
from takedown.api.scope import Viewer, visible_ids
from takedown.app import App
from takedown.ops.agencies import get_agency
from takedown.ops.reports import operation_report, transparency_report
from takedown.referrals.machine import ORDER
from takedown.referrals.models import Referral, ReferralItem
from takedown.store.models import Sighting
from takedown.web.views import MEDIA_CSP
from tests.api.scope_world import OPERATION, OTHER, PASSWORD, World, build
from tests.api.seed import OWNER, Seeded
from tests.web.conftest import browser_open_operation_report, log_in
from tests.web.test_browser import page, server  # noqa: F401  (the same fixtures)

PLATFORM = "<script>alert(7)</script>tg"
CHART = "/reports/chart/operation/{}.svg"
NAME = {"name": OPERATION}
SVG = "{http://www.w3.org/2000/svg}"


def _world(app: App, tmp_path: Path) -> World:
    """The scoping world; A's first two sightings are filed under its operation and removed
    five minutes ago; the second one (the only one of them drafted into a referral) was
    referred two hours ago, by a removal order, and its platform key is hostile text."""
    w = build(app, tmp_path)
    now = datetime.now(UTC)
    ids = w.seeded.sighting_ids[:2]
    with app.db.session() as session:
        session.execute(
            update(Sighting)
            .where(Sighting.id.in_(ids))
            .values(operation=OPERATION, removed_at=now - timedelta(minutes=5))
        )
        session.execute(update(Sighting).where(Sighting.id == ids[1]).values(platform_key=PLATFORM))
        referral = session.scalar(
            select(ReferralItem.referral_id).where(ReferralItem.sighting_id == ids[1])
        )
        assert referral is not None, "the seeded telegram sighting is drafted into a referral"
        session.execute(
            update(Referral)
            .where(Referral.id == referral)
            .values(
                kind=ORDER,
                state="sent",
                sent_at=now - timedelta(hours=2),
                removed_at=now - timedelta(minutes=5),
                deadline_met=False,
            )
        )
    return w


def _texts(body: str) -> list[tuple[str, str]]:
    """(text-anchor, text) of every ``<text>`` of the SVG, in order (parsing it as XML)."""
    root = ET.fromstring(body)  # noqa: S314  (our own server's SVG: the point is to parse it)
    return [(t.get("text-anchor", ""), t.text or "") for t in root.iter(f"{SVG}text")]


def _values(body: str) -> dict[str, list[str]]:
    """Each bar label (right-aligned text) with the value texts drawn after it."""
    out: dict[str, list[str]] = {}
    label = None
    for anchor, text in _texts(body):
        if anchor == "end":
            label = text
            out[label] = []
        elif label is not None and anchor == "":
            out[label].append(text)
    return out


def _get_svg(client: TestClient, url: str, **params: Any) -> str:
    response = client.get(url, params=params or None)  # None: keep the URL's own query
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["content-security-policy"] == MEDIA_CSP
    return response.text


def _report(app: App) -> dict[str, Any]:
    with app.db.session() as session:
        return operation_report(session, OPERATION)


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def test_operation_page_links_charts_served_as_images_under_the_media_csp(
    app: App, tmp_path: Path
) -> None:
    _world(app, tmp_path)
    with TestClient(create_app(app)) as client:
        log_in(client, "ana", PASSWORD)
        text = client.get(f"/reports/operation/{quote(OPERATION, safe='')}").text
        images = re.findall(r'<img src="([^"]+)" alt="([^"]+)">', text)
        sources = [html.unescape(src) for src, _alt in images]
        names = [re.search(r"/operation/(\w+)\.svg", src) for src in sources]
        assert {m.group(1) for m in names if m} == {
            "platforms",
            "shares",
            "languages",
            "agencies",
            "removal",
            "time_to_removal",
        }
        assert all(alt.startswith("Bar chart:") for _src, alt in images)
        assert text.count("<figcaption>") == len(images)
        assert "<b>48h" not in text
        for src in sources:
            assert f"?name={quote(OPERATION, safe='')}" in src
            root = ET.fromstring(_get_svg(client, src))  # noqa: S314  (as above)
            assert root.tag == f"{SVG}svg"


def test_operation_chart_numbers_are_the_reports(app: App, tmp_path: Path) -> None:
    _world(app, tmp_path)
    report = _report(app)
    summary = report["summary"]
    assert summary["referred"] == 1 and summary["removed"] == 1, summary
    with TestClient(create_app(app)) as client:
        log_in(client, "ana", PASSWORD)
        platforms = _values(_get_svg(client, CHART.format("platforms"), **NAME))
        assert platforms == {r["key"]: [f"{r['items']:g}"] for r in report["by_platform"]}
        shares = _values(_get_svg(client, CHART.format("shares"), **NAME))
        assert shares == {
            f"{r['key']} (n={r['items']})": [
                _pct(r["referred"] / r["items"]),
                _pct(r["removed"] / r["items"]),
            ]
            for r in report["by_platform"]
        }
        removal = _values(_get_svg(client, CHART.format("removal"), **NAME))
        assert removal == {
            "referred items (n=1)": [
                _pct(summary[k])
                for k in (
                    "share_removed",
                    "share_removed_within_1h",
                    "share_removed_within_24h",
                    "share_removed_within_7d",
                )
            ]
        }
        assert removal["referred items (n=1)"] == ["100%", "0%", "100%", "100%"]
        hours = _values(_get_svg(client, CHART.format("time_to_removal"), **NAME))
        median = round(summary["median_seconds_to_removal"] / 3600, 2)
        assert hours["median"] == [f"{median:g}"] and 1.8 < median < 2.0
        agencies = _values(_get_svg(client, CHART.format("agencies"), **NAME))
        assert agencies == {OWNER: ["2"]}


def test_another_agency_gets_404_for_the_operation_charts(app: App, tmp_path: Path) -> None:
    w = _world(app, tmp_path)
    with TestClient(create_app(app)) as client:
        log_in(client, "olga", PASSWORD)
        for figure in ("platforms", "shares", "removal"):
            hidden = client.get(CHART.format(figure), params=NAME)
            assert hidden.status_code == 404
            assert "svg" not in hidden.headers["content-type"]
            for marker in [*w.markers, "telegram", PLATFORM]:
                assert marker not in hidden.text
        client.cookies.clear()
        log_in(client, "ana", PASSWORD)
        assert client.get(CHART.format("platforms"), params={"name": "nothing"}).status_code == 404


def test_unknown_figure_is_404(app: App, tmp_path: Path) -> None:
    _world(app, tmp_path)
    with TestClient(create_app(app)) as client:
        log_in(client, "ana", PASSWORD)
        for url, params in (
            (CHART.format("nope"), NAME),
            (CHART.format("by_platform"), NAME),
            ("/reports/chart/transparency/nope.svg", {}),
            ("/reports/chart/transparency/platforms.svg", {}),  # an operation figure
        ):
            missing = client.get(url, params=params)
            assert missing.status_code == 404, url
            assert missing.text == "no such chart"


def test_hostile_operation_and_platform_names_are_escaped(app: App, tmp_path: Path) -> None:
    _world(app, tmp_path)
    with TestClient(create_app(app)) as client:
        log_in(client, "ana", PASSWORD)
        for figure in ("platforms", "shares", "languages", "removal"):
            body = _get_svg(client, CHART.format(figure), **NAME)
            assert "<script" not in body and "<b>" not in body
            assert "&lt;b&gt;48h&lt;/b&gt;" in body  # the name is in the title, as text
            texts = [text for _anchor, text in _texts(body)]
            assert any(text.endswith(OPERATION) for text in texts), texts[0]
        labels = _values(_get_svg(client, CHART.format("platforms"), **NAME))
        assert PLATFORM in labels  # drawn as text, the markup inert


def test_transparency_charts_count_what_the_user_may_see(app: App, tmp_path: Path) -> None:
    _world(app, tmp_path)
    year = datetime.now(UTC).year
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    expected = {}
    with app.db.session() as session:
        for user, agency in (("ana", OWNER), ("olga", OTHER)):
            viewer = Viewer(get_agency(session, agency).id)
            expected[user] = transparency_report(
                session, start, end, visible=visible_ids(session, viewer)
            )
    assert expected["ana"]["authority_art8"]["removal_orders_issued"] == 1
    assert expected["olga"]["authority_art8"]["removal_orders_issued"] == 0
    with TestClient(create_app(app)) as client:
        for user, report in expected.items():
            client.cookies.clear()
            log_in(client, user, PASSWORD)
            url = "/reports/chart/transparency/{}.svg"
            orders = _values(_get_svg(client, url.format("orders")))
            art8 = report["authority_art8"]
            assert orders["removal orders issued"] == [f"{art8['removal_orders_issued']}"]
            assert orders["led to removal"] == [f"{art8['led_to_removal']}"]
            removed = _values(_get_svg(client, url.format("removed_by_platform")))
            assert removed == {r["key"]: [str(r["count"])] for r in report["removed_by_platform"]}
            complaints = _values(_get_svg(client, url.format("complaints")))
            assert complaints["complaints"] == [str(report["platform_art7"]["complaints"])]
            text = client.get("/reports/transparency").text
            shown = set(re.findall(r"/reports/chart/transparency/(\w+)\.svg", text))
            assert {"orders", "complaints"} <= shown
            assert ("removal" in shown) == bool(report["referrals"]["referred"]), user
            assert f"?from={year}-01-01&amp;to={year + 1}-01-01" in text
        # olga's charts hold nothing of A's
        assert PLATFORM not in removed and "telegram" not in removed
        earlier = _values(
            _get_svg(
                client,
                url.format("removed_by_platform"),
                **{"from": "2001-01-01", "to": "2002-01-01"},
            )
        )
        assert earlier == {}
        for bad in ({"from": "2026-02-01", "to": "2026-01-01"}, {"from": "yesterday"}):
            assert client.get(url.format("orders"), params=bad).status_code == 400


def test_operation_report_charts_load_in_chromium(server: tuple[str, Seeded], page: Any) -> None:  # noqa: F811
    base, _seeded = server
    tab = page
    browser_open_operation_report(tab, base)
    charts = tab.locator("figure.report-chart img")
    assert charts.count() >= 3
    widths = tab.eval_on_selector_all(
        "figure.report-chart img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.alt])"
    )
    assert all(done and width > 0 and alt for done, width, alt in widths), widths
    assert tab.evaluate("() => window.__pwned === undefined")
    assert not [e for e in tab.errors if "Content Security Policy" in e], tab.errors
