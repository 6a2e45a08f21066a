"""``takedown bank add``: bank media files directly; a crop of a banked photo is then found by
its keypoints (issue #8), on both stores."""

from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image

from takedown.app import App
from takedown.cli.bank_files import rows_of_file
from takedown.demo.media import outlets, poster
from takedown.matching import banks as bank_ops
from takedown.matching.formats import BadRow, BankRow
from takedown.matching.lookup import lookup_file
from takedown.robust import edits, layout
from takedown.robust.signal import NAME
from takedown.robust.verify import LAYOUT_LOOSE, MIN_INLIERS
from tests.cli.test_commands import run


def test_banked_files_find_a_crop_and_add_once(
    app: App, tmp_path: Path, photo: Image.Image
) -> None:
    photo.save(tmp_path / "original.png")
    edits.crop(photo, 0.2).save(tmp_path / "crop.png")
    bank_ops.create_bank(app, "partner")
    rows = rows_of_file(tmp_path / "original.png", {"outlet": "Pale Harbor Wire"})
    assert all(isinstance(r, BankRow) for r in rows)
    assert {r.signal_type for r in rows if isinstance(r, BankRow)} >= {"pdq", NAME, "md5"}
    first = bank_ops.add_entries(app, "partner", rows)
    again = bank_ops.add_entries(app, "partner", rows)
    assert first.added == len(rows) and again.duplicates == len(rows) and again.added == 0

    results, _errors = lookup_file(app, tmp_path / "crop.png", banks=["partner"])
    found = {r.signal_type: r for r in results}
    assert found["pdq"].bank_hits == []  # PDQ misses a 20 % crop
    (hit,) = found[NAME].bank_hits
    assert hit.labels["outlet"] == "Pale Harbor Wire"
    assert hit.evidence is not None and hit.evidence["inliers"] >= MIN_INLIERS


def test_a_file_without_any_signal_is_rejected_with_the_reason(tmp_path: Path) -> None:
    (row,) = rows_of_file(tmp_path / "gone.png", {})
    assert isinstance(row, BadRow) and row.ref == "gone.png" and "cannot read" in row.reason


def test_bank_add_command(tmp_path: Path, photo: Image.Image) -> None:
    photo.save(tmp_path / "photo.png")
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)  # a broken image
    run(tmp_path, "bank", "create", "partner")
    out = json.loads(
        run(
            tmp_path,
            "bank",
            "add",
            "partner",
            str(tmp_path / "photo.png"),
            str(tmp_path / "junk.png"),
            "--label",
            "outlet=X",
            "--json",
        ).stdout
    )
    assert out["added"] >= 3 and out["rejected"] == []  # the junk file: its bytes' hashes only
    (listed,) = json.loads(run(tmp_path, "bank", "list", "--json").stdout)["banks"]
    assert NAME in json.dumps(listed["by_signal"]) and "pdq" in json.dumps(listed["by_signal"])
    exported = run(tmp_path, "bank", "export", "partner", "--format", "csv").stdout
    assert "photo.png" not in exported and "outlet" in exported  # labels, never file names
    missing = run(tmp_path, "bank", "add", "nobank", str(tmp_path / "photo.png"), ok=False)
    assert missing.returncode != 0 and "nobank" in missing.stderr


def test_the_banked_layout_finds_a_crop_the_keypoints_alone_miss(app: App, tmp_path: Path) -> None:
    # A flat synthetic poster: its 20 % crop keeps 6 of the banked keypoints, too few for the
    # keypoint rule alone; the colour layout banked beside them confirms the copy.
    shop = outlets(random.Random(7), ("en",))[0]
    original = poster(random.Random(24), shop, 24)
    original.save(tmp_path / "original.png")
    edits.crop(original, 0.2).save(tmp_path / "crop.png")
    bank_ops.create_bank(app, "partner")
    rows = [r for r in rows_of_file(tmp_path / "original.png", {}) if isinstance(r, BankRow)]
    kinds = sorted(r.value[:4] for r in rows if r.signal_type == NAME)
    assert kinds == [layout.PREFIX, "kp2:"]  # the primary keypoints and their layout
    bank_ops.add_entries(app, "partner", rows)

    results, _errors = lookup_file(app, tmp_path / "crop.png", banks=["partner"])
    (hit,) = {r.signal_type: r for r in results}[NAME].bank_hits
    assert hit.evidence is not None
    assert hit.evidence["inliers"] < MIN_INLIERS <= hit.evidence["inliers"] + 4
    assert hit.evidence["layout"] >= LAYOUT_LOOSE
