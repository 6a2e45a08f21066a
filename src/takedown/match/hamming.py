"""Exact Hamming range search over 256-bit hashes (PDQ), by multi-index hashing.

The 256 bits are split into m disjoint substrings of about 256 / m bits; m is chosen from the
index size (11 substrings of 23-24 bits at 10M hashes, 13 of 19-20 bits at 1M). If two hashes are
within distance r, their substring distances d_s sum to at most r, so for any thresholds t_s
with sum(t_s + 1) > r at least one substring has d_s <= t_s (pigeonhole; t_s = -1 skips the
substring). A query picks the cheapest such thresholds (each 0-2) for its radius, probes in
every substring each key within t_s bits of its own, and verifies the full distance of every
row found: results are exact. Radii that need more than 2 bits per substring, and small
indexes, use a compiled linear scan (also exact).

Buckets are CSR arrays (offsets per substring, row numbers sorted by key). Additions go to a
short tail that is scanned in full; a full tail is indexed together with the earlier recent
additions as a second, smaller multi-index, which is merged into the main one when it grows
past a share of it. Removals mark rows dead until their segment is rebuilt. Searches only read
the index, so any number of threads may search at once; ``add``, ``remove`` and ``save`` need
the caller to keep searches out. Nothing is pickled: see ``save``/``load`` and
docs/formats/hamming-index.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from math import comb
from pathlib import Path

import numba
import numpy as np
import numpy.typing as npt

from takedown.match.kernels import build_buckets, mih_search, scan, to_words

WORDS = 4
FORMAT = "takedown-hamming-index"
VERSION = 1
SCAN_BELOW = 5_000  # smaller indexes are scanned in full
TAIL_ROWS = 4096  # latest additions scanned in full before they are indexed
RECENT_ROWS = 65_536  # recent rows are merged into the main segment past this many rows
MERGE_SHARE = 0.05  # ... and past this share of the main segment
MAX_LIMIT = 2  # bits flipped per substring key when probing
DESIGN_RADIUS = 31  # the layout is chosen for this radius (PDQ's usual threshold)
OFFSETS_PER_HASH = 12  # bucket directory budget: 12 offsets (48 bytes) per hash
PROBE_COST = 1.0  # relative cost of probing one bucket vs verifying one candidate

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U64 = npt.NDArray[np.uint64]


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


def _words(hashes: U8) -> U64:
    return (
        np.ascontiguousarray(hashes, dtype=np.uint8)
        .view(">u8")
        .astype(np.uint64)
        .reshape(-1, WORDS)
    )


def _query_words(query: npt.ArrayLike) -> U64:
    q = np.ascontiguousarray(query, dtype=np.uint8)
    if q.size != 32:
        raise ValueError("a query is one 256-bit hash: 32 bytes")
    words: U64 = _words(q.reshape(1, 32)).reshape(WORDS)
    return words


def even_widths(m: int) -> tuple[int, ...]:
    """256 bits cut into m substrings whose widths differ by at most one, wider first."""
    wide = 256 % m
    return (256 // m + 1,) * wide + (256 // m,) * (m - wide)


def limits_for(widths: Sequence[int], n: int, radius: int) -> I64 | None:
    """Per-substring probe thresholds for ``radius``, or None when a scan is needed.

    Every threshold starts at -1 (substring not probed); ``radius + 1`` times, the threshold
    whose next step adds the fewest expected probes and candidates is raised by one. Then
    ``sum(t_s + 1) = radius + 1``, so a row within ``radius`` has some ``d_s <= t_s``. The
    step costs grow with the threshold (C(w, 0) < C(w, 1) < C(w, 2) for w >= 4), so this
    greedy choice is the cheapest one."""
    m = len(widths)
    if radius + 1 > (MAX_LIMIT + 1) * m:
        return None
    limits = np.full(m, -1, dtype=np.int64)
    per_probe = [PROBE_COST + n / 2.0**w for w in widths]
    for _ in range(radius + 1):
        best, best_cost = -1, 0.0
        for s, w in enumerate(widths):
            if limits[s] < MAX_LIMIT:
                cost = comb(w, int(limits[s]) + 1) * per_probe[s]
                if best < 0 or cost < best_cost:
                    best, best_cost = s, cost
        limits[best] += 1
    return limits


def probe_cost(widths: Sequence[int], n: int, radius: int) -> float:
    """Expected probes plus candidates of one query (inf when the layout cannot serve it)."""
    limits = limits_for(widths, n, radius)
    if limits is None:
        return float("inf")
    total = 0.0
    for w, t in zip(widths, limits.tolist(), strict=True):
        keys = sum(comb(w, k) for k in range(t + 1))
        total += keys * (PROBE_COST + n / 2.0**w)
    return total


def choose_layout(n: int) -> tuple[int, ...]:
    """The substring widths with the cheapest query at ``DESIGN_RADIUS`` among those whose
    bucket directory holds at most ``OFFSETS_PER_HASH`` offsets per hash (16 x 16 bits, the
    smallest directory, is always allowed)."""
    best, best_cost = even_widths(16), probe_cost(even_widths(16), n, DESIGN_RADIUS)
    for m in range(11, 16):
        widths = even_widths(m)
        if sum(1 << w for w in widths) > OFFSETS_PER_HASH * n:
            continue
        cost = probe_cost(widths, n, DESIGN_RADIUS)
        if cost < best_cost:
            best, best_cost = widths, cost
    return best


class _Layout:
    """Substring widths, their start bits and where each one's offsets begin."""

    def __init__(self, widths: tuple[int, ...]) -> None:
        self.tuple = widths
        self.widths = np.asarray(widths, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.widths)[:-1]]).astype(np.int64)
        sizes = (1 << self.widths) + 1
        self.bases = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.total = int(sizes.sum())

    @property
    def count(self) -> int:
        return int(self.widths.shape[0])


def _distances(words: U64, query: U64) -> I32:
    counts: I32 = np.bitwise_count(words ^ query).sum(axis=1, dtype=np.int32)
    return counts


def _check(ids: npt.ArrayLike, hashes: npt.ArrayLike) -> tuple[I64, U8]:
    id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
    hash_arr = np.asarray(hashes, dtype=np.uint8)
    if hash_arr.ndim != 2 or hash_arr.shape[1] != 32 or hash_arr.shape[0] != id_arr.shape[0]:
        raise ValueError("hashes must be an (n, 32) uint8 array with one id per row")
    return id_arr, hash_arr


def _sorted(ids: I64, dist: npt.NDArray[np.int32]) -> tuple[I64, npt.NDArray[np.int32]]:
    order = np.lexsort((ids, dist))
    return ids[order].astype(np.int64), dist[order].astype(np.int32)


class BruteForceIndex:
    """The exact baseline: every query scans every live hash (plain numpy, no shared code
    with the multi-index kernels)."""

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
        dist = _distances(self._words, _query_words(query))
        hit = np.nonzero(dist <= radius)[0]
        return _sorted(self._ids[hit], dist[hit])

    def search_many(
        self, queries: npt.ArrayLike, radius: int
    ) -> list[tuple[I64, npt.NDArray[np.int32]]]:
        return [self.search(q, radius) for q in np.asarray(queries, dtype=np.uint8).reshape(-1, 32)]

    def __len__(self) -> int:
        return int(self._ids.shape[0])


class _Delta:
    """The latest additions (the tail): growable arrays, scanned in full by a compiled loop."""

    def __init__(self) -> None:
        self.size = 0
        self.ids = np.empty(64, dtype=np.int64)
        self.words = np.empty((64, WORDS), dtype=np.uint64)

    def add(self, ids: I64, words: U64) -> None:
        need = self.size + ids.shape[0]
        if need > self.ids.shape[0]:
            cap = max(need, 2 * self.ids.shape[0])
            grown_ids = np.empty(cap, dtype=np.int64)
            grown_words = np.empty((cap, WORDS), dtype=np.uint64)
            grown_ids[: self.size] = self.ids[: self.size]
            grown_words[: self.size] = self.words[: self.size]
            self.ids, self.words = grown_ids, grown_words
        self.ids[self.size : need] = ids
        self.words[self.size : need] = words
        self.size = need

    def remove(self, ids: I64) -> None:
        if not self.size:
            return
        keep = np.nonzero(~np.isin(self.ids[: self.size], ids))[0]
        if keep.shape[0] == self.size:
            return
        count = keep.shape[0]
        self.ids[:count] = self.ids[keep]
        self.words[:count] = self.words[keep]
        self.size = count

    def search(self, query: U64, radius: int) -> tuple[I64, I32]:
        rows, dist = scan(self.words[: self.size], query, radius)
        return self.ids[rows], dist


class _Segment:
    """A multi-index over fixed rows (or a full scan when small), with dead-row marks."""

    def __init__(self, ids: I64, words: U64) -> None:
        self.ids, self.words = ids, np.ascontiguousarray(words)
        n = ids.shape[0]
        if n >= 2**31:
            raise ValueError("an index holds fewer than 2**31 rows (bucket rows are int32)")
        self.layout = _Layout(choose_layout(n))
        if n >= SCAN_BELOW:
            layout = self.layout
            self.offsets, self.rows = build_buckets(
                self.words,
                layout.starts,
                layout.widths,
                layout.bases,
                layout.total,
                max(1, min(numba.get_num_threads(), layout.count)),
            )
        else:  # scanned in full: no buckets
            self.offsets = np.zeros(0, dtype=np.int32)
            self.rows = np.empty((0, n), dtype=np.int32)
        self.limits: dict[int, I64 | None] = {}
        self.dead: npt.NDArray[np.bool_] | None = None  # by row, made on first removal
        self.dead_count = 0
        self.id_sorted: I64 | None = None  # ids in order, made on first removal
        self.id_order: I32 | None = None  # their rows, when the ids were not in order

    def __len__(self) -> int:
        return int(self.ids.shape[0]) - self.dead_count

    def arrays(self) -> list[npt.NDArray[np.generic]]:
        arrays: list[npt.NDArray[np.generic]] = [self.ids, self.words, self.offsets, self.rows]
        arrays += [a for a in (self.dead, self.id_order) if a is not None]
        if self.id_sorted is not None and self.id_sorted is not self.ids:
            arrays.append(self.id_sorted)
        return arrays

    def live(self) -> tuple[I64, U64]:
        if self.dead is None or not self.dead_count:
            return self.ids, self.words
        keep = ~self.dead
        return self.ids[keep], self.words[keep]

    def _rows_of(self, ids: I64) -> I64:
        """Rows holding any of ``ids``, by binary search over the ids in order."""
        if self.id_sorted is None:
            if self.ids.shape[0] < 2 or bool(np.all(self.ids[1:] >= self.ids[:-1])):
                self.id_sorted = self.ids  # already in order (the usual case): no copy
            else:
                order = np.argsort(self.ids, kind="stable").astype(np.int32)
                self.id_order, self.id_sorted = order, self.ids[order]
        lo = np.searchsorted(self.id_sorted, ids, side="left")
        hi = np.searchsorted(self.id_sorted, ids, side="right")
        spans = [np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
        if not spans:
            return np.empty(0, dtype=np.int64)
        at = np.unique(np.concatenate(spans))
        return at if self.id_order is None else self.id_order[at].astype(np.int64)

    def remove(self, ids: I64) -> None:
        rows = self._rows_of(ids)
        if rows.shape[0]:
            if self.dead is None:
                self.dead = np.zeros(self.ids.shape[0], dtype=bool)
            self.dead_count += int(np.count_nonzero(~self.dead[rows]))
            self.dead[rows] = True

    def search(self, query: U64, radius: int) -> tuple[I64, I32]:
        n = self.ids.shape[0]
        if not n:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32)
        limits = None
        if n >= SCAN_BELOW:
            if radius not in self.limits:
                self.limits[radius] = limits_for(self.layout.tuple, n, radius)
            limits = self.limits[radius]
        if limits is None:
            rows, dists = scan(self.words, query, radius)
        else:
            layout = self.layout
            rows, dists = mih_search(
                self.words.reshape(-1),
                self.offsets,
                self.rows.reshape(-1),
                n,
                layout.bases,
                layout.starts,
                layout.widths,
                limits,
                query,
                radius,
            )
        if self.dead is not None and self.dead_count:
            alive = ~self.dead[rows]
            rows, dists = rows[alive], dists[alive]
        return self.ids[rows], dists


def _empty_segment() -> _Segment:
    return _Segment(np.empty(0, dtype=np.int64), np.empty((0, WORDS), dtype=np.uint64))


class HammingIndex:
    """Multi-index hashing over three segments (see the module docstring): the main one, a
    smaller one of recent additions, and a short tail of the latest additions."""

    def __init__(self, *, bits: int = 256) -> None:
        if bits != 256:
            raise ValueError("only 256-bit hashes are supported")
        self._main = _empty_segment()
        self._recent = _empty_segment()
        self._delta = _Delta()

    @classmethod
    def build(cls, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> HammingIndex:
        id_arr, hash_arr = _check(ids, hashes)
        index = cls()
        index._main = _Segment(id_arr.copy(), to_words(np.ascontiguousarray(hash_arr)))
        return index

    def add(self, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> None:
        """Append rows; the tail is indexed once it exceeds ``TAIL_ROWS`` rows, and the recent
        rows are merged into the main segment once they exceed ``MERGE_SHARE`` of it (and
        ``RECENT_ROWS``), so a full rebuild happens once per 5 % of growth."""
        id_arr, hash_arr = _check(ids, hashes)
        self._delta.add(id_arr, _words(hash_arr))
        if self._delta.size <= TAIL_ROWS:
            return
        recent_ids, recent_words = self._recent.live()
        size = self._delta.size
        ids_all = np.concatenate([recent_ids, self._delta.ids[:size]])
        words_all = np.concatenate([recent_words, self._delta.words[:size]])
        self._delta = _Delta()
        if ids_all.shape[0] > max(RECENT_ROWS, MERGE_SHARE * len(self._main)):
            main_ids, main_words = self._main.live()
            self._recent = _empty_segment()
            self._main = _Segment(
                np.concatenate([main_ids, ids_all]), np.concatenate([main_words, words_all])
            )
        else:
            self._recent = _Segment(ids_all, words_all)

    def _live(self) -> tuple[I64, U64]:
        """Ids and words of every live row: main, then recent, then the tail."""
        main_ids, main_words = self._main.live()
        recent_ids, recent_words = self._recent.live()
        size = self._delta.size
        return (
            np.concatenate([main_ids, recent_ids, self._delta.ids[:size]]),
            np.concatenate([main_words, recent_words, self._delta.words[:size]]),
        )

    def remove(self, ids: npt.ArrayLike) -> None:
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        self._delta.remove(id_arr)
        self._main.remove(id_arr)
        self._recent.remove(id_arr)

    def search(self, query: npt.ArrayLike, radius: int) -> tuple[I64, npt.NDArray[np.int32]]:
        """Ids within ``radius`` bits of ``query`` and their distances, by distance then id."""
        if radius < 0:
            raise ValueError("radius must be >= 0")
        q = _query_words(query)
        ids, dists = self._main.search(q, radius)
        if len(self._recent):
            r_ids, r_dist = self._recent.search(q, radius)
            ids, dists = np.concatenate([ids, r_ids]), np.concatenate([dists, r_dist])
        if self._delta.size:
            d_ids, d_dist = self._delta.search(q, radius)
            ids, dists = np.concatenate([ids, d_ids]), np.concatenate([dists, d_dist])
        return _sorted(ids, dists)

    def search_many(
        self, queries: npt.ArrayLike, radius: int
    ) -> list[tuple[I64, npt.NDArray[np.int32]]]:
        return [self.search(q, radius) for q in np.asarray(queries, dtype=np.uint8).reshape(-1, 32)]

    def __len__(self) -> int:
        return len(self._main) + len(self._recent) + self._delta.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the index's arrays (ids, hashes, buckets, tail, removal marks)."""
        arrays = self._main.arrays() + self._recent.arrays()
        arrays += [self._delta.ids, self._delta.words]
        return sum(int(a.nbytes) for a in arrays)

    # -- persistence ------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """A JSON header line, then the ids (int64 LE) and hashes (32 bytes each) of live rows."""
        id_arr, words = self._live()
        ids = id_arr.astype("<i8").tobytes()
        hashes = words.astype(">u8").tobytes()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "count": int(id_arr.shape[0]),
            "sha256": hashlib.sha256(ids + hashes).hexdigest(),
        }
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("wb") as out:
            out.write(json.dumps(header).encode() + b"\n")
            out.write(ids)
            out.write(hashes)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> HammingIndex:
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
            count = header.get("count")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"{path}: bad row count {count!r}")
            body = handle.read(count * 40 + 1)
        if len(body) != count * 40:
            raise ValueError(
                f"{path}: truncated or oversized index ({len(body)} bytes for {count} rows)"
            )
        if hashlib.sha256(body).hexdigest() != header.get("sha256"):
            raise ValueError(f"{path}: checksum mismatch (corrupt index)")
        ids = np.frombuffer(body, dtype="<i8", count=count).astype(np.int64)
        hashes = np.frombuffer(body, dtype=np.uint8, offset=count * 8).reshape(-1, 32)
        return cls.build(ids, hashes)
