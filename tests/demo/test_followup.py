"""The demo end to end: generate, ingest, match, refer to local fake platforms, take their
signed answers through the API, verify, catch re-uploads; figures equal the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from takedown.app import App
from takedown.cli import main
from takedown.config import Settings
from takedown.referrals.models import Referral, ReferralEvent, ReferralItem
from takedown.store.models import Sighting
from takedown.verify.models import VerifyCheck


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    data = tmp_path_factory.mktemp("demo-data")
    result = CliRunner().invoke(
        main, ["--data", str(data), "demo", "--sightings", "150", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return data, json.loads(result.stdout)


def test_every_routed_sighting_is_referred_and_the_figures_equal_the_database(
    day: tuple[Path, dict[str, Any]],
) -> None:
    data, out = day
    follow = out["followup"]
    assert follow["sent"] == follow["referrals"] + follow["orders"] > 0
    assert follow["failed"] == 0
    app = App(Settings(data=data))
    try:
        with app.db.session() as session:
            referred = session.scalar(select(func.count(func.distinct(ReferralItem.sighting_id))))
            removed = session.scalar(
                select(func.count(func.distinct(Sighting.id)))
                .join(ReferralItem, ReferralItem.sighting_id == Sighting.id)
                .where(Sighting.removed_at.is_not(None))
            )
            unsent = session.scalar(
                select(func.count()).where(Referral.state.in_(("drafted", "issued")))
            )
            orders = session.scalar(select(func.count()).where(Referral.kind == "removal_order"))
            callbacks = session.scalar(
                select(func.count()).where(ReferralEvent.source == "callback")
            )
            checks = session.scalar(select(func.count(VerifyCheck.id)))
    finally:
        app.close()
    total = out["figures"]["total"]
    assert total["referred"] == referred
    assert total["removed"] == removed
    assert 0 < removed < referred  # some platforms ignore their referrals
    assert unsent == 0
    assert orders == follow["orders"] == total["orders"]
    assert callbacks and callbacks > 0  # answers came through the API, signed and keyed
    outlet_checks = sum(out["outlet_takedown"]["checks"].values())
    assert checks == sum(follow["checks"].values()) + sum(follow["rechecks"].values()) + (
        outlet_checks
    )
    assert follow["checks"].get("live", 0) > 0  # the ignored items are still online


def test_reuploads_after_removal_are_flagged_and_referred_at_once(
    day: tuple[Path, dict[str, Any]],
) -> None:
    data, out = day
    follow = out["followup"]
    app = App(Settings(data=data))
    try:
        with app.db.session() as session:
            flagged = list(
                session.execute(
                    select(Sighting.id, Sighting.reupload_gap_seconds).where(
                        Sighting.reupload_of_id.is_not(None)
                    )
                )
            )
            referred = session.scalar(
                select(func.count())
                .select_from(ReferralItem)
                .join(Sighting, Sighting.id == ReferralItem.sighting_id)
                .where(Sighting.reupload_of_id.is_not(None))
            )
    finally:
        app.close()
    assert follow["reuploads_found"] > 0
    assert len(flagged) == follow["reuploads_found"]
    assert all(gap is not None and gap >= 0 for _sid, gap in flagged)
    assert referred == len(flagged)


def test_the_demo_settings_route_only_the_synthetic_hosts_to_loopback(
    day: tuple[Path, dict[str, Any]],
) -> None:
    data, _out = day
    settings = json.loads((data / "demo-followup" / "settings.json").read_text())
    for entry in settings["TAKEDOWN_VERIFY_HOST_MAP"].split(","):
        _host, _, target = entry.partition("=")
        assert target.startswith("127.0.0.1:")
    overrides = json.loads((data / "demo-followup" / "platform-overrides.json").read_text())
    assert all(p["referral"]["api"].startswith("http://127.0.0.1:") for p in overrides["platforms"])
    assert not Settings(data=data).verify_host_map  # nothing persists outside the demo


def test_the_operation_report_equals_counts_taken_from_the_database(
    day: tuple[Path, dict[str, Any]],
) -> None:
    from takedown.ops.models import OpsSightingLink
    from takedown.referrals.models import Referral

    data, out = day
    report = out["operation_report"]
    summary = report["summary"]
    name = report["operation"]
    app = App(Settings(data=data))
    try:
        with app.db.session() as session:
            of_day = Sighting.operation == name
            sightings = session.scalar(select(func.count()).where(of_day))
            items = session.scalar(
                select(func.count(func.distinct(OpsSightingLink.primary_id)))
                .join(Sighting, Sighting.id == OpsSightingLink.sighting_id)
                .where(of_day)
            )
            platforms = session.scalar(
                select(func.count(func.distinct(Sighting.platform_key))).where(of_day)
            )
            languages = session.scalar(
                select(func.count(func.distinct(Sighting.language))).where(
                    of_day, Sighting.language.is_not(None)
                )
            )
            sent_items = (
                select(ReferralItem.sighting_id)
                .join(Referral, Referral.id == ReferralItem.referral_id)
                .join(Sighting, Sighting.id == ReferralItem.sighting_id)
                .where(Referral.sent_at.is_not(None), of_day)
            )
            referred = session.scalar(
                select(func.count(func.distinct(sent_items.subquery().c.sighting_id)))
            )
            removed = session.scalar(
                select(func.count(func.distinct(Sighting.id))).where(
                    Sighting.id.in_(sent_items), Sighting.removed_at.is_not(None)
                )
            )
            reuploads = session.scalar(
                select(func.count()).where(of_day, Sighting.reupload_of_id.is_not(None))
            )
    finally:
        app.close()
    assert len(report["participants"]) == 3
    assert summary["sightings"] == sightings
    assert summary["items"] == items < sightings  # the same URL from two agencies is one item
    assert summary["duplicates_across_agencies"] == sightings - items
    assert summary["platforms"] == platforms
    assert summary["languages"] == languages
    assert summary["referred"] == referred
    assert summary["removed"] == removed
    assert summary["reuploads"] == reuploads
    for fmt in ("json", "html", "pdf"):
        assert (data / "reports" / f"operation-report.{fmt}").stat().st_size > 0
