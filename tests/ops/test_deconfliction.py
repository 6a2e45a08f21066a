"""Deconfliction: two agencies, one hold, one blocked referral, one notification; the reason
never reaches the other agency."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from takedown.app import App
from takedown.cli import main
from takedown.ops.agencies import OpsError, get_agency
from takedown.ops.hold_checks import check, check_referral, notifications
from takedown.ops.holds import add_hold, lift_hold, list_holds
from takedown.ops.models import OpsHold, OpsHoldHit
from takedown.ops.operations import create_operation
from takedown.ops.reports import operation_report, render
from takedown.referrals.models import ReferralItem
from takedown.referrals.routing import draft
from takedown.store.models import Bank, BankEntry, Content, Match, Sighting, utcnow
from tests.ops.conftest import ingest, make_agencies, record

REASON = "Operation NIGHTJAR: covert account, arrest planned"


def _setup(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo")
    now = utcnow()
    with app.db.session() as session:
        create_operation(
            session,
            "day",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=47),
            agencies=["Alpha", "Bravo"],
        )
        add_hold(
            session,
            agency="Alpha",
            kind="url",
            value="https://t.me/s/heldchannel/7",
            reason=REASON,
            days=7,
        )
    ingest(
        app,
        tmp_path,
        [
            record("https://t.me/s/heldchannel/7", "unit-bravo", "ar"),
            record("https://t.me/s/otherchannel/1", "unit-bravo", "ar"),
        ],
        operation="day",
    )


def test_one_hold_blocks_one_referral_and_notifies_its_owner(app: App, tmp_path: Path) -> None:
    _setup(app, tmp_path)
    with app.db.session() as session:
        bravo = get_agency(session, "Bravo").id
        held_id = session.scalar(
            select(Sighting.id).where(Sighting.url == "https://t.me/s/heldchannel/7")
        )
    routed = draft(app, actor="bravo-analyst", agency_id=bravo)
    assert routed.blocked == {held_id: "deconfliction hit: contact Alpha"}
    assert len(routed.drafted) == 1
    with app.db.session() as session:
        referred = set(session.scalars(select(ReferralItem.sighting_id)))
        assert held_id not in referred and len(referred) == 1
        hits = notifications(session, "Alpha")
        assert len(hits) == 1
        assert hits[0]["sighting_id"] == held_id and hits[0]["requester"] == "Bravo"
        assert hits[0]["reason"] == REASON  # the owner sees its own reason
        assert notifications(session, "Bravo") == []
        # a second attempt is counted on the same notification, not a new one
    draft(app, actor="bravo-analyst", agency_id=bravo)
    with app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OpsHoldHit)) == 1
        assert session.scalar(select(OpsHoldHit.attempts)) == 2


def test_the_owner_may_refer_its_own_held_item(app: App, tmp_path: Path) -> None:
    _setup(app, tmp_path)
    with app.db.session() as session:
        alpha = get_agency(session, "Alpha").id
    routed = draft(app, agency_id=alpha)
    assert routed.blocked == {}
    with app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReferralItem)) == 2


def test_the_reason_never_reaches_the_other_agency(app: App, tmp_path: Path) -> None:
    _setup(app, tmp_path)
    with app.db.session() as session:
        bravo = get_agency(session, "Bravo").id
    outputs: list[str] = []
    routed = draft(app, agency_id=bravo)
    outputs += list(routed.blocked.values())
    with app.db.session() as session:
        outputs.append(json.dumps(list_holds(session, "Bravo", all_states=True)))
        outputs.append(json.dumps(notifications(session, "Bravo")))
        hold_id = session.scalar(select(OpsHold.id))
        assert hold_id is not None
        with pytest.raises(OpsError) as refused:
            lift_hold(session, hold_id, agency="Bravo")
        outputs.append(str(refused.value))
        report = operation_report(session, "day")
    for fmt in ("json", "html"):
        outputs.append(render(report, fmt).decode())
    # the command line, as Bravo's analyst would use it
    runner = CliRunner()
    env = {"TAKEDOWN_DATABASE_URL": app.settings.resolved_database_url}
    data = ["--data", str(app.settings.data)]
    for args in (
        ["hold", "list", "--agency", "Bravo", "--all", "--json"],
        ["hold", "hits", "--agency", "Bravo", "--json"],
        ["hold", "lift", str(hold_id), "--agency", "Bravo", "--json"],
        ["refer", "--agency", "Bravo", "--json"],
        ["report", "operation", "day", "--format", "json"],
    ):
        result = runner.invoke(main, [*data, *args], env=env)
        outputs.append(result.output + str(result.exception or ""))
        if args[0] == "refer":
            blocked = json.loads(result.output)["blocked"]
            assert [b["message"] for b in blocked] == ["deconfliction hit: contact Alpha"]
    joined = "\n".join(outputs)
    assert "contact Alpha" in joined
    for secret in (REASON, "NIGHTJAR", "arrest"):
        assert secret not in joined


def test_a_hold_placed_after_drafting_blocks_the_drafted_item(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo")
    ingest(app, tmp_path, [record("https://t.me/s/c/9", "unit-bravo")])
    routed = draft(app)
    with app.db.session() as session:
        add_hold(
            session, agency="Alpha", kind="url", value="https://t.me/s/c/9", reason="r", days=1
        )
        blocked = check_referral(session, routed.drafted[0].id, actor="sender")
        assert [b.message for b in blocked.values()] == ["deconfliction hit: contact Alpha"]
        assert len(notifications(session, "Alpha")) == 1


def test_holds_on_domains_signals_and_labels(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo")
    ingest(
        app,
        tmp_path,
        [
            record("https://www.shady.example/a", "unit-bravo"),
            record("https://t.me/s/c/1", "unit-bravo"),
        ],
    )
    with app.db.session() as session:
        add_hold(session, agency="Alpha", kind="domain", value="shady.example", reason="r", days=1)
        sightings = list(session.scalars(select(Sighting).order_by(Sighting.id)))
        blocked = check(session, sightings, agency_id=get_agency(session, "Bravo").id)
        assert set(blocked) == {sightings[0].id}
        with pytest.raises(OpsError):
            add_hold(session, agency="Alpha", kind="signal", value="nocolon", reason="r", days=1)
        with pytest.raises(OpsError):
            add_hold(session, agency="Alpha", kind="url", value="x", reason="", days=1)
        with pytest.raises(OpsError):
            add_hold(session, agency="Alpha", kind="domain", value="a.example", reason="r", days=0)


def test_holds_on_signals_and_labels_match_content(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo")
    ingest(
        app,
        tmp_path,
        [
            {**record("https://t.me/s/c/1", "unit-bravo"), "text": "statement one"},
            {**record("https://t.me/s/c/2", "unit-bravo"), "text": "statement two"},
            record("https://t.me/s/c/3", "unit-bravo"),
        ],
    )
    with app.db.session() as session:
        sightings = list(session.scalars(select(Sighting).order_by(Sighting.id)))
        one, two = (session.get(Content, s.content_id) for s in sightings[:2])
        assert one is not None and two is not None
        bank = Bank(name="partner")
        session.add(bank)
        session.flush()
        entry = BankEntry(
            bank_id=bank.id, signal_type="sha256", value=two.sha256, labels={"outlet": "x"}
        )
        session.add(entry)
        session.flush()
        session.add(
            Match(
                key=f"c{two.id}:sha256:e{entry.id}",
                content_id=two.id,
                signal_type="sha256",
                bank_entry_id=entry.id,
                distance=0,
            )
        )
        add_hold(
            session, agency="Alpha", kind="signal", value=f"sha256:{one.sha256}", reason="r", days=1
        )
        # a label hold is a wide hold: a coordinator's, within an operation (#20)
        day = utcnow()
        create_operation(
            session, "day", starts_at=day, ends_at=day + timedelta(hours=1), agencies=["Alpha"]
        )
        add_hold(
            session,
            agency="Alpha",
            kind="label",
            value="outlet:x",
            reason="r",
            days=1,
            may_hold_wide=True,
            operation="day",
        )
        blocked = check(session, sightings, record_hits=False)
        assert set(blocked) == {sightings[0].id, sightings[1].id}


def test_expiry_and_lifting_are_recorded(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo")
    ingest(app, tmp_path, [record("https://t.me/s/c/1", "unit-bravo")])
    now = utcnow()
    with app.db.session() as session:
        item = "https://t.me/s/c/1"  # (a hold on all of t.me is a wide hold: #20)
        short = add_hold(session, agency="Alpha", kind="url", value=item, reason="r", days=1)
        lifted = add_hold(session, agency="Alpha", kind="url", value=item, reason="r", days=2)
        sightings = list(session.scalars(select(Sighting)))
        assert check(session, sightings, record_hits=False)
        lift_hold(session, lifted.id, agency="Alpha", actor="alpha-lead")
        later = now + timedelta(days=1, minutes=1)
        assert check(session, sightings, record_hits=False, now=later) == {}
        states = {h["id"]: h for h in list_holds(session, "Alpha", all_states=True)}
        assert states[short.id]["state"] == "expired" and states[short.id]["expired_at"]
        assert states[lifted.id]["state"] == "lifted"
        assert states[lifted.id]["lifted_by"] == "alpha-lead"
        assert list_holds(session, "Alpha") == []


def test_the_sender_does_not_send_a_referral_held_after_drafting(app: App, tmp_path: Path) -> None:
    from takedown.referrals.models import Referral, ReferralDelivery
    from takedown.referrals.outbox import queue, send_due

    make_agencies(app, "Alpha", "Bravo")
    ingest(app, tmp_path, [record("https://t.me/s/c/10", "unit-bravo")])
    routed = draft(app, actor="unit-bravo")
    queue(app, [r.reference for r in routed.drafted], channel="file")
    with app.db.session() as session:
        add_hold(
            session, agency="Alpha", kind="url", value="https://t.me/s/c/10", reason=REASON, days=1
        )
    report = send_due(app)
    assert report.sent == []
    assert [f["error"] for f in report.failed] == ["deconfliction hit: contact Alpha"]
    with app.db.session() as session:
        delivery = session.scalars(select(ReferralDelivery)).one()
        state = session.scalars(select(Referral.state)).one()
        assert (delivery.state, delivery.last_error) == (
            "pending",
            "deconfliction hit: contact Alpha",
        )
        assert state == "drafted"
        assert len(notifications(session, "Alpha")) == 1
        hold = session.scalars(select(OpsHold)).one()
        lift_hold(session, hold.id, agency="Alpha")
        delivery.next_attempt_at = utcnow()
    assert [s["reference"] for s in send_due(app).sent] == [routed.drafted[0].reference]
