"""A vPDQ-style video signal: PDQ of sampled frames, matched in both directions.

Sampling: the first decoded frame in each ``1/rate`` second slot of the video's own timeline
is hashed (default 1 frame/s, what banks store). ``dense=True`` samples ``DENSE_RATE`` (4)
frames/s; the query side (the upload being checked) should use it, so that every bank frame
has a query frame within 1/8 s even when the two copies' timelines are offset.

Matching (``video_match``): each video's timeline is cut into 1 s buckets; a bucket matches
when any of its frames is within ``frame_threshold`` bits of any frame of the other video.
The result is the share of matched buckets on each side (vPDQ's query % and index %), which
does not depend on how densely either side was sampled.

Serialised value (``VideoSignal``): ``"vpdq1:"`` + URL-safe base64 of 37-byte records
(big-endian uint32 timestamp in ms, uint8 quality, 32-byte PDQ), sorted by time, consecutive
identical hashes removed (the first frame of a run is kept). See docs/pdq.md.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import struct
from collections.abc import Sequence
from typing import BinaryIO, ClassVar, NamedTuple

import av
import numpy as np
import numpy.typing as npt

from takedown.signals import pdq_core
from takedown.signals.base import InvalidSignal, SignalType, SignalValue, UnhashableContent
from takedown.signals.pdq import LOW_QUALITY_BELOW, hamming_matrix, hashes_to_bytes

PREFIX = "vpdq1:"
DEFAULT_RATE = 1.0
DENSE_RATE = 4.0
#: Frames are scaled (area filter) so that their long side is at most this before PDQ.
FRAME_LONG_SIDE = 256
MAX_DURATION_S = 4 * 3600.0
MAX_DECODED_FRAMES = 4 * 3600 * 60
MAX_FRAME_PIXELS = 40_000_000
BUCKET_MS = 1000

_RECORD = struct.Struct(">IB32s")
_MATCH_CHUNK = 1024


class VideoFrameHash(NamedTuple):
    timestamp_ms: int
    quality: int
    pdq: str


def _frame_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, FRAME_LONG_SIDE / max(width, height))
    return max(pdq_core.MIN_HASHABLE_DIM, round(width * scale)), max(
        pdq_core.MIN_HASHABLE_DIM, round(height * scale)
    )


def _hash_rgb(rgb: npt.NDArray[np.uint8]) -> tuple[str, int]:
    dct, quality = pdq_core.dct16_from_luma(pdq_core.luma_from_rgb(rgb))
    return pdq_core.bits_to_hex(dct), quality


def hash_video(
    stream: BinaryIO | str,
    *,
    rate: float = DEFAULT_RATE,
    dense: bool = False,
    max_duration_s: float = MAX_DURATION_S,
    max_frames: int = MAX_DECODED_FRAMES,
) -> list[VideoFrameHash]:
    """PDQ of the frames sampled at ``rate`` frames/s (``DENSE_RATE`` with ``dense``).

    Consecutive identical hashes are collapsed. Raises :class:`UnhashableContent` for
    unreadable, truncated, audio-only, empty or over-long videos.
    """
    sample_rate = DENSE_RATE if dense else rate
    if not sample_rate > 0:
        raise ValueError("rate must be positive")
    frames: list[VideoFrameHash] = []
    try:
        with av.open(stream, mode="r") as container:
            if not container.streams.video:
                raise UnhashableContent("not a video: no video stream")
            if container.duration is not None and container.duration / 1e6 > max_duration_s:
                raise UnhashableContent(
                    f"video too long: {container.duration / 1e6:.0f} s > {max_duration_s:.0f} s"
                )
            vstream = container.streams.video[0]
            if vstream.width * vstream.height > MAX_FRAME_PIXELS:
                raise UnhashableContent(f"video frames too large: {vstream.width}x{vstream.height}")
            vstream.thread_type = "AUTO"
            frame_rate = float(vstream.average_rate or 25)
            last_slot = -1
            decoded = 0
            origin: float | None = None  # time of the first frame: the video's t = 0
            for frame in container.decode(vstream):
                decoded += 1
                stamp = frame.time if frame.time is not None else (decoded - 1) / frame_rate
                origin = stamp if origin is None else origin
                seconds = stamp - origin
                if decoded > max_frames or seconds > max_duration_s:
                    raise UnhashableContent(
                        f"video too long: over {max_frames} frames or {max_duration_s:.0f} s"
                    )
                slot = math.floor(max(seconds, 0.0) * sample_rate + 1e-6)
                if slot <= last_slot:
                    continue
                last_slot = slot
                width, height = _frame_size(frame.width, frame.height)
                rgb = np.asarray(
                    frame.reformat(
                        width=width, height=height, format="rgb24", interpolation="AREA"
                    ).to_ndarray(),
                    dtype=np.uint8,
                )
                pdq, quality = _hash_rgb(rgb)
                if frames and frames[-1].pdq == pdq:
                    continue
                frames.append(VideoFrameHash(round(max(seconds, 0.0) * 1000), quality, pdq))
    except UnhashableContent:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError, struct.error) as exc:
        raise UnhashableContent(f"corrupt video: {exc}") from exc
    if not frames:
        raise UnhashableContent("video has no decodable frames")
    return frames


def serialise(frames: Sequence[VideoFrameHash]) -> str:
    """The compact text form (see module docstring)."""
    payload = b"".join(
        _RECORD.pack(f.timestamp_ms, f.quality, bytes.fromhex(f.pdq)) for f in frames
    )
    return PREFIX + base64.urlsafe_b64encode(payload).decode("ascii")


def parse(value: str) -> list[VideoFrameHash]:
    """Frames of a serialised value, or :class:`InvalidSignal`."""
    text = value.strip()
    if not text.startswith(PREFIX):
        raise InvalidSignal(f"video value must start with {PREFIX!r}, got {value[:40]!r}")
    try:
        payload = base64.urlsafe_b64decode(text[len(PREFIX) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise InvalidSignal(f"video value is not valid base64: {exc}") from exc
    if not payload or len(payload) % _RECORD.size:
        raise InvalidSignal(f"video payload must be a non-empty multiple of {_RECORD.size} bytes")
    frames = [
        VideoFrameHash(ts, quality, raw.hex()) for ts, quality, raw in _RECORD.iter_unpack(payload)
    ]
    for before, after in itertools.pairwise(frames):
        if after.timestamp_ms < before.timestamp_ms:
            raise InvalidSignal("video frames must be in time order")
    if any(f.quality > 100 for f in frames):
        raise InvalidSignal("video frame quality must be 0-100")
    return frames


def _buckets(frames: Sequence[VideoFrameHash]) -> list[list[int]]:
    """Indexes of the frames that overlap each BUCKET_MS bucket (a frame lasts until the next)."""
    first = frames[0].timestamp_ms // BUCKET_MS
    last = frames[-1].timestamp_ms // BUCKET_MS
    buckets: list[list[int]] = [[] for _ in range(last - first + 1)]
    for index, frame in enumerate(frames):
        start = frame.timestamp_ms // BUCKET_MS
        if index + 1 < len(frames):
            end = max(start, (frames[index + 1].timestamp_ms - 1) // BUCKET_MS)
        else:
            end = start
        for bucket in range(start, end + 1):
            buckets[bucket - first].append(index)
    return buckets


def _matched_share(
    frames: Sequence[VideoFrameHash], matched: npt.NDArray[np.bool_], min_quality: int
) -> float:
    counted = hits = 0
    for members in _buckets(frames):
        good = [i for i in members if frames[i].quality >= min_quality]
        if not good:
            continue
        counted += 1
        hits += any(bool(matched[i]) for i in good)
    return 100.0 * hits / counted if counted else 0.0


def video_match(
    a: str | Sequence[VideoFrameHash],
    b: str | Sequence[VideoFrameHash],
    *,
    frame_threshold: int = 31,
    min_quality: int = LOW_QUALITY_BELOW,
) -> tuple[float, float]:
    """(% of a's time buckets matching some frame of b, % of b's matching some frame of a).

    Frames below ``min_quality`` (flat, dark, title cards) neither count nor match, as in
    vPDQ; a video whose every frame is below it matches nothing.
    """
    frames_a = parse(a) if isinstance(a, str) else list(a)
    frames_b = parse(b) if isinstance(b, str) else list(b)
    if not frames_a or not frames_b:
        return 0.0, 0.0
    good_a = np.array([f.quality >= min_quality for f in frames_a])
    good_b = np.array([f.quality >= min_quality for f in frames_b])
    bytes_a = hashes_to_bytes([f.pdq for f in frames_a])
    bytes_b = hashes_to_bytes([f.pdq for f in frames_b])
    matched_a = np.zeros(len(frames_a), dtype=np.bool_)
    matched_b = np.zeros(len(frames_b), dtype=np.bool_)
    for start in range(0, len(frames_a), _MATCH_CHUNK):  # bounded memory for long videos
        stop = start + _MATCH_CHUNK
        close = hamming_matrix(bytes_a[start:stop], bytes_b) <= frame_threshold
        close &= good_a[start:stop, None] & good_b[None, :]
        matched_a[start:stop] = close.any(axis=1)
        matched_b |= close.any(axis=0)
    return (
        _matched_share(frames_a, matched_a, min_quality),
        _matched_share(frames_b, matched_b, min_quality),
    )


def video_is_match(
    a: str | Sequence[VideoFrameHash],
    b: str | Sequence[VideoFrameHash],
    *,
    frame_threshold: int = 31,
    query_match_pct: float = 80.0,
    index_match_pct: float = 80.0,
) -> bool:
    """vPDQ's rule: both directions reach their percentage (a = query, b = index)."""
    query_pct, index_pct = video_match(a, b, frame_threshold=frame_threshold)
    return query_pct >= query_match_pct and index_pct >= index_match_pct


class VideoSignal(SignalType):
    """vPDQ-style video hash. ``distance`` = 100 - min(query %, index %), rounded."""

    name = "video"
    content_kinds = frozenset({"video"})
    default_threshold = 20  # both directions >= 80 %
    max_threshold = 100
    index_kind = "pairwise"

    #: Bank side samples at 1 frame/s; set ``dense = True`` on the instance hashing queries.
    dense: ClassVar[bool] = False

    def __init__(self, *, dense: bool | None = None) -> None:
        self._dense = self.dense if dense is None else dense

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        frames = hash_video(stream, dense=self._dense)
        qualities = sorted(f.quality for f in frames)
        quality = qualities[len(qualities) // 2]
        meta = {
            "frames": str(len(frames)),
            "last_frame_ms": str(frames[-1].timestamp_ms),
            "sampling": "dense" if self._dense else "1fps",
        }
        return [
            SignalValue(
                self.name, serialise(frames), quality, quality < LOW_QUALITY_BELOW, "", meta
            )
        ]

    def validate(self, value: str) -> str:
        return serialise(parse(value))

    def distance(self, a: str, b: str) -> int:
        query_pct, index_pct = video_match(a, b)
        return round(100.0 - min(query_pct, index_pct))

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        base = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
        other = "0707" * 16
        same = serialise([VideoFrameHash(i * 1000, 100, base) for i in range(1)])
        diff = serialise([VideoFrameHash(0, 100, other)])
        return [(same, same, True), (same, diff, False)]
