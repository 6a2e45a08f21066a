"""The dashboard's headline figures, per-platform table (worst shares flagged), period and
operation filters; charts keep the worst performers; human units."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from takedown.app import App
from takedown.store.models import Sighting
from takedown.web.figures import WORST_KEPT, keep_worst
from takedown.web.humane import countdown, duration, language, percent
from tests.api.seed import Seeded
from tests.web.queue_data import add_open_items


def test_headline_table_and_filters(app: App, web: TestClient, seeded: Seeded) -> None:
    ids = add_open_items(app, 4, prefix="dash", operation="Op Dash", platform="silent")
    with app.db.session() as session:
        session.execute(
            update(Sighting)
            .where(Sighting.id == seeded.sighting_ids[0])
            .values(removed_at=datetime(2026, 11, 1, 15, 12, tzinfo=UTC))
        )
    html = web.get("/dashboard").text
    total = len(seeded.sighting_ids) + len(ids)
    assert f'<strong class="h-items">{total}</strong>' in html
    assert f'<strong class="h-live">{total - 1}</strong>' in html
    assert "3 h 12 min" in html  # seen 12:00, removed 15:12
    silent = re.search(r'<tr class="platform-row([^"]*)">\s*<td>.*?silent', html, re.S)
    assert silent is not None and "worst" in silent.group(1)
    assert 'class="num share" data-value="0.0">0.0 %' in html
    only = web.get("/dashboard", params={"operation": "Op Dash"}).text
    assert '<strong class="h-items">4</strong>' in only
    assert "/dashboard/items_by_platform.svg?operation=Op+Dash" in only
    chart = web.get("/dashboard/items_by_platform.csv", params={"operation": "Op Dash"}).text
    assert chart.strip().splitlines() == ["platform,items", "silent,4"]
    later = web.get("/dashboard", params={"since": "2026-11-19", "until": "2026-11-20"}).text
    assert '<strong class="h-items">4</strong>' in later  # the added items were seen Nov 20


def test_charts_keep_the_worst_performers() -> None:
    rows = [[f"p{i}", 100 - i, 0.9, 0.9, 0.9 if i != 17 else 0.0] for i in range(30)]
    kept = keep_worst(rows, 4)
    assert len(kept) == 12 and ["p17", 83, 0.9, 0.9, 0.0] in kept
    assert kept[: 12 - WORST_KEPT] == rows[: 12 - WORST_KEPT]


def test_human_units() -> None:
    assert duration(3 * 3600 + 12 * 60) == "3 h 12 min"
    assert duration(90_000) == "1 d 1 h" and duration(42) == "42 s" and duration(None) == "—"
    assert percent(0.8946) == "89.5 %" and percent(float("nan")) == "—"
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert countdown(now + timedelta(minutes=50), now) == "in 50 min"
    assert countdown(now - timedelta(hours=2), now) == "overdue by 2 h"
    assert language("ar") == "Arabic (ar)" and language("ps-AF") == "Pashto (ps-AF)"
    assert language("zz") == "zz"


@given(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(), st.none()))
def test_duration_never_raises(value: object) -> None:
    text = duration(value)
    assert text == "—" or re.fullmatch(r"−?\d+ (d|h|min|s)( \d+ (h|min))?", text)
