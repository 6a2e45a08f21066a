"""Benchmark: seconds of video hashed per second of wall time (vPDQ-style video signal).

Run: .venv/bin/python bench/hash_video.py [--quick] [--json]

Generates synthetic H.264 clips (moving shapes over a textured background, 30 frames/s) at
480p and 1080p, then times, in the same run:
  * hash_video at 1 frame/s (bank side) and dense 4 frames/s (query side),
  * a baseline that decodes every frame to a full-size RGB array (what a naive
    "decode then hash" pipeline pays before any hashing).
Decoding uses FFmpeg's frame threads (PyAV ``thread_type = "AUTO"``) in all three.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from takedown.signals.video import hash_video

FPS = 30
SIZES = {"480p": (854, 480), "1080p": (1920, 1080)}


def make_clip(path: Path, width: int, height: int, seconds: float, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.stack(
        [(xx * 255 // width), (yy * 255 // height), ((xx + yy) * 128 // (width + height)) + 60],
        axis=-1,
    ).astype(np.uint8)
    background = np.clip(
        background.astype(np.int16) + rng.normal(0, 8, background.shape).astype(np.int16), 0, 255
    ).astype(np.uint8)
    shapes = [
        (
            rng.uniform(0, width),
            rng.uniform(0, height),
            rng.uniform(-60, 60),
            rng.uniform(-40, 40),
            int(rng.uniform(0.05, 0.15) * height),
            rng.integers(0, 256, 3).astype(np.uint8),
        )
        for _ in range(6)
    ]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "23", "preset": "ultrafast"}
        stream.time_base = Fraction(1, FPS)
        for i in range(round(seconds * FPS)):
            t = i / FPS
            frame = background.copy()
            for x, y, vx, vy, r, colour in shapes:
                cx, cy = int((x + vx * t) % width), int((y + vy * t) % height)
                frame[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r] = colour
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = i
            for packet in stream.encode(video_frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def decode_all_to_rgb(path: Path) -> int:
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
            frames += 1
    return frames


def timed(function: Callable[..., object], *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s clips instead of 20 s")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 20.0
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.mp4"
        make_clip(warm, 160, 120, 1.0)
        hash_video(str(warm))  # compile the numba kernels
        for label, (width, height) in SIZES.items():
            path = Path(tmp) / f"{label}.mp4"
            make_clip(path, width, height, seconds)
            sparse = timed(hash_video, str(path))
            dense = timed(hash_video, str(path), dense=True)
            baseline = timed(decode_all_to_rgb, path)
            results.append(
                {
                    "size": label,
                    "clip_seconds": seconds,
                    "hash_1fps_video_s_per_s": round(seconds / sparse, 1),
                    "hash_dense_4fps_video_s_per_s": round(seconds / dense, 1),
                    "baseline_decode_all_rgb_video_s_per_s": round(seconds / baseline, 1),
                    "frames_per_s_1fps": round(seconds * FPS / sparse),
                }
            )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    header = (
        f"{'size':<7}{'clip s':>7}{'hash 1 fps':>12}{'hash 4 fps':>12}{'decode all->RGB':>17}"
        f"{'decoded fr/s':>14}"
    )
    print("Seconds of video per wall-clock second (H.264, 30 fps, this machine)")
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['size']:<7}{r['clip_seconds']:>7}{r['hash_1fps_video_s_per_s']:>11}x"
            f"{r['hash_dense_4fps_video_s_per_s']:>11}x"
            f"{r['baseline_decode_all_rgb_video_s_per_s']:>16}x{r['frames_per_s_1fps']:>14}"
        )


if __name__ == "__main__":
    main()
