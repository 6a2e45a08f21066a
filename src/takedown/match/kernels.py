"""Compiled inner loops of the multi-index (numba, cached on disk after first use).

Bit ``b`` of a hash is bit ``63 - b % 64`` of word ``b // 64`` (words are the hash's bytes read
big-endian), so a substring of ``w`` bits starting at bit ``s`` is read with two shifts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

M1 = np.uint64(0x5555555555555555)
M2 = np.uint64(0x3333333333333333)
M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
H01 = np.uint64(0x0101010101010101)

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U64 = npt.NDArray[np.uint64]


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> int:
    x = x - ((x >> np.uint64(1)) & M1)
    x = (x & M2) + ((x >> np.uint64(2)) & M2)
    x = (x + (x >> np.uint64(4))) & M4
    return int((x * H01) >> np.uint64(56))


@njit(cache=True, parallel=True)
def extract_keys(words: U64, starts: I64, widths: I64) -> I64:
    """(n, m) substring keys of n hashes."""
    n, m = words.shape[0], starts.shape[0]
    out = np.empty((n, m), dtype=np.int64)
    for i in prange(n):
        for s in range(m):
            start, width = starts[s], widths[s]
            word, offset = start // 64, start % 64
            high = words[i, word] << np.uint64(offset)
            if offset + width > 64:
                high |= words[i, word + 1] >> np.uint64(64 - offset)
            out[i, s] = np.int64(high >> np.uint64(64 - width))
    return out


@njit(cache=True, parallel=True)
def build_buckets(keys: I64, widths: I64, bases: I64, total: int) -> tuple[I32, I32]:
    """CSR buckets by counting sort: offsets (flat, per substring from ``bases``) and rows."""
    n, m = keys.shape
    offsets = np.zeros(total, dtype=np.int32)  # row numbers fit: an index holds < 2**31 rows
    rows = np.empty((m, n), dtype=np.int32)
    for s in prange(m):  # substrings are independent: one per thread
        base, size = bases[s], 1 << widths[s]
        for i in range(n):
            offsets[base + 1 + keys[i, s]] += 1
        for k in range(size):
            offsets[base + k + 1] += offsets[base + k]
        cursor = offsets[base : base + size].copy()
        for i in range(n):
            k = keys[i, s]
            rows[s, cursor[k]] = i
            cursor[k] += 1
    return offsets, rows


@njit(cache=True)
def _probe(
    key: int,
    base: int,
    s: int,
    offsets: I32,
    rows: I32,
    words: U64,
    query: U64,
    radius: int,
    stamp: I32,
    mark: int,
    out_rows: I64,
    out_dist: I32,
    found: int,
) -> tuple[int, I64, I32]:
    for j in range(offsets[base + key], offsets[base + key + 1]):
        r = rows[s, j]
        if stamp[r] == mark:
            continue
        stamp[r] = mark
        d = (
            _popcount(words[r, 0] ^ query[0])
            + _popcount(words[r, 1] ^ query[1])
            + _popcount(words[r, 2] ^ query[2])
            + _popcount(words[r, 3] ^ query[3])
        )
        if d <= radius:
            if found == out_rows.shape[0]:
                grown_rows = np.empty(found * 2, dtype=np.int64)
                grown_dist = np.empty(found * 2, dtype=np.int32)
                grown_rows[:found] = out_rows
                grown_dist[:found] = out_dist
                out_rows, out_dist = grown_rows, grown_dist
            out_rows[found] = r
            out_dist[found] = d
            found += 1
    return found, out_rows, out_dist


@njit(cache=True)
def mih_search(
    words: U64,
    offsets: I32,
    rows: I32,
    bases: I64,
    widths: I64,
    keys: I64,
    query: U64,
    radius: int,
    flips: int,
    stamp: I32,
    mark: int,
) -> tuple[I64, I32]:
    """Rows within ``radius``: probe every substring key within ``flips`` (0-2) bits of the
    query's, skip rows already seen in this query, verify each candidate's full distance."""
    out_rows = np.empty(64, dtype=np.int64)
    out_dist = np.empty(64, dtype=np.int32)
    found = 0
    for s in range(keys.shape[0]):
        base, width, key = bases[s], widths[s], keys[s]
        found, out_rows, out_dist = _probe(
            key,
            base,
            s,
            offsets,
            rows,
            words,
            query,
            radius,
            stamp,
            mark,
            out_rows,
            out_dist,
            found,
        )
        if flips >= 1:
            for a in range(width):
                one = key ^ (1 << a)
                found, out_rows, out_dist = _probe(
                    one,
                    base,
                    s,
                    offsets,
                    rows,
                    words,
                    query,
                    radius,
                    stamp,
                    mark,
                    out_rows,
                    out_dist,
                    found,
                )
                if flips >= 2:
                    for b in range(a + 1, width):
                        found, out_rows, out_dist = _probe(
                            one ^ (1 << b),
                            base,
                            s,
                            offsets,
                            rows,
                            words,
                            query,
                            radius,
                            stamp,
                            mark,
                            out_rows,
                            out_dist,
                            found,
                        )
    return out_rows[:found], out_dist[:found]
