"""The keypoint stage inside matching: stored per content and per bank entry, own score."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from takedown.app import App
from takedown.matching import banks
from takedown.matching.formats import BankRow, parse, write_csv, write_te
from takedown.matching.hashing import compute_signals
from takedown.matching.lookup import lookup_file
from takedown.matching.matcher import match_contents
from takedown.robust import edits
from takedown.robust.signal import KeypointSignal
from takedown.store.models import Content, Match, Signal
from tests.robust.conftest import png


def store_image(app: App, image: Image.Image) -> int:
    blob = app.blobs.put_bytes(png(image))
    with app.db.session() as session:
        content = Content(
            sha256=blob.sha256, md5=blob.md5, size=blob.size, kind="image", media_type="image/png"
        )
        session.add(content)
        session.flush()
        return content.id


def keypoint_value(image: Image.Image) -> str:
    return KeypointSignal().hash_stream(io.BytesIO(png(image)))[0].value


def test_cropped_copy_matches_a_keypoint_bank_entry_with_its_own_score(
    app: App, photo: Image.Image, unrelated: list[Image.Image]
) -> None:
    original = photo
    banks.create_bank(app, "partner")
    rows = [BankRow("orig", "keypoints", keypoint_value(original), labels={"outlet": "X"})]
    rows += [BankRow(f"u{i}", "keypoints", keypoint_value(im)) for i, im in enumerate(unrelated)]
    assert banks.add_entries(app, "partner", rows).added == len(rows)
    first_id = store_image(app, original)
    crop_id = store_image(app, edits.crop(original, 0.2))
    plain_id = store_image(app, edits.resize(original))
    compute_signals(app, [first_id, crop_id, plain_id])
    with app.db.session() as session:
        kinds = {
            (cid, t, v)
            for cid, t, v in session.execute(
                select(Signal.content_id, Signal.signal_type, Signal.variant)
            )
        }
    assert (crop_id, "keypoints", "") in kinds and (crop_id, "keypoints", "more1") in kinds
    match_contents(app, [first_id, crop_id, plain_id])
    with app.db.session() as session:
        found = session.execute(
            select(Match.content_id, Match.signal_type, Match.bank_entry_id, Match.distance)
        ).all()
    crop_hits = [m for m in found if m.content_id == crop_id and m.bank_entry_id is not None]
    assert [m.signal_type for m in crop_hits] == ["keypoints"]
    assert crop_hits[0].distance <= KeypointSignal.default_threshold
    # The crop evades PDQ: its earlier copy is found by keypoints. The resized copy is found
    # by PDQ, so the keypoint stage is not asked about earlier content for it.
    copies = {(m.content_id, m.signal_type) for m in found if m.bank_entry_id is None}
    assert (crop_id, "keypoints") in copies and (crop_id, "pdq") not in copies
    assert (plain_id, "pdq") in copies and (plain_id, "keypoints") not in copies


def test_lookup_reports_evidence_beside_pdq(
    app: App, original: Image.Image, tmp_path: Path
) -> None:
    banks.create_bank(app, "partner")
    banks.add_entries(app, "partner", [BankRow("o", "keypoints", keypoint_value(original))])
    copy = tmp_path / "copy.png"
    edits.rotate(original, 10).save(copy)
    results, errors = lookup_file(app, copy)
    assert not errors
    by_type = {r.signal_type: r for r in results}
    assert {"pdq", "keypoints"} <= set(by_type)
    (hit,) = by_type["keypoints"].bank_hits
    assert hit.evidence is not None
    assert hit.evidence["inliers"] >= 8 and abs(hit.evidence["rotation_deg"] - 10) < 2
    assert by_type["pdq"].bank_hits == []


def test_bank_export_and_import_round_trip_keeps_keypoint_values(
    app: App, original: Image.Image, tmp_path: Path
) -> None:
    value = keypoint_value(original)
    banks.create_bank(app, "source")
    banks.add_entries(app, "source", [BankRow("o", "keypoints", value, labels={"outlet": "X"})])
    rows = banks.export_rows(app, "source")
    for fmt, writer in (("csv", write_csv), ("te", write_te)):
        path = tmp_path / f"bank.{fmt}"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer(rows, handle)
        name = f"copy-{fmt}"
        banks.create_bank(app, name)
        report = banks.add_entries(app, name, parse(path, fmt))
        assert (report.added, report.rejected) == (1, [])
        (entry,) = banks.entries(app, name)
        assert (entry.signal_type, entry.value) == ("keypoints", value)
