"""Compiled inner loop of the keypoint index (numba, cached on disk after first use).

``lsh_votes`` walks, for every query descriptor and every LSH table, the run of stored
descriptors with the same key (binary search in the table's sorted keys), checks each one's real
Hamming distance (4 x 64-bit popcounts), and counts per query descriptor the distinct images
within ``common_bits`` and the distinct images within ``vote_bits``. A query descriptor near
descriptors of more than ``common_limit`` images is *common* and casts no vote; the others give
one vote to each image they are near. Stamps (one slot per image, never cleared between
queries) make "once per query descriptor and image" cost nothing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from takedown.match.kernels import _popcount

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]


@njit(cache=True)
def _lower(keys: I64, value: int) -> int:
    lo, hi = 0, keys.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _walk(
    q: int,
    key: int,
    row_keys: I64,
    rows: I64,
    words: U64,
    slots: I32,
    alive: B,
    query: U64,
    stamp: int,
    vote_stamp: I64,
    near_stamp: I64,
    vote_bits: int,
    common_bits: int,
    pending: I32,
    n_pending: int,
    near: int,
) -> tuple[I32, int, int]:
    j = _lower(row_keys, key)
    while j < row_keys.shape[0] and row_keys[j] == key:
        r = rows[j]
        j += 1
        s = slots[r]
        if not alive[s]:
            continue
        if vote_stamp[s] == stamp and near_stamp[s] == stamp:
            continue  # this image already voted and counted as near for this descriptor
        d = (
            _popcount(words[r, 0] ^ query[q, 0])
            + _popcount(words[r, 1] ^ query[q, 1])
            + _popcount(words[r, 2] ^ query[q, 2])
            + _popcount(words[r, 3] ^ query[q, 3])
        )
        if d <= common_bits and near_stamp[s] != stamp:
            near_stamp[s] = stamp
            near += 1
        if d <= vote_bits and vote_stamp[s] != stamp:
            vote_stamp[s] = stamp
            if n_pending == pending.shape[0]:
                grown = np.empty(n_pending * 2, dtype=np.int32)
                grown[:n_pending] = pending
                pending = grown
            pending[n_pending] = s
            n_pending += 1
    return pending, n_pending, near


@njit(cache=True)
def lsh_votes(
    query: U64,
    qkeys: I64,
    main_keys: I64,
    main_rows: I64,
    main_words: U64,
    main_slots: I32,
    tail_keys: I64,
    tail_rows: I64,
    tail_words: U64,
    tail_slots: I32,
    alive: B,
    vote_stamp: I64,
    near_stamp: I64,
    votes: I32,
    stamp_base: int,
    vote_bits: int,
    common_bits: int,
    common_limit: int,
) -> tuple[I32, B]:
    """(slots that got votes, each listed once; the query's common descriptors).

    Two parts are searched alike: the merged main arrays and the small tail of recent
    additions (each: TABLES x N sorted keys, the row of each sorted key, N x 4 descriptor
    words, the slot of each row). ``votes`` (one counter per slot, all zero on entry) holds the
    counts of the returned slots on exit; the caller reads and resets them. ``vote_stamp`` and
    ``near_stamp`` must hold values below ``stamp_base`` on entry.
    """
    n_query = query.shape[0]
    tables = qkeys.shape[0]
    common = np.zeros(n_query, dtype=np.bool_)
    touched = np.empty(64, dtype=np.int32)
    n_touched = 0
    pending = np.empty(64, dtype=np.int32)
    for q in range(n_query):
        stamp = stamp_base + q
        n_pending = 0
        near = 0
        for t in range(tables):
            key = qkeys[t, q]
            pending, n_pending, near = _walk(
                q, key, main_keys[t], main_rows[t], main_words, main_slots, alive, query,
                stamp, vote_stamp, near_stamp, vote_bits, common_bits, pending, n_pending, near,
            )  # fmt: skip
            pending, n_pending, near = _walk(
                q, key, tail_keys[t], tail_rows[t], tail_words, tail_slots, alive, query,
                stamp, vote_stamp, near_stamp, vote_bits, common_bits, pending, n_pending, near,
            )  # fmt: skip
        if near > common_limit:
            common[q] = True
            continue
        for i in range(n_pending):
            s = pending[i]
            if votes[s] == 0:
                if n_touched == touched.shape[0]:
                    grown = np.empty(n_touched * 2, dtype=np.int32)
                    grown[:n_touched] = touched
                    touched = grown
                touched[n_touched] = s
                n_touched += 1
            votes[s] += 1
    return touched[:n_touched].copy(), common


@njit(cache=True)
def mutual_nearest(query: U64, reference: U64, max_bits: int) -> tuple[I64, I64]:
    """Pairs (query row, reference row) that are each other's nearest descriptor (the first
    one on ties, as a cross-checked brute-force matcher gives them), at most ``max_bits`` apart.
    """
    nq, nr = query.shape[0], reference.shape[0]
    best_r = np.full(nq, -1, dtype=np.int64)
    best_rd = np.full(nq, 1 << 30, dtype=np.int64)
    best_q = np.full(nr, -1, dtype=np.int64)
    best_qd = np.full(nr, 1 << 30, dtype=np.int64)
    for q in range(nq):
        for r in range(nr):
            d = (
                _popcount(query[q, 0] ^ reference[r, 0])
                + _popcount(query[q, 1] ^ reference[r, 1])
                + _popcount(query[q, 2] ^ reference[r, 2])
                + _popcount(query[q, 3] ^ reference[r, 3])
            )
            if d < best_rd[q]:
                best_rd[q], best_r[q] = d, r
            if d < best_qd[r]:
                best_qd[r], best_q[r] = d, q
    out_q = np.empty(nq, dtype=np.int64)
    out_r = np.empty(nq, dtype=np.int64)
    n = 0
    for q in range(nq):
        r = best_r[q]
        if r >= 0 and best_q[r] == q and best_rd[q] <= max_bits:
            out_q[n], out_r[n] = q, r
            n += 1
    return out_q[:n].copy(), out_r[:n].copy()


@njit(cache=True)
def distances(query: U64, reference: U64) -> I32:
    """All Hamming distances between query and reference descriptors (nq x nr)."""
    nq, nr = query.shape[0], reference.shape[0]
    out = np.empty((nq, nr), dtype=np.int32)
    for q in range(nq):
        for r in range(nr):
            out[q, r] = (
                _popcount(query[q, 0] ^ reference[r, 0])
                + _popcount(query[q, 1] ^ reference[r, 1])
                + _popcount(query[q, 2] ^ reference[r, 2])
                + _popcount(query[q, 3] ^ reference[r, 3])
            )
    return out
