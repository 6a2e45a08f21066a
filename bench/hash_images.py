"""Benchmark: exact PDQ images/second/core against pytx's own hashing, in the same run.

Run: .venv/bin/python bench/hash_images.py [--quick] [--json]

Synthetic photo-like JPEGs (gradients, shapes, blur, noise; quality 90) at 640x480, 1080p
and 12 MP. Each measurement is single-threaded (one core), from the JPEG bytes in memory:
* ``takedown``: ``PdqSignal().hash_stream`` (full decode, pytx's array, the 8 dihedral hashes,
  the mirror and trim variants): what Takedown stores;
* ``pytx``: pytx's ``pdq_hasher.pdq_from_bytes`` (Pillow + ``pdqhash.compute``: one hash),
  the reference (``threatexchange`` and ``pdqhash`` are dev dependencies);
* ``pytx_dihedral``: pytx's array through ``pdqhash.compute_dihedral`` (8 hashes), the like-
  for-like reference for what Takedown computes.
``agree`` counts images whose hash and quality equal pytx's, bit for bit.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from takedown.signals.pdq import PdqSignal

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


def ours(data: bytes) -> tuple[str, int]:
    value = PdqSignal().hash_stream(io.BytesIO(data))[0]
    return value.value, int(value.quality or 0)


def pytx(data: bytes) -> tuple[str, int]:
    from threatexchange.signal_type.pdq import pdq_hasher

    return pdq_hasher.pdq_from_bytes(data)


def pytx_dihedral(data: bytes) -> object:
    import pdqhash
    from threatexchange.signal_type.pdq import pdq_hasher

    image = Image.open(io.BytesIO(data))
    return pdqhash.compute_dihedral(pdq_hasher._convert_image_to_correct_array_dimension(image))


def rate(images: list[bytes], fn: Callable[[bytes], object], min_seconds: float) -> float:
    """Images per second on one core (repeats the set until ``min_seconds`` have passed)."""
    done = 0
    start = time.perf_counter()
    while True:
        for data in images:
            fn(data)
            done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, shorter runs")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    count, min_seconds = (2, 0.5) if args.quick else (6, 3.0)
    ours(synthetic_jpeg(64, 48, 0))  # compile the numba kernels
    rows = []
    for name, (width, height) in SIZES.items():
        images = [synthetic_jpeg(width, height, seed) for seed in range(count)]
        agree = sum(ours(d) == pytx(d) for d in images)
        rows.append(
            {
                "size": name,
                "images": count,
                "agree_with_pytx": agree,
                "takedown_per_s": round(rate(images, ours, min_seconds), 1),
                "pytx_per_s": round(rate(images, pytx, min_seconds), 1),
                "pytx_dihedral_per_s": round(rate(images, pytx_dihedral, min_seconds), 1),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'size':<9}{'agree':>8}{'takedown img/s':>16}{'pytx img/s':>12}{'pytx 8-hash':>13}")
    for r in rows:
        print(
            f"{r['size']:<9}{r['agree_with_pytx']:>4}/{r['images']:<3}{r['takedown_per_s']:>16}"
            f"{r['pytx_per_s']:>12}{r['pytx_dihedral_per_s']:>13}"
        )


if __name__ == "__main__":
    main()
