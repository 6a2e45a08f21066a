"""A simulated 48-hour action day: 3 agencies, 2,000+ sightings through the real ingest path,
cross-agency duplicates, a hold, referrals and removal orders through the real state machines;
the report's numbers must equal counts taken independently from the database."""

from __future__ import annotations

import io
import random
import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import distinct, func, select, update

from takedown.app import App
from takedown.ops.complaints import decide, record_complaint
from takedown.ops.holds import add_hold
from takedown.ops.operations import create_operation
from takedown.ops.reports import operation_report, render, transparency_report
from takedown.referrals.machine import apply
from takedown.referrals.models import Referral, ReferralItem
from takedown.referrals.routing import draft
from takedown.store.models import Bank, BankEntry, Content, Match, Sighting
from tests.ops.conftest import ingest, make_agencies

START = datetime.fromisoformat("2026-04-26T06:00:00+00:00")
END = START + timedelta(hours=48)
PLATFORMS = [
    "https://t.me/s/{}/{}",
    "https://www.youtube.com/watch?v={}x{}",
    "https://x.com/{}/status/{}",
    "https://www.facebook.com/{}/posts/{}",
    "https://archive.org/details/{}-{}",
    "https://www.tiktok.com/@{}/video/{}",
    "https://selfhosted-{}.example/item/{}",
]
LANGUAGES = ["ar", "en", "fr", "de", "ru", "ps"]
AGENCIES = ["Alpha", "Bravo", "Charlie"]


def _records(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(1800):
        pattern = PLATFORMS[i % len(PLATFORMS)]
        seen = START + timedelta(seconds=rng.randrange(0, 47 * 3600))
        out.append(
            {
                "url": pattern.format(f"acct{i % 37}", i),
                "reporter": f"unit-{AGENCIES[i % 3].lower()}",
                "language": LANGUAGES[i % len(LANGUAGES)],
                "seen_at": seen.isoformat(),
                **(
                    {"text": f"statement number {i % 250} of outlet {i % 8}"} if i % 10 == 0 else {}
                ),
            }
        )
    # ~15 % re-reported by another agency (same URL, another time)
    for original in rng.sample(out, 300):
        again = dict(original)
        agency = AGENCIES[(AGENCIES.index(original["reporter"][5:].title()) + 1) % 3]
        again["reporter"] = f"unit-{agency.lower()}"
        again["seen_at"] = (
            datetime.fromisoformat(original["seen_at"]) + timedelta(minutes=30)
        ).isoformat()
        out.append(again)
    rng.shuffle(out)
    return out


def _label_some_content(app: App) -> None:
    with app.db.session() as session:
        bank = Bank(name="partner", labels=None)
        session.add(bank)
        session.flush()
        contents = list(session.execute(select(Content.id, Content.sha256).order_by(Content.id)))
        for index, (content_id, sha) in enumerate(contents[:120]):
            entry = BankEntry(
                bank_id=bank.id,
                signal_type="sha256",
                value=sha,
                labels={"outlet": f"outlet-{index % 4}", "taxonomy": "propaganda"},
            )
            session.add(entry)
            session.flush()
            session.add(
                Match(
                    key=f"c{content_id}:sha256:e{entry.id}",
                    content_id=content_id,
                    signal_type="sha256",
                    bank_entry_id=entry.id,
                    distance=0,
                )
            )


def _run_the_day(app: App, tmp_path: Path) -> None:
    rng = random.Random(2017)
    make_agencies(app, *AGENCIES)
    with app.db.session() as session:
        create_operation(
            session, "RAD-48", starts_at=START, ends_at=END, agencies=AGENCIES, labels=["x"]
        )
        add_hold(
            session,
            agency="Charlie",
            kind="domain",
            value="selfhosted-acct5.example",
            reason="open case",
            days=30,
        )
    ingest(app, tmp_path, _records(rng), operation="RAD-48")
    _label_some_content(app)
    draft(app, platform="telegram", kind="removal_order", basis="TCO Art. 3")
    draft(app, basis="terms of service")
    with app.db.session() as session:
        referrals = list(session.scalars(select(Referral).order_by(Referral.id)))
        for n, referral in enumerate(referrals):
            sent_at = START + timedelta(hours=2 + n)
            apply(session, referral, "send", at=sent_at)
            if referral.kind == "removal_order":
                apply(session, referral, "received", at=sent_at + timedelta(minutes=5))
                took = timedelta(minutes=40 if n % 2 == 0 else 130)
                apply(session, referral, "removed", at=sent_at + took)
                continue
            items = list(
                session.scalars(
                    select(ReferralItem.sighting_id).where(ReferralItem.referral_id == referral.id)
                )
            )
            for sid in items:
                if rng.random() < 0.7:
                    gone = sent_at + timedelta(seconds=rng.randrange(60, 40 * 3600))
                    session.execute(
                        update(Sighting)
                        .where(Sighting.id == sid)
                        .values(removed_at=gone, removal_source="check")
                    )
        # a few re-uploads, as the verification feature records them
        later = list(
            session.scalars(
                select(Sighting.id).where(Sighting.removed_at.is_(None)).order_by(Sighting.id)
            )
        )[:25]
        first = session.scalar(select(Sighting.id).where(Sighting.removed_at.is_not(None)))
        session.execute(update(Sighting).where(Sighting.id.in_(later)).values(reupload_of_id=first))
        removed = list(
            session.scalars(
                select(Sighting.id).where(Sighting.removed_at.is_not(None)).order_by(Sighting.id)
            )
        )[:3]
        for index, sid in enumerate(removed):
            complaint = record_complaint(
                session,
                sighting_id=sid,
                complainant=f"provider {index}",
                grounds="journalism",
                received_at=START + timedelta(hours=30),
            )
            if index < 2:
                decide(
                    session,
                    complaint.id,
                    "upheld" if index == 0 else "rejected",
                    reason="reviewed",
                    at=START + timedelta(hours=40),
                )


def test_a_48_hour_action_day_reports_what_the_database_holds(app: App, tmp_path: Path) -> None:
    _run_the_day(app, tmp_path)
    with app.db.session() as session:
        # a platform takes down, on its own, an item that was never referred (held material)
        session.execute(
            update(Sighting)
            .where(
                Sighting.operation == "RAD-48",
                Sighting.registrable_domain == "selfhosted-acct5.example",
            )
            .values(removed_at=END)
        )
    with app.db.session() as session:
        report = operation_report(session, "RAD-48")
        in_op = Sighting.operation == "RAD-48"

        def scalar(query: Any) -> Any:
            return session.scalar(query)

        sightings = scalar(select(func.count()).select_from(Sighting).where(in_op))
        assert sightings >= 2000
        referred_rows = session.execute(
            select(ReferralItem.sighting_id, func.min(Referral.sent_at), Sighting.removed_at)
            .join(Referral, Referral.id == ReferralItem.referral_id)
            .join(Sighting, Sighting.id == ReferralItem.sighting_id)
            .where(in_op, Referral.sent_at.is_not(None))
            .group_by(ReferralItem.sighting_id, Sighting.removed_at)
        ).all()
        times = sorted(
            max((removed - sent).total_seconds(), 0.0)
            for _, sent, removed in referred_rows
            if removed is not None
        )
        expected = {
            "sightings": sightings,
            "items": scalar(select(func.count(distinct(Sighting.canonical_url))).where(in_op)),
            "platforms": scalar(select(func.count(distinct(Sighting.platform_key))).where(in_op)),
            "languages": scalar(select(func.count(distinct(Sighting.language))).where(in_op)),
            "referred": len(referred_rows),
            "removed": len(times),
            "reuploads": scalar(
                select(func.count())
                .select_from(Sighting)
                .where(in_op, Sighting.reupload_of_id.is_not(None))
            ),
        }
        summary = report["summary"]
        assert {k: summary[k] for k in expected} == expected
        assert summary["duplicates_across_agencies"] == sightings - expected["items"]
        assert summary["median_seconds_to_removal"] == pytest.approx(statistics.median(times))
        within = sum(t <= 3600 for t in times) / len(referred_rows)
        assert summary["share_removed_within_1h"] == pytest.approx(within, abs=1e-6)
        # held material was never referred
        held = scalar(
            select(func.count())
            .select_from(ReferralItem)
            .join(Sighting, Sighting.id == ReferralItem.sighting_id)
            .where(Sighting.registrable_domain == "selfhosted-acct5.example")
        )
        assert held == 0
        per_platform = dict(
            session.execute(
                select(Sighting.platform_key, func.count(distinct(Sighting.canonical_url)))
                .where(in_op)
                .group_by(Sighting.platform_key)
            ).all()
        )
        assert {r["key"]: r["items"] for r in report["by_platform"]} == per_platform
        for table in ("by_platform", "by_language"):  # the rows add up to the summary
            rows = report[table]
            assert sum(r["referred"] for r in rows) == summary["referred"]
            assert sum(r["removed"] for r in rows) == summary["removed"]
            assert all(r["share_removed"] is None or r["share_removed"] <= 1 for r in rows)
        assert sum(r["count"] for r in report["by_agency"]) == sightings
        assert report["participants"] == AGENCIES
        outlets = {r["key"] for r in report["by_outlet"]}
        assert outlets and outlets <= {f"outlet-{i}" for i in range(4)}

        session.execute(  # the take-down above was for the operation report only
            update(Sighting)
            .where(
                Sighting.operation == "RAD-48",
                Sighting.registrable_domain == "selfhosted-acct5.example",
            )
            .values(removed_at=None)
        )
        period = transparency_report(session, START, END + timedelta(days=3))
        art8 = period["authority_art8"]
        orders = list(session.scalars(select(Referral).where(Referral.kind == "removal_order")))
        assert art8["removal_orders_issued"] == len(orders) > 0
        assert art8["led_to_removal"] == sum(o.removed_at is not None for o in orders)
        assert art8["removed_within_one_hour"] == sum(o.deadline_met is True for o in orders)
        art7 = period["platform_art7"]
        removed_in_period = scalar(
            select(func.count())
            .select_from(Sighting)
            .where(Sighting.removed_at >= START, Sighting.removed_at < END + timedelta(days=3))
        )
        assert art7["items_removed"] == removed_in_period
        assert (art7["complaints"], art7["complaints_upheld"], art7["complaints_pending"]) == (
            3,
            1,
            1,
        )
        assert art7["reinstatements"] == 1
    pdf = render(report, "pdf")
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Operation report: RAD-48" in text
    assert f"items {expected['items']}" in text.replace("\n", " ")
    assert reader.pages[-1].images or any(page.images for page in reader.pages)  # the charts


def test_html_escapes_every_text(sqlite_app: App, tmp_path: Path) -> None:
    app = sqlite_app
    hostile = "<script>alert(1)</script>\u202e"
    make_agencies(app, "Alpha")
    with app.db.session() as session:
        create_operation(
            session, hostile, starts_at=START, ends_at=END, agencies=["Alpha"], outlets=[hostile]
        )
    ingest(
        app,
        tmp_path,
        [{"url": "https://t.me/s/a/1", "reporter": "unit-alpha", "language": "<img src=x>"}],
        operation=hostile,
    )
    with app.db.session() as session:
        report = operation_report(session, hostile)
    page = render(report, "html").decode()
    assert "<script>" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;" in page and "data:image/png;base64," in page
    pdf = render(report, "pdf")
    assert pdf.startswith(b"%PDF")
