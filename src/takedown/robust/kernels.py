"""Compiled inner loops of the keypoint stage (numba, cached on disk after first use): the
index walk, and the parts of verification where numpy's per-call overhead dominated
(``mutual_nearest``, ``distances``, ``distinct_places``, ``cell_agreement``).

``lsh_votes`` walks, for every query descriptor and every LSH table, the run of stored
descriptors with the same key (a directory of the keys' top bits, then a binary search among a
few sorted keys; the run's descriptors lie side by side in that table's order), checks each
one's real Hamming distance (4 x 64-bit popcounts), and counts per query descriptor the
distinct images within ``common_bits`` and the distinct images within ``vote_bits``. A query
descriptor near descriptors of more than ``common_limit`` images is *common* and casts no vote;
the others give one vote to each image they are near. Stamps (one slot per image, never
cleared between queries) make "once per query descriptor and image" cost nothing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from takedown.match.kernels import _popcount

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]


@njit(cache=True)
def lsh_votes(
    query: U64,
    qkeys: I64,
    part_keys: tuple[I32, ...],
    part_words: tuple[U64, ...],
    part_slots: tuple[I32, ...],
    part_directory: tuple[I32, ...],
    part_shift: tuple[int, ...],
    alive: B,
    vote_stamp: I64,
    near_stamp: I64,
    votes: I32,
    pending: I32,
    touched: I32,
    stamp_base: int,
    vote_bits: int,
    common_bits: int,
    common_limit: int,
) -> tuple[int, B]:
    """(how many slots got votes, listed once each in ``touched[:n]``; the query's common
    descriptors).

    The index's parts (the merged main arrays, the tail and the recent additions; one entry of
    each ``part_*`` tuple per part) are searched alike. Each part holds, per table, the sorted
    keys (TABLES x N), the descriptor words in that table's key order (TABLES x N x 4: a run of
    equal keys is read front to back, not gathered from all over memory), the slot of each
    (TABLES x N) and a directory of the keys' top bits (``directory[t, k >> shift]`` is where
    keys with those top bits start), so that a lookup searches a few neighbouring keys instead
    of the whole table. ``votes`` (one counter per slot, all zero on entry) holds the counts of
    the touched slots on exit; the caller reads and resets them. ``pending`` and ``touched``
    are scratch arrays of one entry per slot. ``vote_stamp`` and ``near_stamp`` must hold
    values below ``stamp_base`` on entry.
    """
    n_query = query.shape[0]
    tables = qkeys.shape[0]
    common = np.zeros(n_query, dtype=np.bool_)
    n_touched = 0
    for q in range(n_query):
        stamp = stamp_base + q
        n_pending = 0
        near = 0
        for t in range(tables):
            key = qkeys[t, q]
            for part in range(len(part_keys)):
                keys, words, slots = part_keys[part], part_words[part], part_slots[part]
                directory, shift = part_directory[part], part_shift[part]
                bucket = key >> shift
                lo, hi = directory[t, bucket], directory[t, bucket + 1]
                while lo < hi:  # the first key >= key among the few of this directory entry
                    mid = (lo + hi) >> 1
                    if keys[t, mid] < key:
                        lo = mid + 1
                    else:
                        hi = mid
                j = lo
                end = keys.shape[1]
                while j < end and keys[t, j] == key:
                    s = slots[t, j]
                    r = j
                    j += 1
                    if not alive[s]:
                        continue
                    if vote_stamp[s] == stamp and near_stamp[s] == stamp:
                        continue  # this image already voted and counted as near for q
                    d = (
                        _popcount(words[t, r, 0] ^ query[q, 0])
                        + _popcount(words[t, r, 1] ^ query[q, 1])
                        + _popcount(words[t, r, 2] ^ query[q, 2])
                        + _popcount(words[t, r, 3] ^ query[q, 3])
                    )
                    if d <= common_bits and near_stamp[s] != stamp:
                        near_stamp[s] = stamp
                        near += 1
                    if d <= vote_bits and vote_stamp[s] != stamp:
                        vote_stamp[s] = stamp
                        pending[n_pending] = s  # at most once per slot for this q
                        n_pending += 1
        if near > common_limit:
            common[q] = True
            continue
        for i in range(n_pending):
            s = pending[i]
            if votes[s] == 0:
                touched[n_touched] = s  # at most once per slot for the query
                n_touched += 1
            votes[s] += 1
    return n_touched, common


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


@njit(cache=True)
def distinct_places(src: F32, dst: F32, rows: I64, radius_sq: float) -> B:
    """Which of ``rows`` (in order) to keep so that no kept pair has its query point
    (``src``) or its reference point (``dst``) within ``sqrt(radius_sq)`` of an earlier kept
    pair's: greedy, first come first kept."""
    taken = np.zeros(rows.shape[0], dtype=np.bool_)
    for k in range(rows.shape[0]):
        a = rows[k]
        free = True
        for j in range(k):
            if not taken[j]:
                continue
            b = rows[j]
            qx = src[a, 0] - src[b, 0]
            qy = src[a, 1] - src[b, 1]
            rx = dst[a, 0] - dst[b, 0]
            ry = dst[a, 1] - dst[b, 1]
            if qx * qx + qy * qy <= radius_sq or rx * rx + ry * ry <= radius_sq:
                free = False
                break
        taken[k] = free
    return taken


@njit(cache=True)
def _percentile(ordered: F32, q: float) -> float:
    """numpy's ``percentile(..., method="linear")`` of a sorted float32 row, bit for bit
    (float32 difference, float64 interpolation, from the upper end past the middle)."""
    n: int = ordered.shape[0]
    virtual: float = (n - 1) * q
    if virtual >= n - 1:
        return float(ordered[n - 1])
    below = int(np.floor(virtual))
    gamma: float = virtual - below
    low, high = ordered[below], ordered[below + 1]
    diff = float(high - low)  # float32 subtraction, as numpy does
    if gamma >= 0.5:
        return float(high) - diff * (1.0 - gamma)
    return float(low) + diff * gamma


@njit(cache=True)
def _median(ordered: F32) -> np.float32:
    """numpy's float32 ``median`` of a sorted row: the middle, or the float32 mean of the two
    middle values."""
    n: int = ordered.shape[0]
    half = n // 2
    middle: np.float32 = ordered[half]
    if n % 2 == 0:
        middle = (ordered[half - 1] + ordered[half]) / np.float32(2.0)
    return middle


@njit(cache=True)
def cell_agreement(
    query: F32,
    reference: F32,
    luma_tolerance: float,
    contrast_floor: float,
    chroma_tolerance: float,
    grey_chroma: float,
) -> int:
    """How many of the compared cells (rows of Y, Cr, Cb, float32) agree: luma centred on each
    side's median and scaled by its 10th-90th percentile range (at least ``contrast_floor``),
    within ``luma_tolerance``; unless either side is grey (no chroma further than
    ``grey_chroma`` from 128), chroma less each side's median within ``chroma_tolerance``.
    The same float32/float64 arithmetic as the numpy expression of ``layout.agreement``."""
    n = query.shape[0]
    centred = np.empty((2, n), dtype=np.float32)
    middles = np.empty((2, 3), dtype=np.float32)
    grey = False
    for side in range(2):
        cells = query if side == 0 else reference
        ordered = np.sort(cells[:, 0])
        spread = max(_percentile(ordered, 0.9) - _percentile(ordered, 0.1), contrast_floor)
        spread32 = np.float32(spread)
        middle = _median(ordered)
        for i in range(n):
            centred[side, i] = (cells[i, 0] - middle) / spread32
        far = np.float32(0.0)
        for c in range(1, 3):
            middles[side, c] = _median(np.sort(cells[:, c]))
            for i in range(n):
                far = max(far, abs(cells[i, c] - np.float32(128.0)))
        if far < grey_chroma:
            grey = True
    agree = 0
    for i in range(n):
        if not abs(centred[0, i] - centred[1, i]) <= np.float32(luma_tolerance):
            continue
        if not grey:
            worst = np.float32(0.0)
            for c in range(1, 3):
                a = query[i, c] - middles[0, c]
                b = reference[i, c] - middles[1, c]
                worst = max(worst, abs(a - b))
            if not worst <= np.float32(chroma_tolerance):
                continue
        agree += 1
    return agree
