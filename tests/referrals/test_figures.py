from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from takedown.app import App
from takedown.referrals.figures import _quantile, figures
from takedown.referrals.machine import apply
from takedown.referrals.respond import find
from takedown.referrals.routing import draft
from takedown.store.models import Sighting

from .conftest import add_sighting, make_app, platforms_file

T0 = datetime(2026, 2, 1, tzinfo=UTC)
H = 3600.0


@pytest.fixture
def fapp(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path, platforms_file=platforms_file(tmp_path / "p.json", None))
    ids = [
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0", language="en"),
        add_sighting(app, "https://fakevid0.test/v/2", "fakevid0", language="en"),
        add_sighting(app, "https://fakevid0.test/v/3", "fakevid0", language="fr"),
        add_sighting(app, "https://fakevid0.test/v/4", "fakevid0", language="fr"),
    ]
    (voluntary,) = draft(app, platform="fakevid0").drafted
    ids += [
        add_sighting(app, "https://fakevid1.test/v/5", "fakevid1", language="en"),
        add_sighting(app, "https://fakevid1.test/v/6", "fakevid1", language=None),
    ]
    (order,) = draft(app, platform="fakevid1", kind="removal_order").drafted
    add_sighting(app, "https://fakevid2.test/v/7", "fakevid2")
    draft(app, platform="fakevid2")  # drafted, never sent: not counted
    with app.db.session() as session:
        apply(session, find(session, voluntary.reference), "send", at=T0)
        o = find(session, order.reference)
        apply(session, o, "send", at=T0 + timedelta(hours=1))
        apply(session, o, "received", at=T0 + timedelta(hours=1))
        removed = {
            0: T0 + timedelta(minutes=30),
            1: T0 + timedelta(hours=2),
            2: T0 + timedelta(days=3),
            4: T0 + timedelta(hours=1, days=10),
            5: T0 - timedelta(hours=5),
        }
        for index, at in removed.items():
            s = session.get(Sighting, ids[index])
            assert s is not None
            s.removed_at = at
    yield app
    app.close()


def test_figures_per_platform_match_hand_computed_numbers(fapp: App) -> None:
    now = T0 + timedelta(days=30)
    data = figures(fapp, "platform", now)
    groups = {g["key"]: g for g in data["groups"]}
    assert sorted(groups) == ["fakevid0", "fakevid1"]
    g0 = groups["fakevid0"]
    assert (g0["referred"], g0["removed"], g0["share_removed"]) == (4, 3, 0.75)
    assert g0["median_seconds"] == 2 * H
    assert g0["p90_seconds"] == pytest.approx(2 * H + (72 * H - 2 * H) * 0.8)
    assert (g0["share_within_1h"], g0["share_within_24h"], g0["share_within_7d"]) == (
        0.25,
        0.5,
        0.75,
    )
    assert (g0["orders"], g0["orders_missed_deadline"], g0["still_live"]) == (0, 0, 1)
    assert g0["still_live_items"][0]["age_seconds"] == 30 * 24 * H
    g1 = groups["fakevid1"]
    assert (g1["referred"], g1["removed"], g1["share_removed"]) == (2, 2, 1.0)
    assert g1["median_seconds"] == 5 * 24 * H  # (0 + 10 d) / 2: removed before sending is 0
    assert (g1["share_within_1h"], g1["share_within_24h"], g1["share_within_7d"]) == (0.5, 0.5, 0.5)
    assert (g1["orders"], g1["orders_missed_deadline"]) == (1, 1)
    total = data["total"]
    assert (
        total["referred"],
        total["removed"],
        total["orders"],
        total["orders_missed_deadline"],
    ) == (6, 5, 1, 1)


def test_figures_per_language_and_addressee(fapp: App) -> None:
    now = T0 + timedelta(days=30)
    by_language = {g["key"]: g for g in figures(fapp, "language", now)["groups"]}
    assert {k: (g["referred"], g["removed"]) for k, g in by_language.items()} == {
        "en": (3, 3),
        "fr": (2, 1),
        "(none)": (1, 1),
    }
    assert by_language["en"]["median_seconds"] == 2 * H
    by_addressee = {g["key"]: g for g in figures(fapp, "addressee", now)["groups"]}
    assert by_addressee["fakevid1"]["orders_missed_deadline"] == 1


def test_quantile_is_the_standard_inclusive_one() -> None:
    data = [1.0, 5.0, 7.0, 20.0, 21.0]
    deciles = statistics.quantiles(data, n=10, method="inclusive")
    assert _quantile(data, 0.9) == pytest.approx(deciles[8])
    assert _quantile(data, 0.5) == statistics.median(data)
    assert _quantile([], 0.5) is None
