"""Agencies, users and roles; dedup across agencies; visibility; operations; complaints."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from takedown.api.models import ApiUser
from takedown.app import App
from takedown.cli import main
from takedown.ops.agencies import (
    OpsError,
    allowed,
    can_see,
    create_user,
    get_agency,
    set_role,
    visible_sightings,
)
from takedown.ops.complaints import decide, list_complaints, record_complaint
from takedown.ops.dedup import link_new, reporters_of
from takedown.ops.models import OpsSightingLink
from takedown.ops.operations import (
    assign,
    board,
    close_operation,
    create_operation,
    join_operation,
)
from takedown.referrals.machine import apply
from takedown.referrals.models import Referral, ReferralEvent, ReferralItem
from takedown.referrals.routing import draft
from takedown.store.models import Sighting, utcnow
from tests.ops.conftest import ingest, make_agencies, record


def test_same_url_from_two_agencies_is_one_item_referred_once(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo")
    ingest(
        app,
        tmp_path,
        [
            record("https://t.me/s/chan/1", "unit-alpha"),
            record("https://t.me/s/chan/2", "unit-alpha"),
            # the same URL, written differently, from another agency
            record("https://T.ME/s/chan/1?utm_source=x", "unit-bravo"),
        ],
    )
    with app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 3
        linked = link_new(session)
        assert linked.linked == 3 and linked.duplicates == 1
        assert link_new(session).linked == 0  # idempotent
        primary = session.scalar(
            select(OpsSightingLink.primary_id).where(OpsSightingLink.basis == "url")
        )
        assert primary is not None
        assert reporters_of(session, [primary]) == {primary: ["Alpha", "Bravo"]}
    routed = draft(app)
    assert len(routed.drafted) == 1
    with app.db.session() as session:
        items = list(session.scalars(select(ReferralItem.canonical_url)))
        assert sorted(items) == sorted(set(items)) and len(items) == 2


def test_a_report_after_removal_is_a_new_item(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo")
    ingest(app, tmp_path, [record("https://t.me/s/chan/1", "unit-alpha")], name="first")
    draft(app)
    with app.db.session() as session:
        referral = session.scalars(select(Referral)).one()
        apply(session, referral, "send")
        apply(session, referral, "removed")
    ingest(app, tmp_path, [record("https://t.me/s/chan/1", "unit-bravo")], name="again")
    routed = draft(app)
    assert len(routed.drafted) == 1  # the content came back: referred again
    with app.db.session() as session:
        bases = sorted(session.scalars(select(OpsSightingLink.basis)))
        assert bases == ["self", "self"]


def test_visibility_own_shared_and_nothing_else(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo", "Charlie")
    now = utcnow()
    with app.db.session() as session:
        create_operation(
            session,
            "day",
            starts_at=now,
            ends_at=now + timedelta(hours=48),
            agencies=["Alpha", "Bravo"],
        )
    ingest(app, tmp_path, [record("https://t.me/s/a/1", "unit-alpha")], name="a")
    ingest(app, tmp_path, [record("https://t.me/s/b/1", "unit-bravo")], operation="day", name="b")
    ingest(app, tmp_path, [record("https://t.me/s/c/1", "unit-charlie")], name="c")
    with app.db.session() as session:
        ids = {
            url.rsplit("/", 2)[1]: sid
            for sid, url in session.execute(select(Sighting.id, Sighting.url))
        }

        def seen(agency: str) -> set[str]:
            agency_id = get_agency(session, agency).id
            rows = session.scalars(visible_sightings(session, agency_id))
            return {s.url.rsplit("/", 2)[1] for s in rows if s.url}

        assert seen("Alpha") == {"a", "b"}  # own + shared into its operation
        assert seen("Bravo") == {"b"}
        assert seen("Charlie") == {"c"}  # not in the operation: not b, not a
        charlie = get_agency(session, "Charlie").id
        assert not can_see(session, charlie, ids["a"]) and can_see(session, charlie, ids["c"])


def test_users_and_roles(app: App) -> None:
    make_agencies(app, "Alpha")
    with app.db.session() as session:
        user = create_user(session, "ana", "a long password", agency="Alpha", role="liaison")
        assert user.role == "liaison" and user.password_hash.startswith("scrypt$")
        with pytest.raises(OpsError, match="exists"):
            create_user(session, "ana", "a long password", agency="Alpha")
        with pytest.raises(OpsError, match="unknown role"):
            set_role(session, "ana", "god")
        with pytest.raises(OpsError, match="no agency"):
            create_user(session, "bob", "a long password", agency="Nowhere")
        assert set_role(session, "ana", "admin").role == "administrator"
    assert allowed("liaison", "respond") and not allowed("read-only", "refer")
    assert allowed("admin", "administer") and not allowed("nonsense", "read")


def test_operation_lifecycle_board_and_freeze(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha", "Bravo", "Charlie")
    now = utcnow()
    with app.db.session() as session:
        create_user(session, "ana", "a long password", agency="Alpha")
        create_user(session, "cid", "a long password", agency="Charlie")
        create_operation(
            session,
            "day",
            starts_at=now,
            ends_at=now + timedelta(hours=48),
            agencies=["Alpha", "Bravo"],
            outlets=["outlet-x"],
        )
        with pytest.raises(OpsError, match="not of an agency"):
            assign(session, "day", "cid", platforms=["telegram"])
        join_operation(session, "day", "Charlie")
        with pytest.raises(OpsError, match="already"):
            join_operation(session, "day", "Charlie")
        assign(session, "day", "ana", platforms=["telegram"], languages=["AR"])
        with pytest.raises(OpsError, match="end after"):
            create_operation(session, "bad", starts_at=now, ends_at=now, agencies=["Alpha"])
    ingest(
        app,
        tmp_path,
        [
            record("https://t.me/s/x/1", "unit-alpha", "ar"),
            record("https://t.me/s/x/1", "unit-bravo", "ar"),
            record("https://t.me/s/x/2", "unit-bravo", "en"),
            record("https://example.org/p", "unit-charlie", "fr"),
        ],
        operation="day",
    )
    draft(app, platform="telegram")
    with app.db.session() as session:
        for referral in session.scalars(select(Referral)):
            apply(session, referral, "send")
            apply(session, referral, "removed")
        figures = board(session, "day")
    assert figures["total"] == {
        "found": 4,
        "items": 3,
        "unique_material": 3,
        "referred": 2,
        "removed": 2,
    }
    telegram = next(r for r in figures["by_platform"] if r["key"] == "telegram")
    assert telegram["found"] == 3 and telegram["items"] == 2 and telegram["removed"] == 2
    assert figures["assignments"][0]["languages"] == ["ar"]
    assert figures["participants"] == ["Alpha", "Bravo", "Charlie"]
    with app.db.session() as session:
        closed = close_operation(session, "day", actor="lead")
        assert closed.final_digest and closed.final_board
    with app.db.session() as session:
        for attempt in (
            lambda: join_operation(session, "day", "Alpha"),
            lambda: assign(session, "day", "ana", platforms=["x"]),
            lambda: close_operation(session, "day"),
        ):
            with pytest.raises(OpsError, match="frozen"):
                attempt()
        frozen = board(session, "day")
        assert frozen["frozen"] is True and frozen["total"] == figures["total"]


def test_complaints_deadline_and_reinstatement(app: App, tmp_path: Path) -> None:
    make_agencies(app, "Alpha")
    ingest(app, tmp_path, [record("https://t.me/s/x/1", "unit-alpha")])
    draft(app)
    received = utcnow()
    with app.db.session() as session:
        referral = session.scalars(select(Referral)).one()
        apply(session, referral, "send")
        apply(session, referral, "removed")
        sighting_id = session.scalars(select(Sighting.id)).one()
        first = record_complaint(
            session, sighting_id=sighting_id, complainant="uploader", grounds="satire"
        )
        second = record_complaint(
            session,
            sighting_id=sighting_id,
            complainant="other",
            grounds="news",
            received_at=received - timedelta(days=20),
        )
        assert first.deadline - first.received_at == timedelta(days=14)
        assert first.referral_id == referral.id
        overdue = {c["id"]: c["overdue"] for c in list_complaints(session)}
        assert overdue == {first.id: False, second.id: True}
        decide(session, first.id, "upheld", reason="news reporting", actor="reviewer")
        decide(session, second.id, "rejected", reason="incitement")
        with pytest.raises(OpsError, match="decided already"):
            decide(session, first.id, "rejected", reason="x")
        assert referral.state == "reinstated"
        assert session.scalar(
            select(func.count())
            .select_from(ReferralEvent)
            .where(ReferralEvent.event == "reinstated")
        )
        assert list_complaints(session, open_only=True) == []


def test_cli_round_trip_with_json_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, [*data, *args], env={"TAKEDOWN_NEW_PASSWORD": "long enough"})
        return result.exit_code, result.output

    assert run("agency", "create", "Alpha", "--reporter", "unit-a", "--json")[0] == 0
    code, out = run("agency", "create", "Alpha", "--json")
    assert code != 0 and "exists" in out
    assert run("user", "create", "ana", "--agency", "Alpha", "--role", "reviewer")[0] == 0
    code, out = run("user", "role", "ana", "liaison", "--json")
    assert code == 0 and json.loads(out)["role"] == "liaison"
    code, out = run("user", "list", "--json")
    assert code == 0 and json.loads(out)[0]["agency"] == "Alpha"
    args = ["operation", "create", "day", "--from", "2026-04-01", "--to", "2026-04-03"]
    assert run(*args, "--agency", "Alpha", "--json")[0] == 0
    code, out = run("operation", "create", "d2", "--from", "xx", "--to", "y", "--agency", "Alpha")
    assert code != 0 and "ISO 8601" in out
    assert run("operation", "assign", "day", "ana", "--language", "ar", "--json")[0] == 0
    code, out = run("operation", "board", "day", "--json")
    assert code == 0 and json.loads(out)["assignments"][0]["user"] == "ana"
    code, out = run(
        "hold",
        "add",
        "--agency",
        "Alpha",
        "--domain",
        "example.org",
        "--reason",
        "r",
        "--days",
        "2",
    )
    assert code == 0
    code, out = run("hold", "add", "--agency", "Alpha", "--reason", "r", "--days", "2")
    assert code != 0 and "exactly one" in out
    code, out = run("hold", "list", "--agency", "Alpha", "--json")
    assert code == 0 and json.loads(out)[0]["value"] == "example.org"
    code, out = run("report", "operation", "day", "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["sightings"] == 0
    pdf = tmp_path / "day.pdf"
    code, out = run("report", "operation", "day", "--format", "pdf", "--out", str(pdf), "--json")
    assert code == 0 and json.loads(out)["bytes"] == pdf.stat().st_size > 0
    assert pdf.read_bytes().startswith(b"%PDF")
    code, out = run("report", "operation", "day", "--format", "pdf")
    assert code != 0 and "--out" in out
    page = tmp_path / "tr.html"
    args = ["report", "transparency", "--from", "2026-01-01", "--to", "2027-01-01"]
    assert run(*args, "--format", "html", "--out", str(page))[0] == 0
    assert "TCO Art. 8" in page.read_text()
    code, out = run("report", "transparency", "--from", "2026-02-01", "--to", "2026-01-01")
    assert code != 0 and "after" in out
    code, out = run("audit", "verify", "--json")
    assert code == 0 and json.loads(out)["events"] > 0
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "takedown.sqlite3") as db:
        exports = db.execute(
            "SELECT actor, data FROM audit_event WHERE action = 'export' AND subject = 'report'"
        ).fetchall()
    assert len(exports) == 3 and all(actor.startswith("cli") for actor, _ in exports)
    assert any(str(pdf) in data for _, data in exports)
    assert run("operation", "close", "day", "--json")[0] == 0
    code, out = run("operation", "join", "day", "Alpha")
    assert code != 0 and "frozen" in out
    code, out = run("complaint", "add", "999", "--complainant", "x", "--grounds", "y")
    assert code != 0 and "no sighting" in out


def test_api_user_table_is_reused_not_duplicated(app: App) -> None:
    make_agencies(app, "Alpha")
    with app.db.session() as session:
        create_user(session, "ana", "a long password", agency="Alpha", role="read-only")
        row = session.scalars(select(ApiUser)).one()
        assert row.agency_id == get_agency(session, "Alpha").id and row.role == "read-only"


def test_nothing_is_filed_under_a_closed_operation(app: App, tmp_path: Path) -> None:
    from takedown.intake.records import IntakeError

    make_agencies(app, "Alpha")
    now = utcnow()
    with app.db.session() as session:
        create_operation(
            session,
            "closed-day",
            starts_at=now,
            ends_at=now + timedelta(hours=48),
            agencies=["Alpha"],
        )
    ingest(app, tmp_path, [record("https://t.me/s/c/1", "unit-alpha")], operation="closed-day")
    with app.db.session() as session:
        close_operation(session, "closed-day")
    with pytest.raises(IntakeError, match="closed"):
        ingest(
            app,
            tmp_path,
            [record("https://t.me/s/c/2", "unit-alpha")],
            operation="closed-day",
            name="late",
        )
    with app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 1
