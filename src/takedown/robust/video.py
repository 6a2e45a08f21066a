"""Robust video matching: trimmed and mirrored frame hashes, containment, keyframe keypoints.

Query side (the upload being checked), nothing new needed on the bank side:

- frames are sampled (``QUERY_RATE`` per second), the margins shared by all sampled frames
  (letterbox, pillar box, a border added by an editor) are cut (``trim.common_box``), and each
  frame gets three PDQ hashes from one DCT: as stored, trimmed, and trimmed + mirrored;
- ``containment``: the share of the query's 1 s buckets with a frame within 31 bits of some
  frame of the banked vPDQ value, and the share of the bank's buckets covered. A trimmed or
  sped-up copy covers only part of the original, so the rule is "query mostly inside the
  original" (``QUERY_SHARE``) and "a fair part of the original present" (``INDEX_SHARE``)
  instead of vPDQ's 80 % both ways.

Crops and overlays change every frame's PDQ; for those the bank also holds a ``keyframe``
keypoint signature of the original (``keyframe_signature``: the frame with most keypoints near
the middle), and the query's sampled frames are verified against it (``keyframe_match``).

Ingest and matching use these through ``takedown.robust.video_signal`` (the ``video_keyframe``
signal type) and ``takedown.robust.video_stage`` (the matcher's step where vPDQ found nothing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import av
import numpy as np
import numpy.typing as npt

from takedown.robust.features import Signature, extract
from takedown.robust.trim import TrimBox, common_box, find_margins
from takedown.robust.verify import MIN_INLIERS, Evidence, verify
from takedown.signals import pdq_core
from takedown.signals.base import UnhashableContent
from takedown.signals.pdq import hamming_matrix, hashes_to_bytes
from takedown.signals.video import (
    BUCKET_MS,
    MAX_DURATION_S,
    MAX_FRAME_PIXELS,
    VideoFrameHash,
    parse,
)

QUERY_RATE = 2.0
FRAME_SIDE = 320
MAX_QUERY_FRAMES = 1200
FRAME_THRESHOLD = 31
MIN_QUALITY = 50
QUERY_SHARE = 70.0
INDEX_SHARE = 30.0
#: Mirror variant: PDQ's dihedral "flip-y" is the left-right mirror of the frame.
MIRROR = "flip-y"


@dataclass
class QueryFrame:
    timestamp_ms: int
    rgb: npt.NDArray[np.uint8]
    hashes: list[str] = field(default_factory=list)
    quality: int = 0


def sample_frames(
    stream: BinaryIO | str, rate: float = QUERY_RATE, max_frames: int = MAX_QUERY_FRAMES
) -> list[QueryFrame]:
    """RGB frames (long side ``FRAME_SIDE``) sampled at ``rate`` per second of the timeline."""
    frames: list[QueryFrame] = []
    try:
        with av.open(stream, mode="r") as container:
            if not container.streams.video:
                raise UnhashableContent("not a video: no video stream")
            if container.duration is not None and container.duration / 1e6 > MAX_DURATION_S:
                raise UnhashableContent("video too long")
            vstream = container.streams.video[0]
            if vstream.width * vstream.height > MAX_FRAME_PIXELS:
                raise UnhashableContent(f"video frames too large: {vstream.width}x{vstream.height}")
            frame_rate = float(vstream.average_rate or 25)
            origin: float | None = None
            last_slot = -1
            for decoded, frame in enumerate(container.decode(vstream)):
                stamp = frame.time if frame.time is not None else decoded / frame_rate
                origin = stamp if origin is None else origin
                seconds = max(0.0, stamp - origin)
                slot = math.floor(seconds * rate + 1e-6)
                if slot <= last_slot:
                    continue
                last_slot = slot
                scale = min(1.0, FRAME_SIDE / max(frame.width, frame.height))
                width = max(8, round(frame.width * scale))
                height = max(8, round(frame.height * scale))
                rgb = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
                frames.append(QueryFrame(round(seconds * 1000), np.asarray(rgb, dtype=np.uint8)))
                if len(frames) >= max_frames:
                    break
    except UnhashableContent:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise UnhashableContent(f"corrupt video: {exc}") from exc
    if not frames:
        raise UnhashableContent("video has no decodable frames")
    return frames


def shared_margins(frames: Sequence[QueryFrame]) -> TrimBox | None:
    """The margins every sampled frame has (a fade to black does not widen them)."""
    return common_box([find_margins(f.rgb) for f in frames])


def hash_frames(frames: Sequence[QueryFrame]) -> TrimBox | None:
    """Fill each frame's hashes: as stored, trimmed (when margins), trimmed and mirrored."""
    box = shared_margins(frames)
    cut = box is not None and box.trimmed
    for f in frames:
        luma = pdq_core.luma_from_rgb(np.ascontiguousarray(f.rgb))
        dct, quality = pdq_core.dct16_from_luma(luma)
        f.hashes = [pdq_core.bits_to_hex(dct)]
        f.quality = quality
        if cut and box is not None:
            inner = np.ascontiguousarray(luma[box.top : box.bottom, box.left : box.right])
            if min(inner.shape) >= pdq_core.MIN_HASHABLE_DIM:
                dct, quality = pdq_core.dct16_from_luma(inner)
                f.hashes.append(pdq_core.bits_to_hex(dct))
                f.quality = max(f.quality, quality)
        f.hashes.append(pdq_core.bits_to_hex(pdq_core.dihedral_block(dct, MIRROR)))
    return box


def _share(stamps: Sequence[int], matched: npt.NDArray[np.bool_]) -> float:
    buckets: dict[int, bool] = {}
    for stamp, hit in zip(stamps, matched.tolist(), strict=True):
        key = stamp // BUCKET_MS
        buckets[key] = buckets.get(key, False) or bool(hit)
    return 100.0 * sum(buckets.values()) / len(buckets) if buckets else 0.0


@dataclass(frozen=True)
class Containment:
    """How much of a query video lies inside a banked one (the containment rule's figures)."""

    query_share: float  # % of the query's 1 s buckets with a frame close to a banked frame
    index_share: float  # % of the banked video's buckets that some query frame is close to
    #: Query frames matched by each of their hashes ("stored", "trimmed", "mirrored").
    matched_by: dict[str, int] = field(default_factory=dict)

    @property
    def contained(self) -> bool:
        return self.query_share >= QUERY_SHARE and self.index_share >= INDEX_SHARE


def hash_labels(count: int) -> tuple[str, ...]:
    """What each of a frame's hashes is, as ``hash_frames`` fills them."""
    return {1: ("stored",), 2: ("stored", "mirrored")}.get(count, ("stored", "trimmed", "mirrored"))


def containment_of(
    frames: Sequence[QueryFrame], bank_value: str | Sequence[VideoFrameHash]
) -> Containment:
    """The containment figures of hashed query frames against a banked vPDQ value."""
    bank = parse(bank_value) if isinstance(bank_value, str) else list(bank_value)
    good_q = [f for f in frames if f.quality >= MIN_QUALITY]
    good_b = [b for b in bank if b.quality >= MIN_QUALITY]
    if not good_q or not good_b:
        return Containment(0.0, 0.0)
    bank_bytes = hashes_to_bytes([b.pdq for b in good_b])
    q_hit = np.zeros(len(good_q), dtype=np.bool_)
    b_hit = np.zeros(len(good_b), dtype=np.bool_)
    by_kind: dict[str, int] = {}
    width = max(len(f.hashes) for f in good_q)
    for k in range(width):
        rows = [i for i, f in enumerate(good_q) if k < len(f.hashes)]
        distances = hamming_matrix(hashes_to_bytes([good_q[i].hashes[k] for i in rows]), bank_bytes)
        close = distances <= FRAME_THRESHOLD
        found = close.any(axis=1)
        for j in np.flatnonzero(found).tolist():
            label = hash_labels(len(good_q[rows[j]].hashes))[k]
            by_kind[label] = by_kind.get(label, 0) + 1
        q_hit[rows] |= found
        b_hit |= close.any(axis=0)
    return Containment(
        _share([f.timestamp_ms for f in good_q], q_hit),
        _share([b.timestamp_ms for b in good_b], b_hit),
        by_kind,
    )


def containment(
    frames: Sequence[QueryFrame], bank_value: str | Sequence[VideoFrameHash]
) -> tuple[float, float]:
    """(% of the query's buckets inside the banked video, % of the bank's buckets present)."""
    found = containment_of(frames, bank_value)
    return found.query_share, found.index_share


def contained(frames: Sequence[QueryFrame], bank_value: str | Sequence[VideoFrameHash]) -> bool:
    return containment_of(frames, bank_value).contained


def keyframe_signature(frames: Sequence[QueryFrame]) -> Signature:
    """Bank side: the signature of the frame with most keypoints in the middle third."""
    if not frames:
        raise UnhashableContent("no frames")
    third = len(frames) // 3
    middle = frames[third : len(frames) - third] or list(frames)
    best: Signature | None = None
    for f in middle[:: max(1, len(middle) // 5)]:
        sig, _box = extract(f.rgb)
        if best is None or len(sig) > len(best):
            best = sig
    if best is None:
        raise UnhashableContent("no frames")
    return best


def keyframe_match(
    frames: Sequence[QueryFrame], keyframe: Signature, step: int = 1
) -> tuple[Evidence | None, int | None]:
    """The best verified evidence of any sampled query frame against the bank's keyframe."""
    best: Evidence | None = None
    at: int | None = None
    for f in frames[::step]:
        for rgb in (f.rgb, np.ascontiguousarray(f.rgb[:, ::-1])):  # as stored, and mirrored
            sig, _box = extract(rgb, keep=168)
            ev = verify(sig, keyframe)
            if ev.matched and (best is None or ev.inliers > best.inliers):
                best, at = ev, f.timestamp_ms
        if best is not None and best.inliers >= 2 * MIN_INLIERS:
            break  # clear enough: no need to look at every frame
    return best, at


# -- benchmark helpers (bench/robustness.py) ------------------------------------------------


def _clip_frames(
    photo: npt.NDArray[np.uint8], seconds: float, fps: int
) -> list[npt.NDArray[np.uint8]]:
    """A slow pan across a photo with a moving square: 320x240 frames."""
    from PIL import Image

    image = Image.fromarray(photo).convert("RGB").resize((480, 360))
    base = np.asarray(image)
    out = []
    count = int(seconds * fps)
    for i in range(count):
        x = int(160 * i / max(1, count - 1))
        y = int(120 * i / max(1, count - 1))
        frame = base[y : y + 240, x : x + 320].copy()
        sx, sy = (20 + 7 * i) % 270, (30 + 5 * i) % 190
        frame[sy : sy + 40, sx : sx + 40] = (230, 40, 40)
        out.append(frame)
    return out


def _encode(frames: Sequence[npt.NDArray[np.uint8]], fps: int) -> bytes:
    import io
    from fractions import Fraction

    buffer = io.BytesIO()
    height, width = frames[0].shape[:2]
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "28", "preset": "ultrafast"}
        stream.time_base = Fraction(1, fps)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(rgb[: stream.height, : stream.width]), format="rgb24"
            )
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def _video_edits() -> dict[str, Any]:
    from PIL import Image, ImageDraw, ImageOps

    def each(fn: Any) -> Any:
        return lambda frames: [np.asarray(fn(Image.fromarray(f))) for f in frames]

    def crop(im: Image.Image) -> Image.Image:
        w, h = im.size
        return im.crop((int(w * 0.07), int(h * 0.07), int(w * 0.97), int(h * 0.97))).resize((w, h))

    def overlay(im: Image.Image) -> Image.Image:
        out = im.copy()
        draw = ImageDraw.Draw(out)
        w, h = out.size
        draw.rectangle((0, int(h * 0.8), w, h), fill=(10, 10, 10))
        draw.text((10, int(h * 0.83)), "channel - follow for more", fill=(255, 255, 255))
        draw.ellipse((w - 60, 8, w - 8, 60), fill=(250, 200, 0))
        return out

    return {
        "crop10": each(crop),
        "border30": each(lambda im: ImageOps.expand(im, border=30, fill=(0, 0, 0))),
        "mirror": each(ImageOps.mirror),
        "overlay": each(overlay),
        "trim_start": lambda frames: frames[len(frames) // 3 :],
        "speed2x": lambda frames: frames[::2],
    }


def _unrelated_picture(seed: int) -> npt.NDArray[np.uint8]:
    """A 480x360 picture of random shapes over noise (never banked)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng((77, seed))
    image = Image.new("RGB", (480, 360), tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(8, 30))):
        x, y = int(rng.integers(0, 480)), int(rng.integers(0, 360))
        w, h = int(rng.integers(10, 200)), int(rng.integers(10, 160))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=fill)
        else:
            draw.ellipse((x, y, x + w, y + h), fill=fill)
    noisy = np.asarray(image).astype(np.int16) + rng.normal(0, 8, (360, 480, 3)).astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def bench_videos(quick: bool = False, unrelated: int = 200) -> dict[str, Any]:
    import io
    import time

    import skimage.data

    from takedown.signals.video import hash_video, video_is_match

    names = ["astronaut", "coffee", "rocket", "camera", "hubble_deep_field", "immunohistochemistry"]
    names += ["retina", "cat", "moon", "coins", "brick", "page"]
    if quick:
        names = names[:4]
    fps, seconds = 10, 8.0
    originals = {}
    for name in names:
        photo = np.asarray(getattr(skimage.data, name)())
        if photo.ndim == 2:
            photo = np.stack([photo] * 3, axis=2)
        originals[name] = _clip_frames(photo[:, :, :3], seconds, fps)
    bank_vpdq = {}
    bank_key = {}
    for name, frames in originals.items():
        data = _encode(frames, fps)
        bank_vpdq[name] = hash_video(io.BytesIO(data))
        bank_key[name] = keyframe_signature(sample_frames(io.BytesIO(data)))
    results: dict[str, dict[str, int]] = {}
    times = {"vpdq": 0.0, "robust": 0.0}
    queries = 0
    false_pos = {"vpdq": 0, "robust": 0}
    for edit, fn in _video_edits().items():
        row = {"vpdq": 0, "containment": 0, "keyframe": 0, "robust": 0}
        for name, frames in originals.items():
            data = _encode(fn(frames), fps)
            start = time.perf_counter()
            query = hash_video(io.BytesIO(data), dense=True)
            plain = {n for n, b in bank_vpdq.items() if video_is_match(query, b)}
            times["vpdq"] += time.perf_counter() - start
            start = time.perf_counter()
            sampled = sample_frames(io.BytesIO(data))
            hash_frames(sampled)
            inside = {n for n, b in bank_vpdq.items() if contained(sampled, b)}
            key = set()
            if not inside:
                for n, sig in bank_key.items():
                    if keyframe_match(sampled, sig, step=2)[0] is not None:
                        key.add(n)
            times["robust"] += time.perf_counter() - start
            queries += 1
            row["vpdq"] += int(name in plain)
            row["containment"] += int(name in inside)
            row["keyframe"] += int(name in key)
            row["robust"] += int(name in inside or name in key)
            false_pos["vpdq"] += len(plain - {name})
            false_pos["robust"] += len((inside | key) - {name})
        results[edit] = row
    # Unrelated clips (pans over pictures never banked), queried like the copies.
    unrelated_hits = {"vpdq": 0, "robust": 0}
    count = min(unrelated, 20) if quick else unrelated
    unrelated_ms = 0.0
    for u in range(count):
        data = _encode(_clip_frames(_unrelated_picture(u), seconds, fps), fps)
        query = hash_video(io.BytesIO(data), dense=True)
        unrelated_hits["vpdq"] += int(any(video_is_match(query, b) for b in bank_vpdq.values()))
        start = time.perf_counter()
        sampled = sample_frames(io.BytesIO(data))
        hash_frames(sampled)
        found = any(contained(sampled, b) for b in bank_vpdq.values()) or any(
            keyframe_match(sampled, sig, step=2)[0] is not None for sig in bank_key.values()
        )
        unrelated_ms += 1000 * (time.perf_counter() - start)
        unrelated_hits["robust"] += int(found)
    return {
        "unrelated_clips": count,
        "unrelated_matched": unrelated_hits,
        "robust_ms_per_unrelated_clip": unrelated_ms / max(1, count),
        "clips": len(originals),
        "seconds": seconds,
        "recall": {e: {k: v / len(originals) for k, v in r.items()} for e, r in results.items()},
        "wrong_clip_matches": false_pos,
        "ms_per_query": {k: 1000 * v / max(1, queries) for k, v in times.items()},
    }


def print_video_bench(r: dict[str, Any]) -> None:
    print(f"\nVideos: {r['clips']} synthetic clips of {r['seconds']:.0f} s (pans over photos)")
    cols = ("vpdq", "containment", "keyframe", "robust")
    print(f"{'edit':<12}" + "".join(f"{c:>13}" for c in cols))
    for edit, row in r["recall"].items():
        print(f"{edit:<12}" + "".join(f"{row[c]:>13.3f}" for c in cols))
    print(f"matches with the wrong clip: {r['wrong_clip_matches']}")
    print(
        f"unrelated clips matched (of {r['unrelated_clips']}): {r['unrelated_matched']}, "
        f"robust {r['robust_ms_per_unrelated_clip']:.1f} ms per unrelated clip"
    )
    ms = r["ms_per_query"]
    print(
        f"time per query clip: vPDQ {ms['vpdq']:.1f} ms, robust {ms['robust']:.1f} ms "
        f"(ratio {ms['robust'] / max(ms['vpdq'], 1e-9):.2f}x)"
    )
