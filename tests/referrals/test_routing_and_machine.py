from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from takedown.app import App
from takedown.referrals.machine import IllegalTransition
from takedown.referrals.models import Referral, ReferralEvent, ReferralItem
from takedown.referrals.respond import UnknownReference, record
from takedown.referrals.routing import draft
from takedown.store.models import Sighting

from .conftest import add_sighting, make_app, platforms_file

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def rapp(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(
        database_url,
        tmp_path,
        platforms_file=platforms_file(tmp_path / "p.json", "http://127.0.0.1:9/x"),
    )
    yield app
    app.close()


def _events(app: App, reference: str) -> list[tuple[str, str | None, str]]:
    with app.db.session() as session:
        rid = session.scalar(select(Referral.id).where(Referral.reference == reference))
        return [
            (e.event, e.from_state, e.to_state)
            for e in session.scalars(
                select(ReferralEvent)
                .where(ReferralEvent.referral_id == rid)
                .order_by(ReferralEvent.id)
            )
        ]


def _send(app: App, reference: str, at: datetime = T0) -> None:
    from takedown.referrals.machine import apply
    from takedown.referrals.respond import find

    with app.db.session() as session:
        apply(session, find(session, reference), "send", at=at, source="sender")


def test_sightings_are_grouped_per_addressee_with_hashes_labels_and_basis(rapp: App) -> None:
    a = add_sighting(
        rapp, "https://fakevid0.test/v/1", "fakevid0", labels={"group": "x", "tags": ["a", "b"]}
    )
    add_sighting(rapp, "https://fakevid0.test/v/2", "fakevid0")
    add_sighting(rapp, "https://fakevid1.test/v/3", "fakevid1")
    add_sighting(rapp, "https://gone.test/v/4", "fakevid1", removed_at=T0)
    orphan = add_sighting(
        rapp,
        "https://selfhosted.example/a",
        "unknown:selfhosted.example",
        domain="selfhosted.example",
    )
    routed = draft(rapp, basis="ToS §4.2")
    by_addressee = {r.addressee_key: r for r in routed.drafted}
    assert sorted(by_addressee) == ["fakevid0", "fakevid1"]
    assert routed.unrouted == {"unrouted:selfhosted.example": [orphan]}
    ref = by_addressee["fakevid0"]
    assert ref.reference == f"TD-{ref.created_at.year}-{ref.id:06d}"
    assert ref.basis == "ToS §4.2" and ref.state == "drafted"
    with rapp.db.session() as session:
        items = {i.sighting_id: i for i in session.scalars(select(ReferralItem))}
        sha = session.get(Sighting, a)
        assert sha is not None
    assert len(items) == 3  # the removed sighting is not referred, the unrouted one not drafted
    assert items[a].labels == {"labels": ["group:x", "tags:a", "tags:b"]}
    assert len(items[a].sha256 or "") == 64
    # nothing is referred twice
    assert draft(rapp).drafted == []


def test_referral_machine_records_every_transition_and_refuses_illegal_ones(rapp: App) -> None:
    add_sighting(rapp, "https://fakevid0.test/v/1", "fakevid0")
    ref = draft(rapp).drafted[0].reference
    with (
        rapp.db.session() as session,
        pytest.raises(IllegalTransition, match="cannot go from 'drafted'"),
    ):
        record(session, ref, "removed", T0)
    _send(rapp, ref)
    with rapp.db.session() as session:
        record(session, ref, "acknowledged", T0 + timedelta(minutes=5))
    with rapp.db.session() as session, pytest.raises(IllegalTransition, match="does not apply"):
        record(session, ref, "impossible", T0 + timedelta(minutes=6))
    with rapp.db.session() as session:
        out = record(session, ref, "removed", T0 + timedelta(hours=2), reason="ToS").outcome
    assert (out.from_state, out.to_state, out.duplicate) == ("acknowledged", "actioned", False)
    with rapp.db.session() as session:  # the same answer again: harmless
        again = record(session, ref, "removed", T0 + timedelta(hours=2)).outcome
        later = record(session, ref, "removed", T0 + timedelta(hours=3)).outcome
    assert again.duplicate and later.duplicate
    assert _events(rapp, ref) == [
        ("draft", None, "drafted"),
        ("send", "drafted", "sent"),
        ("acknowledged", "sent", "acknowledged"),
        ("removed", "acknowledged", "actioned"),
    ]
    with rapp.db.session() as session:
        s = session.scalars(select(Sighting)).one()
        assert s.removed_at == T0 + timedelta(hours=2) and s.removal_source == "platform"
    with rapp.db.session() as session, pytest.raises(UnknownReference):
        record(session, "TD-1999-000001", "removed", T0)


def test_platform_confirmation_keeps_an_earlier_removal_time(rapp: App) -> None:
    sid = add_sighting(rapp, "https://fakevid0.test/v/1", "fakevid0")
    ref = draft(rapp).drafted[0].reference
    _send(rapp, ref)
    with rapp.db.session() as session:
        s = session.get(Sighting, sid)
        assert s is not None
        s.removed_at, s.removal_source = T0 + timedelta(minutes=30), "check"
    with rapp.db.session() as session:
        record(session, ref, "removed", T0 + timedelta(hours=5))
    with rapp.db.session() as session:
        s = session.get(Sighting, sid)
        assert s is not None and s.removed_at == T0 + timedelta(minutes=30)
        assert s.removal_source == "check"


def test_removal_order_clock_pauses_and_resumes(rapp: App) -> None:
    add_sighting(rapp, "https://fakevid0.test/v/1", "fakevid0")
    ref = draft(rapp, kind="removal_order", basis="TCO Art. 3").drafted[0].reference
    _send(rapp, ref)
    steps = [
        ("received", T0, "received"),
        ("missing_information", T0 + timedelta(minutes=20), "paused"),
        ("received", T0 + timedelta(minutes=50), "received"),  # 30 min paused
        ("removed", T0 + timedelta(minutes=80), "removed"),  # 50 min of clock used
    ]
    for status, at, state in steps:
        with rapp.db.session() as session:
            assert record(session, ref, status, at).outcome.to_state == state
    with rapp.db.session() as session:
        r = session.scalars(select(Referral)).one()
        assert r.received_at == T0
        assert r.deadline == T0 + timedelta(minutes=90)
        assert r.paused_seconds == 1800
        assert r.deadline_met is True
        record(session, ref, "scrutiny_requested", T0 + timedelta(hours=2))
    with rapp.db.session() as session, pytest.raises(IllegalTransition, match="already requested"):
        record(session, ref, "scrutiny_requested", T0 + timedelta(hours=3))
    with rapp.db.session() as session:
        assert (
            record(session, ref, "scrutiny_revoked", T0 + timedelta(hours=70)).outcome.to_state
            == "revoked"
        )
        assert (
            record(session, ref, "reinstated", T0 + timedelta(hours=71)).outcome.to_state
            == "reinstated"
        )
    assert [e[0] for e in _events(rapp, ref)] == [
        "draft",
        "send",
        "received",
        "missing_information",
        "received",
        "removed",
        "scrutiny_requested",
        "scrutiny_revoked",
        "reinstated",
    ]


def test_removal_order_removed_after_deadline_is_missed(rapp: App) -> None:
    add_sighting(rapp, "https://fakevid0.test/v/1", "fakevid0")
    ref = draft(rapp, kind="removal_order").drafted[0].reference
    _send(rapp, ref)
    with rapp.db.session() as session:
        record(session, ref, "received", T0)
        record(session, ref, "removed", T0 + timedelta(minutes=61))
        r = session.scalars(select(Referral)).one()
        assert r.deadline_met is False
    with rapp.db.session() as session, pytest.raises(IllegalTransition):
        record(session, ref, "rejected", T0 + timedelta(hours=2))
