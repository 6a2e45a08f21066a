"""Benchmark: PDQ images/second/core, full vs reduced (JPEG draft) decode, and hash drift.

Run: .venv/bin/python bench/hash_images.py [--quick] [--json]

Synthetic photo-like JPEGs (gradients, shapes, blur, noise; quality 90) at 640x480, 1080p
and 12 MP. Each measurement is single-threaded (one core): decode + PDQ with 8 dihedral
hashes, from the JPEG bytes in memory.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from takedown.signals.imageio import open_image
from takedown.signals.pdq import hamming, pdq_hash_dihedral

SIZES = {"640x480": (640, 480), "1080p": (1920, 1080), "12MP": (4000, 3000)}


def synthetic_jpeg(width: int, height: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = [
        127 + 100 * np.sin(xx / width * rng.uniform(2, 6) + yy / height * rng.uniform(1, 4) + k)
        for k in range(3)
    ]
    image = Image.fromarray(np.clip(np.stack(channels, -1), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(15):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.03, 0.2) * min(width, height)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r / 2, x + r, y + r / 2), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1, width // 800)))
    noise = rng.normal(0, 6, (height, width, 3)).astype(np.int16)
    pixels = np.clip(np.asarray(image).astype(np.int16) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def hash_bytes(data: bytes, reduced: bool) -> str:
    image = open_image(io.BytesIO(data), reduced=reduced)
    hashes, _ = pdq_hash_dihedral(image)
    return hashes[""]


def rate(images: list[bytes], reduced: bool, min_seconds: float) -> float:
    """Images per second on one core (repeats the set until ``min_seconds`` have passed)."""
    done = 0
    start = time.perf_counter()
    while True:
        for data in images:
            hash_bytes(data, reduced)
            done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, shorter timing")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    count = 2 if args.quick else 6
    min_seconds = 1.0 if args.quick else 4.0

    hash_bytes(synthetic_jpeg(64, 48, 0), reduced=False)  # compile the numba kernels
    results = []
    for label, (width, height) in SIZES.items():
        images = [synthetic_jpeg(width, height, seed) for seed in range(count)]
        full = rate(images, reduced=False, min_seconds=min_seconds)
        reduced = rate(images, reduced=True, min_seconds=min_seconds)
        distances = [hamming(hash_bytes(d, False), hash_bytes(d, True)) for d in images]
        decoded = open_image(io.BytesIO(images[0]), reduced=True).size
        results.append(
            {
                "size": label,
                "pixels": width * height,
                "reduced_decode_size": f"{decoded[0]}x{decoded[1]}",
                "full_per_s": round(full, 1),
                "reduced_per_s": round(reduced, 1),
                "speedup": round(reduced / full, 2),
                "median_bits_reduced_vs_full": statistics.median(distances),
                "max_bits_reduced_vs_full": max(distances),
                "images": count,
            }
        )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    header = (
        f"{'size':<9}{'reduced to':>12}{'full img/s':>12}{'reduced img/s':>15}"
        f"{'speedup':>9}{'median bits':>13}{'max bits':>10}"
    )
    print("PDQ (8 dihedral hashes) per core, JPEG q90 synthetic photos")
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['size']:<9}{r['reduced_decode_size']:>12}{r['full_per_s']:>12}"
            f"{r['reduced_per_s']:>15}{r['speedup']:>8}x{r['median_bits_reduced_vs_full']:>13}"
            f"{r['max_bits_reduced_vs_full']:>10}"
        )


if __name__ == "__main__":
    main()
