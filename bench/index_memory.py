"""Memory of each matching index per million entries (sizing workers and API processes).

    .venv/bin/python bench/index_memory.py [--pdq 1000000] [--keypoints 20000]
                                           [--minhash 100000] [--quick] [--json]

Builds, in this process, each kind of in-memory index the matching registry holds
(``takedown.matching.registry``) from synthetic values of the real shapes, and reports the
bytes it keeps (``tracemalloc``, which numpy reports its arrays to: not disturbed by other
processes on a shared machine) per entry and per million entries, with the resident-memory
growth beside it:

- ``pdq``: the Hamming set of a bank or content PDQ index (``CandidateIndex``);
- ``keypoints``: a keypoint index (``KeypointIndex``, bank or content of the keypoint and the
  video keyframe stages) of 56-descriptor signatures with a 16 x 16 colour layout each, as
  ``takedown.robust.features`` keeps them, plus the stage's per-entry bookkeeping;
- ``minhash``: the text MinHash LSH set (``text.candidates.MinHashSet``) of 128-bin sketches.

The per-entry figure is everything the index keeps divided by its entries, fixed tables
included (the PDQ multi-index sizes its bucket directories by the count, so its figure is only
meaningful near a million: the default size), and the per-million figure that times a million.
Baseline, measured in the same run: the bytes
of the stored values themselves (the strings in the database); the ratio says how much more
the index keeps than the raw values.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil

from takedown.matching.candidates import _HammingSet
from takedown.robust.features import KEEP, WORK_SIDE, Signature, encode
from takedown.robust.index import KeypointIndex
from takedown.robust.layout import GRID
from takedown.text import minhash
from takedown.text.candidates import MinHashSet


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def held_by(build: Callable[[], Any]) -> tuple[int, int]:
    """(bytes traced, resident growth) that what ``build`` returns keeps."""
    gc.collect()
    rss_before = rss()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    grown = rss() - rss_before
    del kept
    return held, grown


def measure(
    name: str, n: int, value_bytes: int, build: Callable[[int], Any], extra: int = 0
) -> dict[str, Any]:
    """Per-entry cost of an index of ``n`` entries (``extra``: bytes per entry kept outside
    what ``build`` allocates, e.g. the decoded signatures)."""
    full, grown = held_by(lambda: build(n))
    per = full / n + extra
    return {
        "index": name,
        "entries": n,
        "bytes_per_entry": round(per),
        "mib_per_million": round(per * 1_000_000 / 2**20),
        "rss_growth_mib": round(grown / 2**20, 1),
        "value_bytes_per_entry": round(value_bytes / n),
        "ratio_to_values": round(per * n / value_bytes, 2),
    }


def pdq_case(n: int, rng: np.random.Generator) -> dict[str, Any]:
    values = [bytes(row).hex() for row in rng.integers(0, 256, size=(n, 32), dtype=np.uint8)]
    ids = list(range(1, n + 1))
    return measure(
        "pdq (Hamming set)",
        n,
        sum(len(v) for v in values),
        lambda k: _HammingSet(ids[:k], values[:k], ids[:k]),
    )


def keypoint_case(n: int, rng: np.random.Generator) -> dict[str, Any]:
    def signature() -> Signature:
        return Signature(
            width=WORK_SIDE,
            height=WORK_SIDE,
            points=rng.uniform(0, WORK_SIDE, size=(KEEP, 2)).astype(np.float32),
            descriptors=rng.integers(0, 256, size=(KEEP, 32), dtype=np.uint8),
            layout=rng.integers(0, 256, size=(GRID, GRID, 3), dtype=np.uint8),
        )

    sigs = [signature() for _ in range(n)]
    value_bytes = sum(len(encode(s)) for s in sigs[:200]) * n // min(n, 200)

    def build(k: int) -> tuple[KeypointIndex, set[int], dict[int, int]]:
        index = KeypointIndex()
        index.add_many((i, s) for i, s in enumerate(sigs[:k], 1))
        # the stage's bookkeeping: entries taken in, content's indexed signal ids
        return index, set(range(1, k + 1)), {i: i for i in range(1, k + 1)}

    # the signatures themselves exist before the build (decoded from the store): count them
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    again = [
        Signature(s.width, s.height, s.points.copy(), s.descriptors.copy(), s.layout.copy())
        for s in sigs[:200]
    ]
    sig_bytes = (tracemalloc.get_traced_memory()[0] - base) // len(again)
    tracemalloc.stop()
    del again
    return measure("keypoints (keypoint index)", n, value_bytes, build, extra=sig_bytes)


def minhash_case(n: int, rng: np.random.Generator) -> dict[str, Any]:
    sketches = rng.integers(0, 2**32, size=(n, minhash.NUM_BINS), dtype=np.uint32)
    values = [minhash.serialise(row, sorted(random.sample(range(2**32), 3))) for row in sketches]
    ids = list(range(1, n + 1))
    return measure(
        "text_minhash (LSH set)",
        n,
        sum(len(v) for v in values),
        lambda k: MinHashSet(ids[:k], values[:k], ids[:k]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdq", type=int, default=1_000_000)
    parser.add_argument("--keypoints", type=int, default=20_000)
    parser.add_argument("--minhash", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="a tenth of every size")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    rng = np.random.default_rng(20261207)
    random.seed(20261207)
    results = [
        pdq_case(max(1000, args.pdq // scale), rng),
        keypoint_case(max(200, args.keypoints // scale), rng),
        minhash_case(max(1000, args.minhash // scale), rng),
    ]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{'index':<28}{'entries':>9}{'B/entry':>9}{'MiB/1M':>9}{'RSS MiB':>9}"
        f"{'value B':>9}{'ratio':>7}"
    )
    for r in results:
        print(
            f"{r['index']:<28}{r['entries']:>9}{r['bytes_per_entry']:>9}"
            f"{r['mib_per_million']:>9}{r['rss_growth_mib']:>9}"
            f"{r['value_bytes_per_entry']:>9}{r['ratio_to_values']:>7}"
        )
    print("ratio: bytes the index keeps per entry / bytes of the stored value (same run)")


if __name__ == "__main__":
    main()
