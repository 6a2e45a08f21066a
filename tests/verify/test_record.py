from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from takedown.app import App
from takedown.store.models import Sighting
from takedown.verify.checker import CheckResult
from takedown.verify.models import VerifyCheck
from takedown.verify.record import due_sightings, record_check

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _result(outcome: str, status: int | None = None) -> CheckResult:
    return CheckResult("https://v.example/1", outcome, status, outcome, None, 0.1, "lab")


def _add(app: App, **kw: object) -> int:
    with app.db.session() as session:
        s = Sighting(natural_key=secrets.token_hex(16), url="https://v.example/1", seen_at=T0, **kw)
        session.add(s)
        session.flush()
        return s.id


def test_first_removed_check_sets_removed_at_and_reinstatement_keeps_history(app: App) -> None:
    sid = _add(app)
    with app.db.session() as session:
        s = session.get(Sighting, sid)
        assert s is not None
        record_check(session, s, _result("live", 200), T0 + timedelta(hours=1))
        record_check(session, s, _result("removed", 404), T0 + timedelta(hours=2))
        record_check(session, s, _result("removed", 404), T0 + timedelta(hours=3))
        live_again = record_check(session, s, _result("live", 200), T0 + timedelta(hours=4))
        assert live_again.reinstated
    with app.db.session() as session:
        s = session.get(Sighting, sid)
        assert s is not None
        assert s.removed_at == T0 + timedelta(hours=2)
        assert s.removal_source == "check"
        outcomes = session.scalars(
            select(VerifyCheck.outcome)
            .where(VerifyCheck.sighting_id == sid)
            .order_by(VerifyCheck.checked_at)
        ).all()
        assert outcomes == ["live", "removed", "removed", "live"]


def test_earlier_platform_confirmed_removal_is_kept(app: App) -> None:
    sid = _add(app, removed_at=T0 + timedelta(minutes=30), removal_source="platform")
    with app.db.session() as session:
        s = session.get(Sighting, sid)
        assert s is not None
        record_check(session, s, _result("removed", 410), T0 + timedelta(hours=5))
    with app.db.session() as session:
        s = session.get(Sighting, sid)
        assert s is not None
        assert (s.removed_at, s.removal_source) == (T0 + timedelta(minutes=30), "platform")


def test_unreachable_and_unknown_do_not_set_removed_at(app: App) -> None:
    sid = _add(app)
    with app.db.session() as session:
        s = session.get(Sighting, sid)
        assert s is not None
        record_check(session, s, _result("unreachable"), T0)
        record_check(session, s, _result("unknown", 451), T0)
        assert s.removed_at is None


def test_due_follows_backoff_schedule(app: App) -> None:
    sid = _add(app)
    _add(app, removed_at=T0, removal_source="operator")
    with app.db.session() as session:
        assert [s.id for s in due_sightings(session, T0)] == [sid]
        s = session.get(Sighting, sid)
        assert s is not None
        record_check(session, s, _result("live", 200), T0)
        assert due_sightings(session, T0 + timedelta(minutes=59)) == []
        assert [x.id for x in due_sightings(session, T0 + timedelta(hours=1))] == [sid]
        record_check(session, s, _result("live", 200), T0 + timedelta(hours=1))
        assert due_sightings(session, T0 + timedelta(hours=6)) == []
        assert [x.id for x in due_sightings(session, T0 + timedelta(hours=7))] == [sid]
