"""The audit chain: every state change recorded; tampering in SQL detected (SQLite and PG)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from takedown.api.models import ApiAgency
from takedown.app import App
from takedown.cli import main
from takedown.evidence.ingest import Ingestor
from takedown.store.audit import AuditEvent, acting_as, installed, record, verify


def _ingest(app: App, tmp_path: Path, n: int = 30) -> None:
    source = tmp_path / "items.jsonl"
    lines = [
        json.dumps({"url": f"https://t.me/s/chan/{i}", "reporter": "unit-a", "language": "ar"})
        for i in range(n)
    ]
    source.write_text("\n".join(lines) + "\n")
    Ingestor(app).ingest(source, "jsonl", operation="day")


def _some_history(app: App, tmp_path: Path) -> None:
    with acting_as("tester"), app.db.session() as session:
        session.add(ApiAgency(name="Unit A"))
    _ingest(app, tmp_path)
    with app.db.session() as session:
        agency = session.scalar(select(ApiAgency).where(ApiAgency.name == "Unit A"))
        assert agency is not None
        agency.name = "Unit A (renamed)"
    with app.db.engine.begin() as conn:
        record(conn, "export", "evidence", {"content": "abc", "to": "court"})


def _events(app: App) -> list[AuditEvent]:
    with app.db.session() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_every_kind_of_write_is_chained(app: App, tmp_path: Path) -> None:
    assert installed(app.db.engine)
    _some_history(app, tmp_path)
    events = _events(app)
    subjects = {(e.action, e.subject) for e in events}
    # ORM insert, driver-level executemany (ingest fast path), ORM update, explicit event
    assert ("insert", "api_agency") in subjects
    assert ("insert", "sighting") in subjects
    assert ("update", "api_agency") in subjects
    assert ("export", "evidence") in subjects
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    sighting = next(e for e in events if e.subject == "sighting")
    assert sighting.rows == 30 and sighting.data is None  # large: digest only
    first = events[0]
    assert first.actor == "tester" and "Unit A" in (first.data or "")
    verdict = verify(app.db.engine)
    assert verdict.ok and verdict.events == len(events)


def test_rollback_and_savepoint_leave_no_events(app: App) -> None:
    before = len(_events(app))

    def aborted() -> None:
        with app.db.session() as session:
            session.add(ApiAgency(name="gone"))
            session.flush()
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        aborted()
    with app.db.session() as session:
        session.add(ApiAgency(name="kept"))
        nested = session.begin_nested()
        session.add(ApiAgency(name="rolled back"))
        session.flush()
        nested.rollback()
    events = _events(app)
    assert len(events) == before + 1
    assert "kept" in (events[-1].data or "") and "rolled back" not in (events[-1].data or "")
    assert verify(app.db.engine).ok


def test_secrets_and_hold_reasons_are_kept_as_digests_only(app: App) -> None:
    from takedown.ops.agencies import create_agency
    from takedown.ops.holds import add_hold

    with app.db.session() as session:
        create_agency(session, "A")
        add_hold(session, agency="A", kind="domain", value="example.org", reason="op BLUE", days=1)
    held = [e for e in _events(app) if e.subject == "ops_hold"]
    assert held and all(e.data is None and len(e.digest) == 64 for e in held)


def _tamper(app: App, sql: str) -> None:
    with app.db.engine.begin() as conn:
        conn.execute(text(sql))


SWAP_2_AND_3 = (
    "UPDATE audit_event SET seq = -1 WHERE seq = 2",
    "UPDATE audit_event SET seq = 2 WHERE seq = 3",
    "UPDATE audit_event SET seq = 3 WHERE seq = -1",
)


@pytest.mark.parametrize(
    ("statements", "seq", "problem"),
    [
        (("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3",), 3, "edited"),
        (("UPDATE audit_event SET data = '{}' WHERE seq = 2",), 2, "edited"),
        (
            (
                "UPDATE audit_event SET at = at WHERE seq = 2",
                "DELETE FROM audit_event WHERE seq = 2",
            ),
            3,
            "removed",
        ),
        (SWAP_2_AND_3, 2, "link broken"),
    ],
    ids=["edit-actor", "edit-values", "delete", "reorder"],
)
def test_tampering_in_sql_is_detected(
    app: App, tmp_path: Path, statements: tuple[str, ...], seq: int, problem: str
) -> None:
    _some_history(app, tmp_path)
    assert verify(app.db.engine).ok
    for statement in statements:
        _tamper(app, statement)
    verdict = verify(app.db.engine)
    assert not verdict.ok
    broken = verdict.broken[0]
    assert broken.seq == seq and problem in broken.problem


def test_removing_the_last_events_is_detected_by_the_head(app: App, tmp_path: Path) -> None:
    _some_history(app, tmp_path)
    with app.db.engine.connect() as conn:
        last = conn.execute(select(func.max(AuditEvent.seq))).scalar_one()
    with app.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": last})
    verdict = verify(app.db.engine)
    assert not verdict.ok and "chain head" in verdict.broken[0].problem


def test_concurrent_writers_get_one_unbroken_chain(app: App) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with app.db.session() as session:
                    session.add(ApiAgency(name=f"w{n}-{i}"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    verdict = verify(app.db.engine)
    assert verdict.ok and verdict.events == 40


def test_cli_audit_verify_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]
    assert runner.invoke(main, [*data, "agency", "create", "A"]).exit_code == 0
    assert runner.invoke(main, [*data, "agency", "create", "B"]).exit_code == 0
    ok = runner.invoke(main, [*data, "audit", "verify", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"] is True
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'takedown.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET subject = 'x' WHERE seq = 1"))
    engine.dispose()
    bad = runner.invoke(main, [*data, "audit", "verify"])
    assert bad.exit_code != 0 and "event 1" in bad.output and "edited" in bad.output


def test_writes_that_change_nothing_are_not_events(app: App, tmp_path: Path) -> None:
    _ingest(app, tmp_path)
    before = [e.subject for e in _events(app)]
    _ingest(app, tmp_path)  # the same source again: every row is a conflict
    with app.db.session() as session:
        session.execute(text("UPDATE sighting SET notes = 'x' WHERE id < 0"))
    after = [e.subject for e in _events(app)][len(before) :]
    assert "sighting" not in after and "import_run" in after
    assert verify(app.db.engine).ok
