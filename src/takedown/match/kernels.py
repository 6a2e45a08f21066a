"""Compiled inner loops of the multi-index search (numba, cached on disk after first use)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

M1 = np.uint64(0x5555555555555555)
M2 = np.uint64(0x3333333333333333)
M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
H01 = np.uint64(0x0101010101010101)


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> int:
    x = x - ((x >> np.uint64(1)) & M1)
    x = (x & M2) + ((x >> np.uint64(2)) & M2)
    x = (x + (x >> np.uint64(4))) & M4
    return int((x * H01) >> np.uint64(56))


@njit(cache=True)
def mih_search(
    words: npt.NDArray[np.uint64],
    offsets: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int32],
    keys: npt.NDArray[np.int64],
    query: npt.NDArray[np.uint64],
    radius: int,
    flips: int,
    stamp: npt.NDArray[np.int32],
    mark: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Rows within ``radius`` of ``query``: probe each substring's key and its one-bit
    neighbours (when ``flips`` is 1), skip rows already seen in this query (``stamp``), verify
    the full distance of every candidate."""
    capacity = 64
    out_rows = np.empty(capacity, dtype=np.int64)
    out_dist = np.empty(capacity, dtype=np.int32)
    found = 0
    masks = 17 if flips >= 1 else 1
    q0, q1, q2, q3 = query[0], query[1], query[2], query[3]
    for s in range(keys.shape[0]):
        for m in range(masks):
            key = keys[s] if m == 0 else keys[s] ^ (1 << (m - 1))
            for j in range(offsets[s, key], offsets[s, key + 1]):
                r = rows[s, j]
                if stamp[r] == mark:
                    continue
                stamp[r] = mark
                d = (
                    _popcount(words[r, 0] ^ q0)
                    + _popcount(words[r, 1] ^ q1)
                    + _popcount(words[r, 2] ^ q2)
                    + _popcount(words[r, 3] ^ q3)
                )
                if d <= radius:
                    if found == capacity:
                        capacity *= 2
                        grown_rows = np.empty(capacity, dtype=np.int64)
                        grown_dist = np.empty(capacity, dtype=np.int32)
                        grown_rows[:found] = out_rows[:found]
                        grown_dist[:found] = out_dist[:found]
                        out_rows, out_dist = grown_rows, grown_dist
                    out_rows[found] = r
                    out_dist[found] = d
                    found += 1
    return out_rows[:found], out_dist[:found]
