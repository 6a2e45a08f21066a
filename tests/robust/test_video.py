from __future__ import annotations

import io

import numpy as np
import pytest
import skimage.data

from takedown.robust import video
from takedown.robust.features import Signature
from takedown.signals.base import UnhashableContent
from takedown.signals.video import VideoFrameHash, hash_video, video_is_match

Banked = dict[str, tuple[list[VideoFrameHash], Signature]]

FPS = 10
EDITS = video._video_edits()


def clip(name: str) -> list[np.ndarray]:
    data = np.asarray(getattr(skimage.data, name)())
    if data.ndim == 2:
        data = np.stack([data] * 3, axis=2)
    return video._clip_frames(data[:, :, :3], 5.0, FPS)


@pytest.fixture(scope="module")
def originals() -> dict[str, list[np.ndarray]]:
    return {name: clip(name) for name in ("astronaut", "coffee")}


@pytest.fixture(scope="module")
def banked(originals: dict[str, list[np.ndarray]]) -> Banked:
    out = {}
    for name, frames in originals.items():
        data = video._encode(frames, FPS)
        out[name] = (
            hash_video(io.BytesIO(data)),
            video.keyframe_signature(video.sample_frames(io.BytesIO(data))),
        )
    return out


def query(frames: list[np.ndarray]) -> list[video.QueryFrame]:
    sampled = video.sample_frames(io.BytesIO(video._encode(frames, FPS)))
    video.hash_frames(sampled)
    return sampled


@pytest.mark.parametrize("edit", ["border30", "mirror", "speed2x"])
def test_border_mirror_and_speed_are_contained_in_the_original(
    edit: str, originals: dict[str, list[np.ndarray]], banked: Banked
) -> None:
    frames = query(EDITS[edit](originals["astronaut"]))
    assert video.contained(frames, banked["astronaut"][0])
    assert not video.contained(frames, banked["coffee"][0])


def test_bordered_clip_is_missed_by_plain_vpdq(
    originals: dict[str, list[np.ndarray]], banked: Banked
) -> None:
    data = video._encode(EDITS["border30"](originals["astronaut"]), FPS)
    assert not video_is_match(hash_video(io.BytesIO(data), dense=True), banked["astronaut"][0])


@pytest.mark.parametrize("edit", ["crop10", "overlay"])
def test_crop_and_overlay_are_found_by_keyframe_keypoints(
    edit: str, originals: dict[str, list[np.ndarray]], banked: Banked
) -> None:
    frames = query(EDITS[edit](originals["astronaut"]))
    evidence, at = video.keyframe_match(frames, banked["astronaut"][1])
    assert evidence is not None and evidence.matched and at is not None
    assert video.keyframe_match(frames, banked["coffee"][1])[0] is None


def test_letterboxed_frames_share_their_margins() -> None:
    frames = [np.zeros((120, 200, 3), dtype=np.uint8) for _ in range(3)]
    rng = np.random.default_rng(0)
    for f in frames:
        f[15:105] = rng.integers(0, 256, (90, 200, 3))
    box = video.shared_margins([video.QueryFrame(0, f) for f in frames])
    assert box is not None and (box.top, box.bottom) == (15, 105)


def test_not_a_video_is_refused() -> None:
    with pytest.raises(UnhashableContent):
        video.sample_frames(io.BytesIO(b"\x00" * 2048))
