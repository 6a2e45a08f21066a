"""vPDQ as Meta computes it: PDQ of sampled frames at their native resolution.

Hashing (Meta's ``vpdq/cpp/hashing/filehasher.cpp``): frames are numbered in decode order
from 0; frame ``n`` is hashed when ``n % frame_mod == 0``, ``frame_mod = int(seconds_per_hash
* average frame rate)`` (at least 1; ``seconds_per_hash=0``: every frame, as Meta's sample
files); its timestamp is ``n / average frame rate``. Each frame is converted to RGB24 at its
own size (swscale, Lanczos, as Meta asks) and hashed with the C++ float32 luma and PDQ.
pytx's ``VPDQSignal.hash_from_file`` uses ``seconds_per_hash=1``, as ``VideoSignal`` does.

Matching (``vpdq_match``): pytx's ``match_VPDQ_hash_brute``: unique hashes, quality >= 50,
a frame matches when some frame of the other side is within 31 bits; the result is the
share of matched frames of the query and of the compared video. ``vpdq_is_match`` applies
pytx's thresholds (query >= 80 %, compared >= 0 %).

Formats: ``serialise``/``parse`` (the stored ``vpdq2:`` value), ``to_vpdq_file``/
``from_vpdq_file`` (Meta's ``frame,quality,hash,timestamp`` lines) and ``to_pytx``/
``from_pytx`` (pytx's signal string, a JSON list of ``"hash,quality,timestamp"``). See
docs/pdq.md.
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
from takedown.signals.vpdq_formats import (
    from_pytx,
    from_vpdq_file,
    looks_like_pytx,
    looks_like_vpdq_file,
)

PREFIX = "vpdq2:"
OLD_PREFIX = "vpdq1:"
#: Recorded with stored values; values without it (``vpdq1:``: frames shrunk to 256 px,
#: time-slot sampling) are re-computed by ``takedown signals rehash``.
ALGORITHM = "vpdq-meta-1"
#: pytx's ``VPDQSignal.hash_from_file`` default.
SECONDS_PER_HASH = 1.0
DENSE_RATE = 4.0
DEFAULT_RATE = 1.0 / SECONDS_PER_HASH
MAX_DURATION_S = 4 * 3600.0
MAX_DECODED_FRAMES = 4 * 3600 * 60
#: Native-resolution frames: 8K is the largest hashed (a float32 luma of 33 M pixels).
MAX_FRAME_PIXELS = 40_000_000
BUCKET_MS = 1000
#: pytx's vPDQ constants (``extensions/vpdq/vpdq_util.py``).
VPDQ_QUALITY_THRESHOLD = 50
VPDQ_DISTANCE_THRESHOLD = 31
VPDQ_QUERY_MATCH_THRESHOLD_PERCENT = 80.0
VPDQ_INDEX_MATCH_THRESHOLD_PERCENT = 0.0

_RECORD = struct.Struct(">IIB32s")
_OLD_RECORD = struct.Struct(">IB32s")
_MATCH_CHUNK = 1024


class VideoFrameHash(NamedTuple):
    timestamp_ms: int
    quality: int
    pdq: str
    #: Meta's frame number (decode order from 0); -1 when unknown (pytx's lines omit it).
    frame: int = -1


def hash_rgb_frame(rgb: npt.NDArray[np.uint8]) -> tuple[str, int]:
    """PDQ of one RGB24 frame as vPDQ's ``PDQFrameBufferHasher::hashFrame`` computes it."""
    dct, quality = pdq_core.dct16_from_luma(pdq_core.luma_from_rgb(rgb), overwrite=True)
    return pdq_core.bits_to_hex(dct), quality


def frame_mod(seconds_per_hash: float, frame_rate: float) -> int:
    """Meta's ``frameMod``: every how many decoded frames one is hashed."""
    return max(1, int(seconds_per_hash * frame_rate))


def hash_video(
    stream: BinaryIO | str,
    *,
    rate: float | None = None,
    dense: bool = False,
    seconds_per_hash: float | None = None,
    max_duration_s: float = MAX_DURATION_S,
    max_frames: int = MAX_DECODED_FRAMES,
) -> list[VideoFrameHash]:
    """vPDQ frame hashes: one every ``seconds_per_hash`` (default pytx's 1 s; 0 = every
    frame; ``rate`` frames/s or ``dense`` = ``DENSE_RATE`` frames/s are the same setting).

    Raises :class:`UnhashableContent` for unreadable, truncated, audio-only, empty,
    over-long or over-large videos.
    """
    if seconds_per_hash is None:
        chosen = DENSE_RATE if dense else (rate if rate is not None else DEFAULT_RATE)
        if not chosen > 0:
            raise ValueError("rate must be positive")
        seconds_per_hash = 1.0 / chosen
    if seconds_per_hash < 0:
        raise ValueError("seconds_per_hash must be >= 0")
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
            width, height = vstream.width, vstream.height
            if width * height > MAX_FRAME_PIXELS:
                raise UnhashableContent(f"video frames too large: {width}x{height}")
            if min(width, height) < pdq_core.MIN_HASHABLE_DIM:
                raise UnhashableContent(f"video frames too small to hash: {width}x{height}")
            vstream.thread_type = "AUTO"
            # Meta: avg_frame_rate, else r_frame_rate.
            frame_rate = float(vstream.average_rate or vstream.base_rate or 0)
            if not frame_rate > 0:
                raise UnhashableContent("corrupt video: no frame rate")
            mod = frame_mod(seconds_per_hash, frame_rate)
            for number, frame in enumerate(container.decode(vstream)):
                if number >= max_frames or number / frame_rate > max_duration_s:
                    raise UnhashableContent(
                        f"video too long: over {max_frames} frames or {max_duration_s:.0f} s"
                    )
                if number % mod:
                    continue
                if frame.width * frame.height > MAX_FRAME_PIXELS:
                    raise UnhashableContent(f"video frames too large: {frame.width}x{frame.height}")
                rgb = np.ascontiguousarray(
                    frame.to_ndarray(format="rgb24", interpolation="LANCZOS"), dtype=np.uint8
                )
                pdq, quality = hash_rgb_frame(rgb)
                stamp = round(number * 1000.0 / frame_rate)
                frames.append(VideoFrameHash(stamp, quality, pdq, number))
    except UnhashableContent:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError, struct.error) as exc:
        raise UnhashableContent(f"corrupt video: {exc}") from exc
    if not frames:
        raise UnhashableContent("video has no decodable frames")
    return frames


def serialise(frames: Sequence[VideoFrameHash]) -> str:
    """The stored text form: ``vpdq2:`` + URL-safe base64 of 41-byte records (frame number,
    timestamp in ms, quality, 32-byte PDQ)."""
    payload = b"".join(
        _RECORD.pack(max(f.frame, 0), f.timestamp_ms, f.quality, bytes.fromhex(f.pdq))
        for f in frames
    )
    return PREFIX + base64.urlsafe_b64encode(payload).decode("ascii")


def _decode_payload(text: str, prefix: str, record: struct.Struct) -> bytes:
    try:
        payload = base64.urlsafe_b64decode(text[len(prefix) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise InvalidSignal(f"video value is not valid base64: {exc}") from exc
    if not payload or len(payload) % record.size:
        raise InvalidSignal(f"video payload must be a non-empty multiple of {record.size} bytes")
    return payload


def parse(value: str) -> list[VideoFrameHash]:
    """Frames of a value: our ``vpdq2:`` (or the older ``vpdq1:``) form, Meta's vpdq file
    lines, or pytx's signal string. Raises :class:`InvalidSignal`."""
    text = value.strip()
    if text.startswith(PREFIX):
        payload = _decode_payload(text, PREFIX, _RECORD)
        frames = [
            VideoFrameHash(ts, quality, raw.hex(), number)
            for number, ts, quality, raw in _RECORD.iter_unpack(payload)
        ]
    elif text.startswith(OLD_PREFIX):
        payload = _decode_payload(text, OLD_PREFIX, _OLD_RECORD)
        frames = [
            VideoFrameHash(ts, quality, raw.hex(), index)
            for index, (ts, quality, raw) in enumerate(_OLD_RECORD.iter_unpack(payload))
        ]
    elif looks_like_pytx(text):
        frames = [VideoFrameHash(*f) for f in from_pytx(text)]
    elif looks_like_vpdq_file(text):
        frames = [VideoFrameHash(*f) for f in from_vpdq_file(text)]
    else:
        raise InvalidSignal(
            f"video value must be {PREFIX}…, vpdq file lines or pytx's vpdq string, "
            f"got {value[:40]!r}"
        )
    for before, after in itertools.pairwise(frames):
        if after.timestamp_ms < before.timestamp_ms:
            raise InvalidSignal("video frames must be in time order")
    if any(not 0 <= f.quality <= 100 for f in frames):
        raise InvalidSignal("video frame quality must be 0-100")
    return frames


def _prepared(frames: Sequence[VideoFrameHash], min_quality: int) -> list[str]:
    """pytx's ``quality_filter(dedupe(...))``: first occurrence of each hash, then quality."""
    seen: set[str] = set()
    unique: list[VideoFrameHash] = []
    for frame in frames:
        if frame.pdq not in seen:
            seen.add(frame.pdq)
            unique.append(frame)
    return [f.pdq for f in unique if f.quality >= min_quality]


def vpdq_match(
    query: str | Sequence[VideoFrameHash],
    compared: str | Sequence[VideoFrameHash],
    *,
    distance_threshold: int = VPDQ_DISTANCE_THRESHOLD,
    min_quality: int = VPDQ_QUALITY_THRESHOLD,
) -> tuple[float, float]:
    """(query %, compared %) as pytx's ``match_VPDQ_hash_brute`` computes them; a side with
    no frame left after the quality filter gives 0 % (pytx divides by zero)."""
    hashes_q = _prepared(parse(query) if isinstance(query, str) else query, min_quality)
    hashes_c = _prepared(parse(compared) if isinstance(compared, str) else compared, min_quality)
    if not hashes_q or not hashes_c:
        return 0.0, 0.0
    bytes_q, bytes_c = hashes_to_bytes(hashes_q), hashes_to_bytes(hashes_c)
    matched_q = np.zeros(len(hashes_q), dtype=np.bool_)
    matched_c = np.zeros(len(hashes_c), dtype=np.bool_)
    for start in range(0, len(hashes_q), _MATCH_CHUNK):  # bounded memory for long videos
        stop = start + _MATCH_CHUNK
        close = hamming_matrix(bytes_q[start:stop], bytes_c) <= distance_threshold
        matched_q[start:stop] = close.any(axis=1)
        matched_c |= close.any(axis=0)
    return (
        float(matched_q.sum()) * 100 / len(hashes_q),
        float(matched_c.sum()) * 100 / len(hashes_c),
    )


def vpdq_is_match(
    query: str | Sequence[VideoFrameHash],
    compared: str | Sequence[VideoFrameHash],
    *,
    query_match_pct: float = VPDQ_QUERY_MATCH_THRESHOLD_PERCENT,
    compared_match_pct: float = VPDQ_INDEX_MATCH_THRESHOLD_PERCENT,
) -> bool:
    """pytx's ``VPDQSignal.compare_hash`` rule (query >= 80 %, compared >= 0 %)."""
    query_pct, compared_pct = vpdq_match(query, compared)
    return query_pct >= query_match_pct and compared_pct >= compared_match_pct


#: Earlier names, kept for callers (the robust stage, benches).
video_match = vpdq_match
video_is_match = vpdq_is_match


class VideoSignal(SignalType):
    """vPDQ. ``distance(query, compared)`` = 100 - query %, rounded up: <= 20 is pytx's
    match (query >= 80 %; pytx asks nothing of the compared side)."""

    name = "video"
    content_kinds = frozenset({"video"})
    default_threshold = 20
    max_threshold = 100
    index_kind = "pairwise"
    algorithm_version = ALGORITHM

    #: pytx's 1 s; ``dense = True`` on an instance samples DENSE_RATE frames/s.
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
                self.name,
                serialise(frames),
                quality,
                quality < LOW_QUALITY_BELOW,
                "",
                meta,
                algorithm=self.algorithm_version,
            )
        ]

    def validate(self, value: str) -> str:
        return serialise(parse(value))

    def distance(self, a: str, b: str) -> int:
        query_pct, _ = vpdq_match(a, b)
        return math.ceil(100.0 - query_pct - 1e-9)

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        base = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
        other = "0707" * 16
        same = serialise([VideoFrameHash(0, 100, base, 0)])
        diff = serialise([VideoFrameHash(0, 100, other, 0)])
        return [(same, same, True), (same, diff, False)]
