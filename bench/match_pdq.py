"""PDQ Hamming range search at radius 31: our multi-index vs FAISS flat vs numpy brute force.

    .venv/bin/python bench/match_pdq.py [--sizes 1000000,10000000] [--queries 300] [--quick] [--json]

For each size and each data shape (uniform random hashes; clustered: bases with near-duplicate
copies within 0-20 bits, as real banks are), prints build time, resident memory added by the
index (and the bytes its arrays hold), median and p99 query latency, exact agreement with brute
force on a sample of queries and with FAISS on every query, and the same-run baselines: FAISS
IndexBinaryFlat (range_search with radius 32 returns <= 31) with its default thread count and
with one thread (on a shared 2-core machine the multi-threaded scan is often the slower one),
and a numpy brute force. The ratio column is the faster FAISS median / our median. Then 1 %
more rows are added in batches of 1,000 (incremental, no full rebuild) and the queries are
repeated. Before the runs, a small index is built and searched once so that loading the
compiled kernels (numba's on-disk cache, or compiling them on a first run) is reported apart
from the build time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import faiss
import numpy as np
import psutil

from takedown.match import BruteForceIndex, HammingIndex

RADIUS = 31


def flip(rng: np.random.Generator, rows: np.ndarray, most: int) -> np.ndarray:
    out = rows.copy()
    counts = rng.integers(0, most + 1, size=len(out))
    for k in range(most):
        chosen = np.nonzero(counts > k)[0]
        bit = rng.integers(0, 256, size=len(chosen))
        out[chosen, bit // 8] ^= (1 << (bit % 8)).astype(np.uint8)
    return out


def dataset(rng: np.random.Generator, n: int, shape: str) -> np.ndarray:
    if shape == "uniform":
        return rng.integers(0, 256, (n, 32), dtype=np.uint8)
    bases = rng.integers(0, 256, (max(1, n // 10), 32), dtype=np.uint8)
    return flip(rng, np.repeat(bases, 10, axis=0)[:n], 20)


def timed(fn, queries):  # type: ignore[no-untyped-def]
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 99)), results


def run(n: int, shape: str, n_queries: int, seed: int = 1) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    data = dataset(rng, n, shape)
    ids = np.arange(n, dtype=np.int64)
    near = flip(rng, data[rng.integers(0, n, size=n_queries // 2)], 30)
    queries = np.concatenate(
        [near, rng.integers(0, 256, (n_queries - len(near), 32), dtype=np.uint8)]
    )
    proc = psutil.Process()
    before = proc.memory_info().rss
    start = time.perf_counter()
    index = HammingIndex.build(ids, data)
    build_s = time.perf_counter() - start
    index_mib = (proc.memory_info().rss - before) / 2**20
    array_mib = index.nbytes / 2**20
    ours_med, ours_p99, ours = timed(lambda q: index.search(q, RADIUS), queries)

    flat = faiss.IndexBinaryFlat(256)
    flat.add(data)

    def faiss_query(q: np.ndarray) -> np.ndarray:
        _lims, _d, labels = flat.range_search(q.reshape(1, 32), RADIUS + 1)
        return np.sort(labels)

    threads = faiss.omp_get_max_threads()
    faiss_med, _faiss_p99, faiss_res = timed(faiss_query, queries)
    faiss.omp_set_num_threads(1)
    faiss1_med, _p99, _res = timed(faiss_query, queries)
    faiss.omp_set_num_threads(threads)
    brute = BruteForceIndex.build(ids, data)
    sample = queries[:: max(1, len(queries) // 30)]
    brute_med, _p99, brute_res = timed(lambda q: brute.search(q, RADIUS), sample)
    agree = all(
        np.array_equal(np.sort(ours[i * max(1, len(queries) // 30)][0]), np.sort(b[0]))
        for i, b in enumerate(brute_res)
    ) and all(np.array_equal(np.sort(o[0]), f) for o, f in zip(ours, faiss_res, strict=True))
    # incremental additions: 1 % more rows in batches of 1,000, then the same queries again
    extra = dataset(rng, max(1000, n // 100), shape)
    extra_ids = np.arange(n, n + len(extra), dtype=np.int64)
    start = time.perf_counter()
    for at in range(0, len(extra), 1000):
        index.add(extra_ids[at : at + 1000], extra[at : at + 1000])
    add_s = time.perf_counter() - start
    after_med, _p99, after = timed(lambda q: index.search(q, RADIUS), queries)
    brute.add(extra_ids, extra)
    step = max(1, len(queries) // 10)
    agree_after = all(
        np.array_equal(np.sort(after[i][0]), np.sort(brute.search(queries[i], RADIUS)[0]))
        for i in range(0, len(queries), step)
    )
    return {
        "n": n,
        "shape": shape,
        "build_s": round(build_s, 2),
        "index_rss_mib": round(index_mib),
        "index_array_mib": round(array_mib),
        "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "median_ms": round(ours_med, 3),
        "p99_ms": round(ours_p99, 3),
        "faiss_flat_median_ms": round(faiss_med, 3),
        "faiss_threads": threads,
        "faiss_flat_1thread_median_ms": round(faiss1_med, 3),
        "numpy_brute_median_ms": round(brute_med, 3),
        "speedup_vs_faiss": round(min(faiss_med, faiss1_med) / ours_med, 2),
        "identical_results": agree,
        "added_rows": len(extra),
        "adds_per_s": round(len(extra) / add_s),
        "median_ms_after_adds": round(after_med, 3),
        "identical_after_adds": agree_after,
    }


def warm_up() -> float:
    """Seconds to load (or compile) the index kernels: build and search a small index once."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (20_000, 32), dtype=np.uint8)
    start = time.perf_counter()
    HammingIndex.build(np.arange(len(data)), data).search(data[0], RADIUS)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="100k hashes only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    warm_s = warm_up()
    load = os.getloadavg()[0]
    rows = [run(n, shape, args.queries) for n in sizes for shape in ("uniform", "clustered")]
    if args.json:
        json.dump(
            {
                "benchmark": "match_pdq",
                "radius": RADIUS,
                "kernel_load_s": round(warm_s, 2),
                "load_average_at_start": round(load, 2),
                "results": rows,
            },
            sys.stdout,
            indent=2,
        )
        return
    print(
        f"PDQ range search, radius {RADIUS} (targets at 10M: build < 10 s, < 2 GiB, >= 20x FAISS flat)"
    )
    print(f"kernel load/compile {warm_s:.2f} s; 1-min load average at start {load:.2f}")
    print(
        f"{'n':>10} {'shape':<10}{'build s':>8}{'rss MiB':>8}{'arr MiB':>8}{'med ms':>8}{'p99 ms':>8}"
        f"{'faiss ms':>9}{'faiss1 ms':>10}{'numpy ms':>9}{'x faiss':>8} exact"
    )
    for r in rows:
        print(
            f"{r['n']:>10} {r['shape']:<10}{r['build_s']:>8}{r['index_rss_mib']:>8}"
            f"{r['index_array_mib']:>8}{r['median_ms']:>8}{r['p99_ms']:>8}"
            f"{r['faiss_flat_median_ms']:>9}{r['faiss_flat_1thread_median_ms']:>10}"
            f"{r['numpy_brute_median_ms']:>9}{r['speedup_vs_faiss']:>8} {r['identical_results']}"
        )
    print("after adding 1 % more rows in batches of 1,000:")
    for r in rows:
        print(
            f"{r['n']:>10} {r['shape']:<10} +{r['added_rows']} rows at {r['adds_per_s']} rows/s,"
            f" median {r['median_ms_after_adds']} ms, exact {r['identical_after_adds']}"
        )


if __name__ == "__main__":
    main()
