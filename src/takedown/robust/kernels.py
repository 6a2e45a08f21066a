"""Compiled inner loop of the keypoint index (numba, cached on disk after first use).

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
U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]


@njit(cache=True)
def lsh_votes(
    query: U64,
    qkeys: I64,
    main_keys: I32,
    main_words: U64,
    main_slots: I32,
    main_directory: I32,
    main_shift: int,
    tail_keys: I32,
    tail_words: U64,
    tail_slots: I32,
    tail_directory: I32,
    tail_shift: int,
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

    Two parts are searched alike: the merged main arrays and the small tail of recent
    additions. Each part holds, per table, the sorted keys (TABLES x N), the descriptor words
    in that table's key order (TABLES x N x 4: a run of equal keys is read front to back, not
    gathered from all over memory), the slot of each (TABLES x N) and a directory of the keys'
    top bits (``directory[t, k >> shift]`` is where keys with those top bits start), so that a
    lookup searches a few neighbouring keys instead of the whole table. ``votes`` (one
    counter per slot, all zero on entry) holds the counts of the touched slots on exit; the
    caller reads and resets them. ``pending`` and ``touched`` are scratch arrays of one entry
    per slot. ``vote_stamp`` and ``near_stamp`` must hold values below ``stamp_base`` on entry.
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
            for part in range(2):
                keys, words, slots = main_keys, main_words, main_slots
                directory, shift = main_directory, main_shift
                if part == 1:
                    keys, words, slots = tail_keys, tail_words, tail_slots
                    directory, shift = tail_directory, tail_shift
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
