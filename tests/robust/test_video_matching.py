"""Robust video matching inside ingest and the matcher: ``video_keyframe`` stored per content
and per bank entry, containment and keyframe hits stored with their own type and evidence."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image
from sqlalchemy import select

from takedown.app import App
from takedown.matching import banks
from takedown.matching.formats import BankRow, parse, write_csv, write_te
from takedown.matching.hashing import compute_signals
from takedown.matching.lookup import sighting_status
from takedown.matching.matcher import match_contents
from takedown.robust import edits, video
from takedown.robust.signal import KeypointSignal
from takedown.robust.video_signal import NAME, VideoKeyframeSignal
from takedown.signals.video import VideoSignal
from takedown.signals.video import parse as parse_video
from takedown.store.models import Content, Match, Sighting, Signal
from tests.ops.conftest import make_agencies
from tests.robust.conftest import png

FPS = 10
SECONDS = 4.0
EDITS = video._video_edits()
#: The first 2 s cut: the copy's frames fall on the banked 1 frame/s vPDQ frames (containment).
EDITS["trim_start"] = lambda frames: frames[2 * FPS :]
#: The first third cut (1.3 s): on these fast synthetic pans no query frame is within 31 bits
#: of a banked frame, so the keyframe step finds it (see docs/robustness.md).
EDITS["trim_third"] = video._video_edits()["trim_start"]
COPIES = ("crop10", "mirror", "trim_start", "trim_third")


def clip(name: str) -> list[np.ndarray]:
    data = np.asarray(getattr(skimage.data, name)())
    if data.ndim == 2:
        data = np.stack([data] * 3, axis=2)
    return video._clip_frames(data[:, :, :3], SECONDS, FPS)


@pytest.fixture(scope="module")
def clips() -> dict[str, bytes]:
    """The banked original, three copies PDQ's frames miss, and two unrelated clips."""
    frames = clip("astronaut")
    out = {"original": video._encode(frames, FPS)}
    out |= {edit: video._encode(EDITS[edit](frames), FPS) for edit in COPIES}
    out["coffee"] = video._encode(clip("coffee"), FPS)
    shapes = video._clip_frames(video._unrelated_picture(3), SECONDS, FPS)
    out["shapes"] = video._encode(shapes, FPS)
    return out


def bank_rows(data: bytes) -> list[BankRow]:
    vpdq = VideoSignal().hash_stream(io.BytesIO(data))[0].value
    (keyframe,) = VideoKeyframeSignal().hash_stream(io.BytesIO(data))
    return [
        BankRow("v", "video", vpdq, labels={"outlet": "Pale Harbor Wire"}),
        BankRow("k", NAME, keyframe.value, labels={"outlet": "Pale Harbor Wire"}),
    ]


def store(app: App, data: bytes, kind: str, media_type: str) -> int:
    blob = app.blobs.put_bytes(data)
    with app.db.session() as session:
        content = Content(
            sha256=blob.sha256, md5=blob.md5, size=blob.size, kind=kind, media_type=media_type
        )
        session.add(content)
        session.flush()
        return content.id


def test_copies_are_matched_by_the_robust_video_path_with_stored_evidence(
    app: App, clips: dict[str, bytes]
) -> None:
    banks.create_bank(app, "partner")
    assert banks.add_entries(app, "partner", bank_rows(clips["original"])).added == 2
    ids = {
        name: store(app, clips[name], "video", "video/mp4") for name in clips if name != "original"
    }
    compute_signals(app, list(ids.values()))
    with app.db.session() as session:
        keyframes = {
            cid
            for (cid,) in session.execute(
                select(Signal.content_id).where(Signal.signal_type == NAME)
            )
        }
    assert keyframes == set(ids.values())  # stored per content
    match_contents(app, list(ids.values()))
    with app.db.session() as session:
        rows = session.execute(
            select(
                Match.content_id,
                Match.signal_type,
                Match.bank_entry_id,
                Match.other_content_id,
                Match.distance,
                Match.evidence,
            )
        ).all()
    bank = {
        name: [r for r in rows if r.content_id == cid and r.bank_entry_id]
        for name, cid in ids.items()
    }
    # Meta's vPDQ rule (query >= 80 %, compared >= 0 %) finds an excerpt of the banked video
    # itself; the robust stage is the second stage for the copies vPDQ misses.
    assert [r.signal_type for r in bank["trim_start"]] == ["video"]
    for name in set(COPIES) - {"trim_start"}:
        assert [r.signal_type for r in bank[name]] == [NAME], name  # vPDQ misses these
        (hit,) = bank[name]
        assert hit.evidence["method"] in ("containment", "keyframe")
        assert 0 <= hit.distance <= VideoKeyframeSignal.default_threshold
    crop = bank["crop10"][0].evidence
    assert crop["method"] == "keyframe" and crop["inliers"] >= 10 and crop["scale"] < 1.0
    mirrored = bank["mirror"][0].evidence
    assert mirrored.get("matched_by", {}).get("mirrored") or mirrored.get("mirrored")
    for name in ("coffee", "shapes"):
        # an unrelated clip matches neither the bank nor any copy, nor does a copy match it
        assert [r for r in rows if ids[name] in (r.content_id, r.other_content_id)] == []


def test_keypoint_match_keeps_its_evidence_in_the_store(app: App, photo: Image.Image) -> None:
    value = KeypointSignal().hash_stream(io.BytesIO(png(photo)))[0].value
    banks.create_bank(app, "partner")
    banks.add_entries(app, "partner", [BankRow("o", "keypoints", value)])
    crop_id = store(app, png(edits.crop(photo, 0.2)), "image", "image/png")
    with app.db.session() as session:
        url = "https://example.org/c"
        session.add(Sighting(natural_key="c", url=url, canonical_url=url, content_id=crop_id))
    compute_signals(app, [crop_id])
    match_contents(app, [crop_id])
    with app.db.session() as session:
        (row,) = session.execute(select(Match.signal_type, Match.evidence)).all()
        (sid,) = session.scalars(select(Sighting.id))
    assert row.signal_type == "keypoints"
    assert row.evidence["inliers"] >= 10 and 0.7 < row.evidence["scale"] < 0.9
    status = sighting_status(app, [sid])[sid]
    assert (status.state, status.signal_type) == ("known", "keypoints")
    assert status.evidence == row.evidence


def test_bank_export_and_import_keep_the_keyframe_values(
    app: App, clips: dict[str, bytes], tmp_path: Path
) -> None:
    rows = bank_rows(clips["original"])
    banks.create_bank(app, "source")
    banks.add_entries(app, "source", rows)
    exported = banks.export_rows(app, "source")
    for fmt, writer in (("csv", write_csv), ("te", write_te)):
        path = tmp_path / f"bank.{fmt}"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer(exported, handle)
        banks.create_bank(app, f"copy-{fmt}")
        report = banks.add_entries(app, f"copy-{fmt}", parse(path, fmt))
        assert (report.added, report.rejected) == (2, [])
        entries = {e.signal_type: e.value for e in banks.entries(app, f"copy-{fmt}")}
        expected = {r.signal_type: r.value for r in rows}
        if fmt == "te":
            # pytx's vpdq lines carry timestamp, quality and hash per frame, not Meta's frame
            # numbers: everything else must come back
            def frames(value: str) -> list[tuple[int, int, str]]:
                return [(f.timestamp_ms, f.quality, f.pdq) for f in parse_video(value)]

            assert frames(entries.pop("video")) == frames(expected.pop("video"))
        assert entries == expected


def test_api_lookup_by_file_runs_the_robust_video_path(app: App, clips: dict[str, bytes]) -> None:
    from fastapi.testclient import TestClient

    from takedown.api.app import create_app
    from takedown.api.auth import create_key

    banks.create_bank(app, "partner")
    banks.add_entries(app, "partner", bank_rows(clips["original"]))
    make_agencies(app, "Alpha")
    secret = create_key(app, "lookup", ["lookup"], agency="Alpha").secret
    with TestClient(create_app(app)) as client:

        def results(name: str) -> dict[str, dict]:  # type: ignore[type-arg]
            answer = client.post(
                "/api/v1/lookup/file",
                files={"file": (f"{name}.mp4", clips[name], "video/mp4")},
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert answer.status_code == 200, answer.text
            return {r["signal_type"]: r for r in answer.json()["data"]["results"]}

        cropped = results("crop10")
        assert cropped["video"]["bank_matches"] == []  # vPDQ misses the crop
        (hit,) = cropped[NAME]["bank_matches"]
        assert hit["bank"] == "partner"
        # a start-trimmed copy is found by containment in the banked vPDQ frames
        (contained,) = results("trim_start")[NAME]["bank_matches"]
        assert contained["value"].startswith("vpdq2:") and contained["bank"] == "partner"
        assert results("shapes")[NAME]["bank_matches"] == []
