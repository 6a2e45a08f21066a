"""One candidate index per process and App: built once, then caught up with the store."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import delete, insert, select

from takedown.app import App
from takedown.matching import banks
from takedown.matching.candidates import REREAD_WINDOW, CandidateIndex
from takedown.matching.formats import BankRow
from takedown.matching.matcher import Matcher
from takedown.store.models import BankEntry, Content, Signal


def _pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _flip(value: str, bits: int) -> str:
    return f"{int(value, 16) ^ ((1 << bits) - 1):064x}"


def test_matchers_share_one_index_that_follows_bank_changes(app: App) -> None:
    rng = random.Random(7)
    first, second = _pdq(rng), _pdq(rng)
    banks.create_bank(app, "partner")
    banks.add_entries(app, "partner", [BankRow("a", "pdq", first)])
    one = Matcher(app).index
    assert [c.distance for c in one.bank_candidates("pdq", [_flip(first, 5)], 31)] == [5]
    built = one._bank["pdq"]

    banks.add_entries(app, "partner", [BankRow("b", "pdq", second)])
    two = Matcher(app).index
    assert two is one and two._bank["pdq"] is built  # caught up, not rebuilt
    assert [c.distance for c in two.bank_candidates("pdq", [_flip(second, 3)], 31)] == [3]

    with app.db.session() as session:
        entry = session.scalar(select(BankEntry.id).where(BankEntry.value == first))
    assert entry is not None
    banks.remove_entry(app, entry)
    three = Matcher(app).index
    assert three.bank_candidates("pdq", [first], 31) == []


def test_content_signals_stored_by_another_process_are_found(app: App) -> None:
    rng = random.Random(11)
    index = CandidateIndex.shared(app)
    assert index.content_candidates("pdq", [_pdq(rng)], 31, None) == []  # builds the set
    value = _pdq(rng)
    with app.db.session() as session:  # another worker's commit
        content = Content(sha256="ab" * 32, md5="cd" * 16, size=1, kind="image", media_type="x")
        session.add(content)
        session.flush()
        session.add(Signal(content_id=content.id, signal_type="pdq", value=value))
        content_id = content.id
    again = CandidateIndex.shared(app)
    assert again is index
    found = again.content_candidates("pdq", [_flip(value, 2)], 31, None)
    assert [(c.target_id, c.distance) for c in found] == [(content_id, 2)]
    assert REREAD_WINDOW > 0


def test_each_app_has_its_own_index(app: App, tmp_path: Path) -> None:
    from takedown.config import Settings

    other = App(Settings(data=tmp_path / "other"))
    try:
        assert CandidateIndex.shared(other) is not CandidateIndex.shared(app)
    finally:
        other.close()


def test_a_content_signal_stored_again_or_deleted_leaves_the_set(app: App) -> None:
    """`takedown signals rehash` deletes and re-inserts in one transaction: on SQLite the new
    row may get the old row's id (the newest rows), which the id mark alone cannot tell."""
    rng = random.Random(13)
    old, new = _pdq(rng), _pdq(rng)
    with app.db.session() as session:
        content = Content(sha256="ef" * 32, md5="01" * 16, size=1, kind="image", media_type="x")
        session.add(content)
        session.flush()
        session.add(Signal(content_id=content.id, signal_type="pdq", value=old))
        content_id = content.id
    index = CandidateIndex.shared(app)
    assert [c.target_id for c in index.content_candidates("pdq", [old], 0, None)] == [content_id]
    with app.db.engine.begin() as conn:
        conn.execute(delete(Signal).where(Signal.content_id == content_id))
        conn.execute(
            insert(Signal), [{"content_id": content_id, "signal_type": "pdq", "value": new}]
        )
    again = CandidateIndex.shared(app)
    assert again.content_candidates("pdq", [old], 0, None) == []
    assert [c.target_id for c in again.content_candidates("pdq", [new], 0, None)] == [content_id]
    with app.db.engine.begin() as conn:
        conn.execute(delete(Signal).where(Signal.content_id == content_id))
    assert CandidateIndex.shared(app).content_candidates("pdq", [new], 0, None) == []
    assert again.builds == 1  # caught up, never rebuilt
