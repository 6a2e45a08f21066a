from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from takedown.app import App
from takedown.matching import banks
from takedown.matching.formats import BankRow, parse
from takedown.matching.hashing import compute_signals
from takedown.matching.matcher import Matcher, match_contents
from takedown.store.models import BankEntry, Cluster, Content, Match


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def store_text(app: App, data: bytes) -> int:
    blob = app.blobs.put_bytes(data)
    with app.db.session() as session:
        content = Content(
            sha256=blob.sha256, md5=blob.md5, size=blob.size, kind="text", media_type="text/plain"
        )
        session.add(content)
        session.flush()
        return content.id


def test_bank_import_is_idempotent_and_versioned(app: App, tmp_path: Path) -> None:
    banks.create_bank(app, "partner list", labels={"source": "partner"}, actor="ana")
    path = tmp_path / "list.txt"
    path.write_text(
        f"{md5(b'a')}\n{md5(b'b')}\nnot-a-hash-but-32-characters-xx\n", encoding="utf-8"
    )
    first = banks.add_entries(app, "partner list", parse(path, "plain", "md5"), actor="ana")
    second = banks.add_entries(app, "partner list", parse(path, "plain", "md5"), actor="ana")
    assert (first.added, first.duplicates, len(first.rejected)) == (2, 0, 1)
    assert "32 hex characters" in first.rejected[0].reason
    assert (second.added, second.duplicates) == (0, 2)
    entries = banks.entries(app, "partner list")
    assert all(e.labels == {"source": "partner"} for e in entries)
    banks.remove_entry(app, entries[0].id, "ana")
    assert [c.action for c in banks.history(app, "partner list")] == [
        "create",
        "add",
        "add",
        "remove",
    ]
    assert [c.version for c in banks.history(app, "partner list")] == [1, 2, 3, 4]
    restored = banks.add_entries(app, "partner list", parse(path, "plain", "md5"))
    assert restored.restored == 1


def test_thresholds_and_labels_are_validated(app: App) -> None:
    with pytest.raises(banks.BankError, match="unknown signal type"):
        banks.create_bank(app, "x", thresholds={"nope": 3})
    with pytest.raises(banks.BankError, match="between 0 and 0"):
        banks.create_bank(app, "x", thresholds={"md5": 5})
    banks.create_bank(app, "y")
    with pytest.raises(banks.BankError, match="exists already"):
        banks.create_bank(app, "y")
    report = banks.add_entries(
        app, "y", [BankRow("r1", "md5", md5(b"z"), labels={"confidence": "2"})]
    )
    assert report.rejected and "confidence" in report.rejected[0].reason


def test_feedback_is_exported_with_the_entry(app: App) -> None:
    banks.create_bank(app, "b")
    banks.add_entries(
        app, "b", [BankRow("r1", "md5", md5(b"q"), "ext-9", {"outlet": "Crimson Dawn Media"})]
    )
    (entry,) = banks.entries(app, "b")
    banks.add_feedback(app, entry.id, "false_positive", "rev", "news footage")
    banks.add_feedback(app, entry.id, "agree", "rev2")
    (row,) = banks.export_rows(app, "b")
    assert row.external_id == "ext-9"
    assert row.labels == {"outlet": "Crimson Dawn Media", "feedback": "agree:1;false_positive:1"}
    with pytest.raises(banks.BankError):
        banks.add_feedback(app, entry.id, "maybe")


def test_known_material_copies_and_clusters(app: App) -> None:
    banks.create_bank(app, "known", labels={"outlet": "Northern Lantern Network"})
    banks.add_entries(app, "known", [BankRow("r", "md5", md5(b"statement one"))])
    known = store_text(app, b"statement one")
    other = store_text(app, b"unrelated")
    compute_signals(app, [known, other])
    report = match_contents(app, [known, other])
    assert (report.contents, report.known) == (2, 1)
    with app.db.session() as session:
        rows = session.scalars(select(Match).where(Match.content_id == known)).all()
        assert {r.signal_type for r in rows} == {"md5"}
        assert rows[0].distance == 0 and rows[0].state == "active"
        clusters = session.scalars(select(Cluster)).all()
        assert len(clusters) == 2 and sum(c.known for c in clusters) == 1
    assert match_contents(app, [known]).known == 1
    with app.db.session() as session:
        assert len(session.scalars(select(Match)).all()) == 1


def test_one_entry_bank_matches(app: App) -> None:
    banks.create_bank(app, "single")
    banks.add_entries(app, "single", [BankRow("r", "sha256", hashlib.sha256(b"x").hexdigest())])
    cid = store_text(app, b"x")
    compute_signals(app, [cid])
    assert match_contents(app, [cid]).known == 1


def test_allow_list_suppresses_known_matches(app: App) -> None:
    banks.create_bank(app, "known")
    banks.create_bank(app, "news footage", allow_list=True)
    value = md5(b"broadcast clip")
    banks.add_entries(app, "known", [BankRow("r", "md5", value)])
    banks.add_entries(app, "news footage", [BankRow("r", "md5", value)])
    cid = store_text(app, b"broadcast clip")
    compute_signals(app, [cid])
    report = match_contents(app, [cid])
    assert (report.known, report.suppressed) == (0, 1)
    with app.db.session() as session:
        states = {m.state for m in session.scalars(select(Match))}
    assert states == {"suppressed", "active"}


def test_flood_control_quarantines_an_entry_that_matches_too_much(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("takedown.matching.matcher.FLOOD_MIN_PER_HOUR", 2)
    banks.create_bank(app, "known")
    banks.add_entries(app, "known", [BankRow("r", "md5", md5(b"same"))])
    ids = [store_text(app, b"same")]
    compute_signals(app, ids)
    matcher = Matcher(app)
    matcher.match(ids)
    # more content whose md5 matches: simulate by re-matching the same content's key space
    with app.db.session() as session:
        (entry,) = session.scalars(select(BankEntry)).all()
        entry_id = entry.id
    for i in range(3):
        other = store_text(app, f"different {i}".encode())
        with app.db.session() as session:
            from takedown.store.models import Signal

            session.add(Signal(content_id=other, signal_type="md5", variant="", value=md5(b"same")))
        matcher.match([other])
    with app.db.session() as session:
        entry = session.get(BankEntry, entry_id)
        assert entry is not None and entry.status == "quarantined"
        states = [m.state for m in session.scalars(select(Match).order_by(Match.id))]
    assert states[:2] == ["active", "active"] and "held" in states
    banks.set_entry_status(app, entry_id, "active", "reviewer", "checked")
    assert [c.action for c in banks.history(app, "known")][-2:] == ["quarantine", "release"]


def test_sightings_show_known_bank_label_and_distance_or_new(app: App, tmp_path: Path) -> None:
    from takedown.evidence.ingest import Ingestor
    from takedown.matching.lookup import sighting_status
    from takedown.matching.pipeline import process_new_content

    banks.create_bank(app, "known", labels={"outlet": "Pale Harbor Wire"})
    banks.add_entries(app, "known", [BankRow("r", "md5", md5(b"bulletin 7"))])
    (tmp_path / "posts.jsonl").write_text(
        '{"url": "https://justpaste.it/a1", "text": "bulletin 7"}\n'
        '{"url": "https://justpaste.it/a2", "text": "something else"}\n',
        encoding="utf-8",
    )
    report = Ingestor(app).ingest(tmp_path / "posts.jsonl")
    totals = process_new_content(app, report.new_content_ids)
    assert totals["known"] == 1
    with app.db.session() as session:
        from takedown.store.models import Sighting

        ids = {s.canonical_url: s.id for s in session.scalars(select(Sighting))}
    status = sighting_status(app, list(ids.values()))
    known = status[ids["https://justpaste.it/a1"]]
    assert (known.state, known.bank, known.distance) == ("known", "known", 0)
    assert known.labels == {"outlet": "Pale Harbor Wire"}
    assert status[ids["https://justpaste.it/a2"]].state == "new"
