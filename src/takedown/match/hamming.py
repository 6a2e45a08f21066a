"""Exact Hamming range search over 256-bit hashes (PDQ), by multi-index hashing.

The 256 bits are split into m disjoint substrings. If two hashes are within distance r,
then (pigeonhole) at least one substring is within floor(r / m) bits of the query's. Up to
1.5M hashes, m = 16 substrings of 16 bits; above, m = 11 substrings of 23-24 bits, whose buckets
hold few hashes each, so far fewer candidates need verifying. A query probes, in every
substring, each key within floor(r / m) <= 2 bits of its own, and verifies the full distance of
every row found: results are exact. Larger radii, and small indexes, use a vectorised linear
scan (also exact).

Buckets are CSR arrays (offsets per substring, row numbers sorted by key). Additions go to a
delta segment that is scanned linearly and merged into the main segment when it grows past a
share of it; removals are tombstones. Nothing is pickled: see ``save``/``load`` and
docs/formats/hamming-index.md.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from takedown.match.kernels import build_buckets, extract_keys, mih_search

WORDS = 4
SMALL_LAYOUT = (16,) * 16  # 16 x 16 bits: small offset tables
LARGE_LAYOUT = (24, 24, 24) + (23,) * 8  # 11 substrings: few candidates per probe at 10M
LARGE_FROM = 1_500_000
FORMAT = "takedown-hamming-index"
VERSION = 1
SCAN_BELOW = 5_000
MERGE_SHARE = 0.05

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]


def hex_to_array(hexes: Sequence[str]) -> U8:
    """(n, 32) uint8 from 64-hex strings; ValueError on anything else."""
    out = np.empty((len(hexes), 32), dtype=np.uint8)
    for i, value in enumerate(hexes):
        if len(value) != 64:
            raise ValueError(f"hash {i} is not 64 hex characters")
        try:
            out[i] = np.frombuffer(bytes.fromhex(value), dtype=np.uint8)
        except ValueError as exc:
            raise ValueError(f"hash {i} is not hex: {exc}") from exc
    return out


def array_to_hex(arr: npt.NDArray[np.uint8]) -> list[str]:
    return [bytes(row).hex() for row in np.asarray(arr, dtype=np.uint8).reshape(-1, 32)]


def _words(hashes: U8) -> npt.NDArray[np.uint64]:
    return (
        np.ascontiguousarray(hashes, dtype=np.uint8)
        .view(">u8")
        .astype(np.uint64)
        .reshape(-1, WORDS)
    )


class _Layout:
    """Substring widths, their start bits and where each one's offsets begin."""

    def __init__(self, widths: tuple[int, ...]) -> None:
        self.widths = np.asarray(widths, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.widths)[:-1]]).astype(np.int64)
        sizes = (1 << self.widths) + 1
        self.bases = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.total = int(sizes.sum())

    @property
    def count(self) -> int:
        return int(self.widths.shape[0])

    def keys(self, words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        keys: npt.NDArray[np.int64] = extract_keys(words, self.starts, self.widths)
        return keys


def _distances(
    words: npt.NDArray[np.uint64], query: npt.NDArray[np.uint64]
) -> npt.NDArray[np.int32]:
    counts: npt.NDArray[np.int32] = np.bitwise_count(words ^ query).sum(axis=1, dtype=np.int32)
    return counts


def _check(ids: npt.ArrayLike, hashes: npt.ArrayLike) -> tuple[I64, U8]:
    id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
    hash_arr = np.asarray(hashes, dtype=np.uint8)
    if hash_arr.ndim != 2 or hash_arr.shape[1] != 32 or hash_arr.shape[0] != id_arr.shape[0]:
        raise ValueError("hashes must be an (n, 32) uint8 array with one id per row")
    return id_arr, hash_arr


class BruteForceIndex:
    """The exact baseline: every query scans every live hash."""

    def __init__(self, *, bits: int = 256) -> None:
        if bits != 256:
            raise ValueError("only 256-bit hashes are supported")
        self._ids = np.empty(0, dtype=np.int64)
        self._words = np.empty((0, WORDS), dtype=np.uint64)

    @classmethod
    def build(cls, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> BruteForceIndex:
        index = cls()
        index.add(ids, hashes)
        return index

    def add(self, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> None:
        id_arr, hash_arr = _check(ids, hashes)
        self._ids = np.concatenate([self._ids, id_arr])
        self._words = np.concatenate([self._words, _words(hash_arr)])

    def remove(self, ids: npt.ArrayLike) -> None:
        keep = ~np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        self._ids, self._words = self._ids[keep], self._words[keep]

    def search(self, query: npt.ArrayLike, radius: int) -> tuple[I64, npt.NDArray[np.int32]]:
        q = _words(np.asarray(query, dtype=np.uint8).reshape(1, 32))[0]
        dist = _distances(self._words, q)
        hit = np.nonzero(dist <= radius)[0]
        return _sorted(self._ids[hit], dist[hit])

    def search_many(
        self, queries: npt.ArrayLike, radius: int
    ) -> list[tuple[I64, npt.NDArray[np.int32]]]:
        return [self.search(q, radius) for q in np.asarray(queries, dtype=np.uint8).reshape(-1, 32)]

    def __len__(self) -> int:
        return int(self._ids.shape[0])


def _sorted(ids: I64, dist: npt.NDArray[np.int32]) -> tuple[I64, npt.NDArray[np.int32]]:
    order = np.lexsort((ids, dist))
    return ids[order].astype(np.int64), dist[order].astype(np.int32)


class HammingIndex:
    """Multi-index hashing with a delta segment and tombstones (see the module docstring)."""

    def __init__(self, *, bits: int = 256) -> None:
        if bits != 256:
            raise ValueError("only 256-bit hashes are supported")
        self._ids = np.empty(0, dtype=np.int64)
        self._words = np.empty((0, WORDS), dtype=np.uint64)
        self._layout = _Layout(SMALL_LAYOUT)
        self._offsets = np.zeros(self._layout.total, dtype=np.int32)
        self._rows = np.empty((self._layout.count, 0), dtype=np.int32)
        self._delta = BruteForceIndex()
        self._dead: set[int] = set()
        self._stamp = np.zeros(0, dtype=np.int32)
        self._mark = 0
        self._lock = threading.Lock()

    @classmethod
    def build(cls, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> HammingIndex:
        id_arr, hash_arr = _check(ids, hashes)
        index = cls()
        index._set_main(id_arr, _words(hash_arr))
        return index

    def _set_main(self, ids: I64, words: npt.NDArray[np.uint64]) -> None:
        self._ids, self._words = ids, np.ascontiguousarray(words)
        n = ids.shape[0]
        self._layout = _Layout(LARGE_LAYOUT if n >= LARGE_FROM else SMALL_LAYOUT)
        keys = self._layout.keys(self._words)
        self._offsets, self._rows = build_buckets(
            keys, self._layout.widths, self._layout.bases, self._layout.total
        )
        self._stamp = np.zeros(n, dtype=np.int32)
        self._mark = 0

    def add(self, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> None:
        id_arr, hash_arr = _check(ids, hashes)
        self._dead.difference_update(int(i) for i in id_arr)
        self._delta.add(id_arr, hash_arr)
        if len(self._delta) > max(1000, MERGE_SHARE * self._ids.shape[0]):
            self._merge()

    def _merge(self) -> None:
        live = self._live_mask()
        words = np.concatenate([self._words[live], self._delta._words])
        ids = np.concatenate([self._ids[live], self._delta._ids])
        self._dead.clear()
        self._delta = BruteForceIndex()
        self._set_main(ids, words)

    def _live_mask(self) -> npt.NDArray[np.bool_]:
        if not self._dead:
            return np.ones(self._ids.shape[0], dtype=bool)
        return ~np.isin(self._ids, np.fromiter(self._dead, dtype=np.int64))

    def remove(self, ids: npt.ArrayLike) -> None:
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        self._delta.remove(id_arr)
        self._dead.update(int(i) for i in id_arr[np.isin(id_arr, self._ids)])

    def search(self, query: npt.ArrayLike, radius: int) -> tuple[I64, npt.NDArray[np.int32]]:
        if radius < 0:
            raise ValueError("radius must be >= 0")
        q_bytes = np.asarray(query, dtype=np.uint8).reshape(1, 32)
        q = _words(q_bytes)[0]
        n = self._ids.shape[0]
        if n == 0:
            ids, dists = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32)
        elif radius // self._layout.count > 2 or n < SCAN_BELOW:
            dist = _distances(self._words, q)
            hit = np.nonzero(dist <= radius)[0]
            ids, dists = self._ids[hit], dist[hit]
        else:
            with self._lock:  # the seen-stamps are per index: one query at a time
                self._mark += 1
                if self._mark >= 2**31 - 1:
                    self._stamp[:] = 0
                    self._mark = 1
                rows, dists = mih_search(
                    self._words,
                    self._offsets,
                    self._rows,
                    self._layout.bases,
                    self._layout.widths,
                    self._layout.keys(q.reshape(1, WORDS))[0],
                    q,
                    radius,
                    radius // self._layout.count,
                    self._stamp,
                    self._mark,
                )
            ids = self._ids[rows]
        if self._dead:
            alive = ~np.isin(ids, np.fromiter(self._dead, dtype=np.int64))
            ids, dists = ids[alive], dists[alive]
        d_ids, d_dist = self._delta.search(q_bytes[0], radius)
        return _sorted(np.concatenate([ids, d_ids]), np.concatenate([dists, d_dist]))

    def search_many(
        self, queries: npt.ArrayLike, radius: int
    ) -> list[tuple[I64, npt.NDArray[np.int32]]]:
        return [self.search(q, radius) for q in np.asarray(queries, dtype=np.uint8).reshape(-1, 32)]

    def __len__(self) -> int:
        return int(self._ids.shape[0]) - len(self._dead) + len(self._delta)

    # -- persistence ------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """A JSON header line, then the ids (int64 LE) and hashes (32 bytes each) of live rows."""
        if len(self._delta) or self._dead:
            self._merge()
        ids = self._ids.astype("<i8").tobytes()
        hashes = self._words.astype(">u8").tobytes()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "count": int(self._ids.shape[0]),
            "sha256": hashlib.sha256(ids + hashes).hexdigest(),
        }
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("wb") as out:
            out.write(json.dumps(header).encode() + b"\n")
            out.write(ids)
            out.write(hashes)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, *, mmap: bool = False) -> HammingIndex:
        with path.open("rb") as handle:
            line = handle.readline(4096)
            try:
                header = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}: not a Hamming index file (bad header)") from exc
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ValueError(f"{path}: not a Hamming index file")
            if header.get("version") != VERSION:
                raise ValueError(f"{path}: unsupported index version {header.get('version')!r}")
            count = int(header.get("count", -1))
            body = handle.read()
        if count < 0 or len(body) != count * 40:
            raise ValueError(
                f"{path}: truncated or oversized index ({len(body)} bytes for {count} rows)"
            )
        if hashlib.sha256(body).hexdigest() != header.get("sha256"):
            raise ValueError(f"{path}: checksum mismatch (corrupt index)")
        ids = np.frombuffer(body[: count * 8], dtype="<i8").astype(np.int64)
        hashes = np.frombuffer(body[count * 8 :], dtype=np.uint8).reshape(-1, 32)
        return cls.build(ids, hashes)
