"""Compiled inner loops of the multi-index (numba, cached on disk after first use).

Bit ``b`` of a hash is bit ``63 - b % 64`` of word ``b // 64`` (words are the hash's bytes read
big-endian), so a substring of ``w`` bits starting at bit ``s`` is read with two shifts.

A query is a few thousand independent random reads (bucket offsets, bucket rows, candidate
hashes). Done one probe at a time, each read waits for the one before it; ``mih_search``
instead runs in stages (all probe slots, then all bucket ranges, then all candidates, then all
distances), prefetching each stage's reads while the stage before it is still running, so the
memory system serves many misses at once. Query-time code is serial: waking worker threads for
one query costs more than it saves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from llvmlite import ir  # type: ignore[import-untyped]
from numba import njit, prange, types
from numba.core import cgutils as _cgutils
from numba.extending import intrinsic

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U64 = npt.NDArray[np.uint64]

cgutils: Any = _cgutils  # untyped helpers


def _prefetch(typingctx: Any, arr: Any, idx: Any) -> Any:
    """Hint that ``arr[idx]`` (a 1-D array) will be read soon; never faults, returns nothing."""

    sig = types.void(arr, idx)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, aryty, ary, [args[1]], wraparound=False, boundscheck=False
        )
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read (0), high temporal locality (3), data cache (1)
        builder.call(
            fn,
            [
                builder.bitcast(ptr, byte_ptr),
                ir.Constant(i32, 0),
                ir.Constant(i32, 3),
                ir.Constant(i32, 1),
            ],
        )
        return context.get_dummy_value()

    return sig, codegen


prefetch: Any = intrinsic(_prefetch)


def _popcount_intrinsic(typingctx: Any, x: Any) -> Any:
    """Set bits of a uint64, as one ``llvm.ctpop`` (the POPCNT instruction on x86-64)."""
    if x != types.uint64:
        return None
    sig = types.int64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


_popcount: Any = intrinsic(_popcount_intrinsic)


@njit(cache=True, inline="always")
def _key(w0: np.uint64, w1: np.uint64, offset: int, width: int) -> int:
    """The ``width``-bit substring starting ``offset`` bits into word ``w0`` (then ``w1``)."""
    high = w0 << np.uint64(offset)
    if offset + width > 64:
        high |= w1 >> np.uint64(64 - offset)
    return int(high >> np.uint64(64 - width))


@njit(cache=True, parallel=True)
def to_words(hashes: npt.NDArray[np.uint8]) -> U64:
    """(n, 4) words from (n, 32) hash bytes, each word the bytes read big-endian."""
    n = hashes.shape[0]
    out = np.empty((n, 4), dtype=np.uint64)
    for i in prange(n):
        for w in range(4):
            value = np.uint64(0)
            for b in range(8):
                value = (value << np.uint64(8)) | np.uint64(hashes[i, 8 * w + b])
            out[i, w] = value
    return out


LOW_BITS = 12  # key bits sorted inside one partition (its counters stay in L1 cache)


@njit(cache=True)
def _bucket_one(
    words: U64,
    start: int,
    width: int,
    offsets: I32,
    rows: I32,
    keys: I32,
    packed: I64,
) -> None:
    """CSR bucket of one substring: ``offsets`` (2**width + 1) and ``rows`` (n) by key.

    A two-level sort that stays in cache: the rows are first split by their key's high bits
    into contiguous partitions (one sequential write stream per partition), then each
    partition is counting-sorted by the low ``LOW_BITS`` bits with counters that fit in L1.
    A direct counting sort over all 2**width keys would instead make two random accesses
    per row into tables far larger than the cache."""
    n = words.shape[0]
    word, offset = start // 64, start % 64
    nxt = min(word + 1, 3)
    low = min(width, LOW_BITS)
    parts = 1 << (width - low)
    low_mask = (1 << low) - 1
    head = np.zeros(parts + 1, dtype=np.int64)
    for i in range(n):
        k = _key(words[i, word], words[i, nxt], offset, width)
        keys[i] = k
        head[1 + (k >> low)] += 1
    for p in range(parts):
        head[p + 1] += head[p]
    cursor = head[:parts].copy()
    for i in range(n):
        k = keys[i]
        p = k >> low
        packed[cursor[p]] = (np.int64(k & low_mask) << 32) | i
        cursor[p] += 1
    local = np.empty((1 << low) + 1, dtype=np.int64)
    for p in range(parts):
        a, b = head[p], head[p + 1]
        local[:] = 0
        for j in range(a, b):
            local[1 + (packed[j] >> 32)] += 1
        local[0] = a
        for k in range(1 << low):
            local[k + 1] += local[k]
        at = p << low
        for k in range(1 << low):
            offsets[at + k] = local[k]
        for j in range(a, b):
            v = packed[j]
            k = v >> 32
            rows[local[k]] = np.int32(v & 0xFFFFFFFF)
            local[k] += 1
    offsets[1 << width] = n


@njit(cache=True, parallel=True)
def build_buckets(
    words: U64, starts: I64, widths: I64, bases: I64, total: int, threads: int
) -> tuple[I32, I32]:
    """CSR buckets of every substring: ``offsets`` (flat, substring ``s`` from ``bases[s]``,
    ``2**widths[s] + 1`` entries) and ``rows`` (m, n), row numbers sorted by key. Thread ``t``
    sorts substrings ``t, t + threads, ...`` with its own scratch arrays (allocated once), and
    the threads meet only at the end. Keys are read straight from the hash words."""
    n, m = words.shape[0], starts.shape[0]
    offsets = np.empty(total, dtype=np.int32)  # row numbers fit: an index holds < 2**31 rows
    rows = np.empty((m, n), dtype=np.int32)
    for t in prange(threads):
        keys = np.empty(n, dtype=np.int32)
        packed = np.empty(n, dtype=np.int64)
        for s in range(t, m, threads):
            size = (1 << widths[s]) + 1
            _bucket_one(
                words,
                starts[s],
                widths[s],
                offsets[bases[s] : bases[s] + size],
                rows[s],
                keys,
                packed,
            )
    return offsets, rows


@njit(cache=True, inline="always")
def _distance(words: U64, r: int, query: U64) -> int:
    return int(
        _popcount(words[r, 0] ^ query[0])
        + _popcount(words[r, 1] ^ query[1])
        + _popcount(words[r, 2] ^ query[2])
        + _popcount(words[r, 3] ^ query[3])
    )


@njit(cache=True)
def scan(words: U64, query: U64, radius: int) -> tuple[I64, I32]:
    """Rows of ``words`` (n, 4) within ``radius`` of ``query``, by a full scan: one pass to
    count, one to fill (growing the outputs inside the loop would cost more than the pass)."""
    found = 0
    for r in range(words.shape[0]):
        found += _distance(words, r, query) <= radius
    out_rows = np.empty(found, dtype=np.int64)
    out_dist = np.empty(found, dtype=np.int32)
    if found:
        at = 0
        for r in range(words.shape[0]):
            d = _distance(words, r, query)
            if d <= radius:
                out_rows[at] = r
                out_dist[at] = d
                at += 1
    return out_rows, out_dist


@njit(cache=True)
def mih_search(
    words: U64,
    offsets: I32,
    rows: I32,
    n: int,
    bases: I64,
    starts: I64,
    widths: I64,
    limits: I64,
    query: U64,
    radius: int,
) -> tuple[I64, I32]:
    """Rows within ``radius`` of ``query``, each once, in row order.

    ``words`` is the (n, 4) hash table flattened, ``rows`` the (m, n) bucket rows flattened.
    In substring ``s`` every key within ``limits[s]`` (-1 = skip the substring, else 0-2) bits
    of the query's is probed; with ``sum(limits) >= radius - m + 1`` every row within ``radius``
    is in some probed bucket (see hamming.limits_for), and every candidate's full distance is
    verified, so the result is exact."""
    m = starts.shape[0]
    keys = np.empty(m, dtype=np.int64)
    total = 0
    for s in range(m):
        word, offset = starts[s] // 64, starts[s] % 64
        keys[s] = _key(query[word], query[min(word + 1, 3)], offset, widths[s])
        w, t = widths[s], limits[s]
        if t >= 0:
            total += 1
        if t >= 1:
            total += w
        if t >= 2:
            total += w * (w - 1) // 2
    # stage 1: every probe slot, prefetching its offsets
    slot = np.empty(total, dtype=np.int64)
    sub = np.empty(total, dtype=np.int64)
    p = 0
    for s in range(m):
        base, w, key, t = bases[s], widths[s], keys[s], limits[s]
        if t < 0:
            continue
        slot[p] = base + key
        sub[p] = s * n
        prefetch(offsets, base + key)
        p += 1
        if t < 1:
            continue
        for a in range(w):
            one = key ^ (1 << a)
            slot[p] = base + one
            sub[p] = s * n
            prefetch(offsets, base + one)
            p += 1
            if t < 2:
                continue
            for b in range(a + 1, w):
                two = one ^ (1 << b)
                slot[p] = base + two
                sub[p] = s * n
                prefetch(offsets, base + two)
                p += 1
    # stage 2: the non-empty bucket ranges, prefetching their rows
    first = np.empty(p, dtype=np.int64)
    count = np.empty(p, dtype=np.int64)
    q = 0
    candidates = 0
    for i in range(p):
        lo = offsets[slot[i]]
        size = offsets[slot[i] + 1] - lo
        first[q] = sub[i] + lo
        count[q] = size
        candidates += size
        if size > 0:
            prefetch(rows, sub[i] + lo)
            q += 1
    # stage 3: the candidate rows, prefetching their hashes
    cand = np.empty(candidates, dtype=np.int64)
    c = 0
    for i in range(q):
        at = first[i]
        for j in range(count[i]):
            r = rows[at + j]
            cand[c] = r
            prefetch(words, 4 * r)
            c += 1
    # stage 4: full distances
    out_rows = np.empty(c, dtype=np.int64)
    out_dist = np.empty(c, dtype=np.int32)
    found = 0
    for i in range(c):
        at = 4 * cand[i]
        d = (
            _popcount(words[at] ^ query[0])
            + _popcount(words[at + 1] ^ query[1])
            + _popcount(words[at + 2] ^ query[2])
            + _popcount(words[at + 3] ^ query[3])
        )
        if d <= radius:
            out_rows[found] = cand[i]
            out_dist[found] = d
            found += 1
    # a row near the query in several substrings was found once per substring
    order = np.argsort(out_rows[:found])
    res_rows = np.empty(found, dtype=np.int64)
    res_dist = np.empty(found, dtype=np.int32)
    unique = 0
    last = -1
    for i in range(found):
        r = out_rows[order[i]]
        if r != last:
            res_rows[unique], res_dist[unique] = r, out_dist[order[i]]
            unique += 1
            last = r
    return res_rows[:unique], res_dist[:unique]
