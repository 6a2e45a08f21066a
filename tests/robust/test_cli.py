"""``takedown match FILE`` shows keypoint matches beside PDQ's, with their evidence."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from takedown.robust import edits
from tests.cli.test_commands import run


def test_match_shows_keypoint_evidence_beside_pdq(tmp_path: Path, photo: Image.Image) -> None:
    photo.save(tmp_path / "original.png")
    edits.crop(photo, 0.2).save(tmp_path / "crop.png")
    hashed = json.loads(run(tmp_path, "hash", str(tmp_path / "original.png"), "--json").stdout)
    values = {
        s["signal_type"]: s["value"] for s in hashed["files"][0]["signals"] if not s["variant"]
    }
    (shown,) = [s["value"] for s in hashed["files"][0]["signals"] if s["variant"] == "layout"]
    (tmp_path / "bank.txt").write_text(
        f"pdq {values['pdq']}\nkeypoints {values['keypoints']}\nkeypoints {shown}\n",
        encoding="utf-8",
    )
    run(tmp_path, "bank", "create", "partner", "--label", "outlet=Pale Harbor Wire")
    imported = json.loads(
        run(tmp_path, "bank", "import", "partner", str(tmp_path / "bank.txt"), "--json").stdout
    )
    assert imported["added"] == 3  # PDQ, the keypoints and their colour layout

    found = json.loads(run(tmp_path, "match", str(tmp_path / "crop.png"), "--json").stdout)
    results = {r["signal_type"]: r for r in found["lookups"][0]["results"]}
    assert results["pdq"]["bank_matches"] == []  # PDQ misses a 20 % crop
    (hit,) = results["keypoints"]["bank_matches"]
    assert hit["labels"]["outlet"] == "Pale Harbor Wire"
    assert hit["evidence"]["inliers"] >= 8
    assert 0.7 < hit["evidence"]["scale"] < 0.9
    assert hit["evidence"]["layout"] >= 0.6

    text = run(tmp_path, "match", str(tmp_path / "crop.png")).stdout
    assert "keypoints" in text and "inliers of" in text and "rotation" in text
    assert "colour layout agrees on" in text
