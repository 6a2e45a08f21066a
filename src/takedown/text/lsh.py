"""LSH candidate search over MinHash sketches, verified by exact Jaccard.

``bands`` x ``rows`` sketch bins are hashed into one 64-bit key per band; two texts become
candidates when at least ``min_bands`` band keys agree. Keys live in one sorted array per
band (binary search), with recent additions in a small unsorted tail that is merged when it
grows past a share of the index (incremental add without a full rebuild); removals are
tombstones dropped at the next merge. Candidates are then verified on their exact shingle
sets (kept by the index, one sorted uint32 array per text) so that a result is never an
estimate.

Defaults: ``bands=32, rows=4`` and a candidate must agree on at least ``min_bands=2`` bands.
Probability that a pair becomes a candidate, by Jaccard: 0.5 -> 0.60, 0.6 -> 0.93,
0.7 -> 0.998, 0.8 -> 1.0; unrelated texts of one language (0.1-0.15) -> 1e-5-1e-4. A single
band (``min_bands=1``) finds more pairs at 0.5 (0.87) but lets through ~1.6 % of unrelated
texts at 0.15, which then all need verifying (see docs/text.md and bench/match_text.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from takedown.text.minhash import EMPTY_BIN, NUM_BINS, _intersect_count

DEFAULT_BANDS = 32
DEFAULT_ROWS = 4
DEFAULT_MIN_BANDS = 2
MERGE_SHARE = 0.125


@njit(cache=True, nogil=True)
def band_keys(sigs: npt.NDArray[np.uint32], bands: int, rows: int) -> npt.NDArray[np.uint64]:
    """(bands, n) keys of n sketches."""
    n = sigs.shape[0]
    out = np.empty((bands, n), dtype=np.uint64)
    for i in range(n):
        for b in range(bands):
            h = np.uint64(0x9E3779B97F4A7C15) * np.uint64(b + 1)
            for r in range(rows):
                h ^= np.uint64(sigs[i, b * rows + r])
                h *= np.uint64(0x100000001B3)
                h ^= h >> np.uint64(29)
            out[b, i] = h
    return out


@njit(cache=True, nogil=True)
def _lookup(
    sorted_keys: npt.NDArray[np.uint64],
    sorted_ids: npt.NDArray[np.int64],
    tail_keys: npt.NDArray[np.uint64],
    tail_ids: npt.NDArray[np.int64],
    query: npt.NDArray[np.uint64],
    limit: int,
) -> npt.NDArray[np.int64]:
    out = np.empty(limit, dtype=np.int64)
    n = 0
    for b in range(query.shape[0]):
        key = query[b]
        row = sorted_keys[b]
        lo = np.searchsorted(row, key, side="left")
        while lo < row.shape[0] and row[lo] == key and n < limit:
            out[n] = sorted_ids[b, lo]
            n += 1
            lo += 1
        for t in range(tail_keys.shape[1]):
            if tail_keys[b, t] == key and n < limit:
                out[n] = tail_ids[t]
                n += 1
    return out[:n]


@dataclass(frozen=True)
class TextHit:
    id: int
    jaccard: float
    containment: float
    estimate: float


class MinHashIndex:
    """In-memory LSH index of sketches with exact-Jaccard verification."""

    def __init__(
        self,
        bands: int = DEFAULT_BANDS,
        rows: int = DEFAULT_ROWS,
        *,
        keep_sets: bool = True,
        max_candidates: int = 100_000,
        min_bands: int = DEFAULT_MIN_BANDS,
    ) -> None:
        if bands * rows > NUM_BINS or bands < 1 or rows < 1:
            raise ValueError(f"bands x rows must be at most {NUM_BINS}")
        self.bands, self.rows = bands, rows
        self.keep_sets = keep_sets
        self.max_candidates = max_candidates
        self.min_bands = min_bands
        self._keys = np.empty((bands, 0), dtype=np.uint64)
        self._ids = np.empty((bands, 0), dtype=np.int64)
        self._tail_keys: list[npt.NDArray[np.uint64]] = []
        self._tail_ids: list[npt.NDArray[np.int64]] = []
        self._tail_size = 0
        self._row: dict[int, int] = {}  # id -> row in the sketch/set stores
        self._sigs = np.empty((0, NUM_BINS), dtype=np.uint32)
        self._sig_chunks: list[npt.NDArray[np.uint32]] = []
        self._sets: list[npt.NDArray[np.uint32]] = []
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return len(self._row) - len(self._removed)

    def __contains__(self, item: int) -> bool:
        return item in self._row and item not in self._removed

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays: band keys and ids, sketches, shingle sets."""
        sets = sum(s.nbytes for s in self._sets)
        tail = sum(k.nbytes for k in self._tail_keys) + sum(i.nbytes for i in self._tail_ids)
        sigs = self._sigs.nbytes + sum(c.nbytes for c in self._sig_chunks)
        return int(self._keys.nbytes + self._ids.nbytes + tail + sigs + sets)

    def add(
        self,
        ids: npt.ArrayLike,
        sketches: npt.NDArray[np.uint32],
        sets: list[npt.NDArray[np.uint32]] | None = None,
    ) -> None:
        """Add texts (ids must be new); ``sets`` are required when ``keep_sets``."""
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        sigs = np.ascontiguousarray(sketches, dtype=np.uint32).reshape(-1, NUM_BINS)
        if id_arr.shape[0] != sigs.shape[0]:
            raise ValueError("ids and sketches differ in length")
        if self.keep_sets and (sets is None or len(sets) != id_arr.shape[0]):
            raise ValueError("this index keeps shingle sets: pass one per text")
        start = len(self._row) + 0
        for offset, item in enumerate(id_arr.tolist()):
            if item in self._row:
                raise ValueError(f"id {item} already in the index")
            self._row[item] = start + offset
        empty = (sigs == EMPTY_BIN).all(axis=1)
        keys = band_keys(sigs, self.bands, self.rows)
        keep = ~empty  # texts without words are stored but never become LSH candidates
        self._tail_keys.append(keys[:, keep])
        self._tail_ids.append(id_arr[keep])
        self._tail_size += int(keep.sum())
        self._sig_chunks.append(sigs)
        if self.keep_sets and sets is not None:
            self._sets.extend(sets)
        if self._tail_size > max(1024, MERGE_SHARE * self._keys.shape[1]):
            self._merge()

    def remove(self, item: int) -> None:
        if item in self._row:
            self._removed.add(item)

    def _merge(self) -> None:
        keys = np.concatenate([self._keys, *self._tail_keys], axis=1)
        tails = [np.broadcast_to(t, (self.bands, t.shape[0])) for t in self._tail_ids]
        ids = np.concatenate([self._ids, *tails], axis=1)
        if self._removed:
            gone = np.fromiter(self._removed, dtype=np.int64)
            keys = np.stack([keys[b][~np.isin(ids[b], gone)] for b in range(self.bands)])
            ids = np.stack([ids[b][~np.isin(ids[b], gone)] for b in range(self.bands)])
        order = np.argsort(keys, axis=1, kind="stable")
        self._keys = np.ascontiguousarray(np.take_along_axis(keys, order, axis=1))
        self._ids = np.ascontiguousarray(np.take_along_axis(ids, order, axis=1))
        self._tail_keys, self._tail_ids, self._tail_size = [], [], 0

    def _sketch_of(self, row: int) -> npt.NDArray[np.uint32]:
        if self._sig_chunks:
            self._sigs = np.concatenate([self._sigs, *self._sig_chunks])
            self._sig_chunks = []
        row_sig: npt.NDArray[np.uint32] = self._sigs[row]
        return row_sig

    def candidates(self, sketch: npt.NDArray[np.uint32]) -> list[int]:
        """Ids sharing at least one band with ``sketch`` (unverified)."""
        if bool((sketch == EMPTY_BIN).all()):
            return []
        query = band_keys(sketch.reshape(1, -1), self.bands, self.rows)[:, 0]
        if self._tail_keys:
            tail_keys = np.concatenate(self._tail_keys, axis=1)
            tail_ids = np.concatenate(self._tail_ids)
        else:
            tail_keys = np.empty((self.bands, 0), dtype=np.uint64)
            tail_ids = np.empty(0, dtype=np.int64)
        found = _lookup(self._keys, self._ids, tail_keys, tail_ids, query, self.max_candidates)
        ids, hits = np.unique(found, return_counts=True)
        if self.min_bands > 1:
            ids = ids[hits >= self.min_bands]
        return [int(i) for i in ids if int(i) not in self._removed]

    def query(
        self,
        sketch: npt.NDArray[np.uint32],
        shingles: npt.NDArray[np.uint32] | None = None,
        *,
        min_jaccard: float = 0.0,
        min_containment: float = 1.1,
    ) -> list[TextHit]:
        """Verified hits: exact Jaccard >= ``min_jaccard`` or containment >=
        ``min_containment`` (needs ``shingles`` and ``keep_sets``; otherwise the sketch
        estimate stands in for both), best first."""
        hits: list[TextHit] = []
        for item in self.candidates(sketch):
            row = self._row[item]
            est = float(np.count_nonzero(self._sketch_of(row) == sketch)) / NUM_BINS
            if self.keep_sets and shingles is not None:
                other = self._sets[row]
                common = _intersect_count(shingles, other) if shingles.size and other.size else 0
                union = shingles.size + other.size - common
                jac = common / union if union else 0.0
                con = common / min(shingles.size, other.size) if common else 0.0
            else:
                jac = con = est
            if jac >= min_jaccard or con >= min_containment:
                hits.append(TextHit(item, jac, con, est))
        hits.sort(key=lambda h: (-h.jaccard, h.id))
        return hits
