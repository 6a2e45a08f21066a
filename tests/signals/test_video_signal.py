"""Behaviour of the vPDQ signal on small synthetic clips made with PyAV (Meta's own files:
test_vpdq_meta.py)."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from takedown.signals.base import InvalidSignal, UnhashableContent
from takedown.signals.video import (
    DENSE_RATE,
    VideoFrameHash,
    VideoSignal,
    frame_mod,
    hash_video,
    parse,
    serialise,
    video_is_match,
    video_match,
)

W, H, FPS = 160, 120, 25


def _frame(seed: int, t: float) -> np.ndarray:
    """A textured background with shapes that move with time ``t`` (seconds)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    base = np.stack(
        [
            (xx * rng.uniform(0.5, 1.5) + yy * rng.uniform(0, 1)) % 256,
            (yy * rng.uniform(0.5, 2.0)) % 256,
            (xx * rng.uniform(0.2, 1.0) + 90) % 256,
        ],
        axis=-1,
    ).astype(np.uint8)
    image = Image.fromarray(base)
    draw = ImageDraw.Draw(image)
    for k in range(4):
        cx = (rng.uniform(0, W) + t * rng.uniform(-12, 12)) % W
        cy = (rng.uniform(0, H) + t * rng.uniform(-8, 8)) % H
        r = rng.uniform(10, 30)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        box = (cx - r, cy - r, cx + r, cy + r)
        (draw.ellipse if k % 2 else draw.rectangle)(box, fill=colour)
    return np.asarray(image)


def make_video(
    path: Path,
    *,
    seed: int,
    seconds: float = 3.0,
    start: float = 0.0,
    codec: str = "libx264",
    size: tuple[int, int] = (W, H),
    crf: str = "23",
    first_pts: int = 0,
) -> Path:
    with av.open(str(path), "w") as out:
        stream = cast(av.VideoStream, out.add_stream(codec, rate=FPS))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": crf, "preset": "ultrafast"}
        stream.time_base = Fraction(1, FPS)
        for i in range(round(seconds * FPS)):
            rgb = _frame(seed, start + i / FPS)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if size != (W, H):
                frame = frame.reformat(width=size[0], height=size[1])
            frame.pts = first_pts + i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "original": make_video(d / "original.mp4", seed=4, seconds=4.0),
        # Same content, re-encoded at another size with another codec.
        "reencoded": make_video(
            d / "reencoded.mp4", seed=4, seconds=4.0, codec="mpeg4", size=(240, 180)
        ),
        # Same content, 0.5 s into it: the worst timeline offset for 1 frame/s sampling.
        "offset": make_video(d / "offset.mp4", seed=4, seconds=3.0, start=0.5),
        "different": make_video(d / "different.mp4", seed=2, seconds=4.0),
    }


def test_reencoded_copy_matches_in_both_directions(clips: dict[str, Path]) -> None:
    original = hash_video(str(clips["original"]))
    copy = hash_video(str(clips["reencoded"]))
    assert video_match(copy, original) == (100.0, 100.0)
    assert video_is_match(copy, original)
    signal = VideoSignal()
    assert signal.matches(serialise(copy), serialise(original))


def test_different_video_does_not_match(clips: dict[str, Path]) -> None:
    original = hash_video(str(clips["original"]))
    other = hash_video(str(clips["different"]), dense=True)
    query_pct, index_pct = video_match(other, original)
    assert query_pct == 0.0
    assert index_pct == 0.0
    assert not VideoSignal().matches(serialise(other), serialise(original))


def test_offset_timeline_needs_every_frame_on_one_side(clips: dict[str, Path]) -> None:
    bank = hash_video(str(clips["original"]))  # pytx's sampling: 1 frame/s
    sparse_query = hash_video(str(clips["offset"]))
    # 1 frame/s on both sides samples frames 0.5 s apart: Meta's rule misses the copy.
    assert video_match(sparse_query, bank) == (0.0, 0.0)
    # A bank hashed at every frame (Meta's sample files) has a frame within 1/50 s of each
    # query frame: every query frame matches; the bank's frames outside the excerpt do not.
    every = hash_video(str(clips["original"]), seconds_per_hash=0)
    query_pct, bank_pct = video_match(sparse_query, every)
    assert query_pct == 100.0 and bank_pct < 50.0
    assert video_is_match(sparse_query, every)


def test_sampling_follows_metas_frame_mod(clips: dict[str, Path]) -> None:
    sparse = hash_video(str(clips["original"]))
    dense = hash_video(str(clips["original"]), dense=True)
    every = hash_video(str(clips["original"]), seconds_per_hash=0)
    assert [(f.frame, f.timestamp_ms) for f in sparse] == [
        (0, 0),
        (25, 1000),
        (50, 2000),
        (75, 3000),
    ]
    mod = frame_mod(1 / DENSE_RATE, FPS)
    assert mod == 6 and [f.frame for f in dense] == list(range(0, 4 * FPS, mod))
    assert [f.frame for f in every] == list(range(4 * FPS))
    assert [f.timestamp_ms for f in every[:3]] == [0, 40, 80]


def test_still_video_keeps_every_frame_and_counts_it_once(tmp_path: Path) -> None:
    path = tmp_path / "still.mkv"
    still = _frame(3, 0.0)
    with av.open(str(path), "w") as out:
        # Lossless: every frame decodes to the same pixels.
        stream = out.add_stream("ffv1", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv444p"
        for i in range(3 * FPS):
            frame = av.VideoFrame.from_ndarray(still, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    frames = hash_video(str(path))
    assert [f.timestamp_ms for f in frames] == [0, 1000, 2000]  # Meta keeps them all
    assert len({f.pdq for f in frames}) == 1
    other = [VideoFrameHash(0, 90, "0f" * 32, 0)]
    # pytx's rule de-duplicates hashes: the still counts as one frame.
    assert video_match(frames, frames + other) == (100.0, 50.0)


def test_hash_stream_returns_one_serialised_value(clips: dict[str, Path]) -> None:
    with clips["original"].open("rb") as stream:
        (value,) = VideoSignal().hash_stream(stream)
    assert value.signal_type == "video"
    assert value.meta["frames"] == "4"
    assert len(parse(value.value)) == 4
    assert VideoSignal().validate(value.value) == value.value


def test_video_without_frames_is_unhashable(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height = W, H
    with pytest.raises(UnhashableContent, match=r"no decodable frames|corrupt video"):
        hash_video(str(path))


def test_truncated_video_is_unhashable(clips: dict[str, Path]) -> None:
    data = clips["original"].read_bytes()
    with pytest.raises(UnhashableContent, match=r"corrupt video|no decodable frames"):
        VideoSignal().hash_stream(io.BytesIO(data[: len(data) // 2]))


def test_non_video_bytes_are_unhashable() -> None:
    with pytest.raises(UnhashableContent, match="corrupt video"):
        VideoSignal().hash_stream(io.BytesIO(b"this is not a video at all\n" * 200))


def test_audio_only_file_is_unhashable(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000, layout="mono")
        samples = (np.sin(np.arange(8000) / 5.0) * 8000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(UnhashableContent, match="no video stream"):
        hash_video(str(path))


def test_video_over_the_duration_limit_is_unhashable(clips: dict[str, Path]) -> None:
    with pytest.raises(UnhashableContent, match="too long"):
        hash_video(str(clips["original"]), max_duration_s=2.0)


def test_serialised_form_round_trips() -> None:
    frames = [
        VideoFrameHash(0, 80, "ab" * 32, 0),
        VideoFrameHash(1000, 12, "0f" * 32, 30),
        VideoFrameHash(2500, 100, "f0" * 32, 75),
    ]
    text = serialise(frames)
    assert text.startswith("vpdq2:")
    assert parse(text) == frames


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ab" * 32,
        "vpdq1:",
        "vpdq1:not base64!",
        "vpdq1:" + serialise([VideoFrameHash(0, 1, "00" * 32)])[6:-4],
        serialise([VideoFrameHash(5, 1, "00" * 32), VideoFrameHash(4, 1, "00" * 32)]),
        serialise([VideoFrameHash(0, 101, "00" * 32)]),
    ],
)
def test_malformed_values_are_invalid(value: str) -> None:
    with pytest.raises(InvalidSignal):
        VideoSignal().validate(value)


def test_low_quality_frames_neither_count_nor_match() -> None:
    flat = [VideoFrameHash(i * 1000, 0, "00" * 32) for i in range(3)]
    assert video_match(flat, flat) == (0.0, 0.0)
    assert video_match(flat, flat, min_quality=0) == (100.0, 100.0)


def test_contract_examples_behave_as_declared() -> None:
    signal = VideoSignal()
    for a, b, expected in signal.examples():
        assert signal.matches(a, b) is expected


def test_long_videos_are_matched_across_chunks() -> None:
    rng = np.random.default_rng(0)
    long_video = [
        VideoFrameHash(i * 1000, 90, bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex())
        for i in range(1500)
    ]
    excerpt = [long_video[1400]._replace(timestamp_ms=0)]
    long_pct, excerpt_pct = video_match(long_video, excerpt)
    assert excerpt_pct == 100.0
    assert long_pct == pytest.approx(100.0 / 1500)


def test_dense_signal_records_its_sampling(clips: dict[str, Path]) -> None:
    with clips["original"].open("rb") as stream:
        (value,) = VideoSignal(dense=True).hash_stream(stream)
    assert value.meta["sampling"] == "dense"
    assert len(parse(value.value)) == len(range(0, 4 * FPS, frame_mod(1 / DENSE_RATE, FPS)))


def test_timestamps_start_at_zero_whatever_the_container_clock(tmp_path: Path) -> None:
    # Matroska keeps the encoder's clock (here starting at 2 s); time counts from frame 1.
    path = make_video(tmp_path / "clip.mkv", seed=4, seconds=2.0, first_pts=2 * FPS)
    with av.open(str(path)) as container:
        first = next(container.decode(video=0))
        assert first.time is not None and first.time > 1.0
    assert [f.timestamp_ms for f in hash_video(str(path))] == [0, 1000]
