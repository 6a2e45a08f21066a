"""``takedown match FILE.mp4`` shows the robust video result beside vPDQ's, with its evidence;
``takedown sightings`` shows the evidence stored with the match."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from takedown.cli import main
from tests.robust.test_video_matching import EDITS, FPS, clip, video


def run(tmp: Path, *args: str) -> str:
    """The command line in-process (a subprocess per call would cost seconds of imports)."""
    result = CliRunner(env={"COLUMNS": "400"}).invoke(main, ["--data", str(tmp / "data"), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_match_and_sightings_show_robust_video_evidence(tmp_path: Path) -> None:
    frames = clip("astronaut")
    files = {
        "original": frames,
        "crop": EDITS["crop10"](frames),
        "mirror": EDITS["mirror"](frames),
        "shapes": video._clip_frames(video._unrelated_picture(5), 4.0, FPS),
    }
    for name, clip_frames in files.items():
        (tmp_path / f"{name}.mp4").write_bytes(video._encode(clip_frames, FPS))
    hashed = json.loads(run(tmp_path, "hash", str(tmp_path / "original.mp4"), "--json"))
    values = {s["signal_type"]: s["value"] for s in hashed["files"][0]["signals"]}
    (tmp_path / "bank.txt").write_text(
        f"video {values['video']}\nvideo_keyframe {values['video_keyframe']}\n", encoding="utf-8"
    )
    run(tmp_path, "bank", "create", "partner", "--label", "outlet=Pale Harbor Wire")
    imported = json.loads(
        run(tmp_path, "bank", "import", "partner", str(tmp_path / "bank.txt"), "--json")
    )
    assert imported["added"] == 2

    paths = [str(tmp_path / f"{name}.mp4") for name in ("crop", "mirror", "shapes")]
    found = json.loads(run(tmp_path, "match", *paths, "--json"))["lookups"]
    by_file = {
        Path(item["file"]).stem: {r["signal_type"]: r for r in item["results"]} for item in found
    }
    for name, method in (("crop", "keyframe"), ("mirror", "containment")):
        results = by_file[name]
        assert results["video"]["bank_matches"] == []  # vPDQ misses both copies
        (hit,) = results["video_keyframe"]["bank_matches"]
        assert hit["labels"]["outlet"] == "Pale Harbor Wire"
        assert hit["evidence"]["method"] == method, name
    assert by_file["crop"]["video_keyframe"]["bank_matches"][0]["evidence"]["inliers"] >= 10
    mirror = by_file["mirror"]["video_keyframe"]["bank_matches"][0]["evidence"]
    assert mirror["matched_by"]["mirrored"] >= 1 and mirror["query_share"] >= 70
    assert by_file["shapes"]["video_keyframe"]["bank_matches"] == []

    text = run(tmp_path, "match", paths[1])
    assert "video_keyframe" in text and "contained: 100% of the video" in text

    (tmp_path / "list.csv").write_text(
        "url,seen_at,reporter,language,content\n"
        "https://justpaste.it/v1,2026-04-26T10:00:00Z,ana,en,crop.mp4\n",
        encoding="utf-8",
    )
    run(tmp_path, "ingest", str(tmp_path / "list.csv"), "--json")
    (sighting,) = json.loads(run(tmp_path, "sightings", "--json"))["sightings"]
    status = sighting["status"]
    assert (status["state"], status["signal_type"]) == ("known", "video_keyframe")
    assert status["evidence"]["method"] == "keyframe" and status["evidence"]["inliers"] >= 10
    listed = run(tmp_path, "sightings")
    assert "video_keyframe" in listed and "inliers" in listed
