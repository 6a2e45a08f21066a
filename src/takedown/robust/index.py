"""Candidate search over keypoint signatures: locality-sensitive hashing of ORB descriptors.

Each of ``TABLES`` tables keys a descriptor by ``KEY_BITS`` of its 256 bits (fixed, spread bit
positions). A query descriptor's colliding stored descriptors are checked by their real Hamming
distance: those within ``VOTE_BITS`` vote for their image, once per query descriptor. Images are
ranked by votes and the best ``limit`` with at least ``MIN_VOTES`` go to geometric verification.

Common descriptors: a query descriptor close (``COMMON_BITS``) to descriptors of more than
``common_owners()`` stored images is an element many images share (an outlet's logo, a caption
template, a title in the same font at the same place): it casts no vote, and verification
ignores it, as a text search engine ignores stop words.

Storage: every stored descriptor (32 bytes) with its owner, and per table a sorted array of
keys with the descriptor's row (searched with ``searchsorted``), plus a small unsorted tail for
additions; removals are tombstones until the next merge. About 32 + 8 + 16 x TABLES bytes per
descriptor (56 per image): ~7.6 KB per image in memory with 6 tables, plus the signature kept
for verification (~2 KB).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from takedown.robust.features import Signature

TABLES = 6
KEY_BITS = 20
VOTE_BITS = 64
COMMON_BITS = 24
MIN_VOTES = 3
DEFAULT_LIMIT = 8
COMMON_MIN_OWNERS = 50
COMMON_SHARE = 0.01
_TAIL_REBUILD = 4096
_ROW_SHIFT = 32

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _bit_positions() -> npt.NDArray[np.int64]:
    rng = np.random.default_rng(20261123)  # fixed: keys must be the same in every process
    return np.stack([rng.choice(256, size=KEY_BITS, replace=False) for _ in range(TABLES)])


_POSITIONS = _bit_positions()
_WEIGHTS = (1 << np.arange(KEY_BITS, dtype=np.int64)).astype(np.int64)


def keys(descriptors: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """TABLES x N keys of N descriptors."""
    if descriptors.shape[0] == 0:
        return np.zeros((TABLES, 0), dtype=np.int64)
    bits = np.unpackbits(descriptors, axis=1)  # N x 256
    picked = bits[:, _POSITIONS]  # N x TABLES x KEY_BITS
    out: npt.NDArray[np.int64] = (picked.astype(np.int64) * _WEIGHTS).sum(axis=2).T
    return out


class KeypointIndex:
    """Signatures by id (a bank entry or a content id), searchable by shared descriptor keys."""

    def __init__(self) -> None:
        self.signatures: dict[int, Signature] = {}
        self._desc = np.zeros((0, 32), dtype=np.uint8)
        self._owner = np.zeros(0, dtype=np.int64)
        self._sorted_keys = np.zeros((TABLES, 0), dtype=np.int64)
        self._sorted_rows = np.zeros((TABLES, 0), dtype=np.int64)
        self._tail: list[tuple[int, Signature]] = []
        self._tail_keys = np.zeros((TABLES, 0), dtype=np.int64)
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return len(self.signatures)

    def add(self, owner: int, signature: Signature) -> None:
        if self._append(owner, signature):
            self._tail_keys = np.concatenate([self._tail_keys, keys(signature.descriptors)], axis=1)
            if self._tail_keys.shape[1] >= _TAIL_REBUILD:
                self._merge()

    def _append(self, owner: int, signature: Signature) -> bool:
        if owner in self.signatures or len(signature) == 0:
            return False
        self._removed.discard(owner)
        self.signatures[owner] = signature
        self._tail.append((owner, signature))
        return True

    def add_many(self, items: Iterable[tuple[int, Signature]]) -> None:
        for owner, signature in items:
            self._append(owner, signature)
        self._merge()

    def remove(self, owner: int) -> None:
        if self.signatures.pop(owner, None) is not None:
            self._removed.add(owner)

    def _tail_arrays(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        if not self._tail:
            return np.zeros((0, 32), dtype=np.uint8), np.zeros(0, dtype=np.int64)
        desc = np.concatenate([s.descriptors for _, s in self._tail])
        owner = np.concatenate([np.full(len(s), o, dtype=np.int64) for o, s in self._tail])
        return desc, owner

    def _merge(self) -> None:
        if not self._tail and not self._removed:
            return
        tail_desc, tail_owner = self._tail_arrays()
        desc = np.concatenate([self._desc, tail_desc])
        owner = np.concatenate([self._owner, tail_owner])
        if self._removed:
            keep = ~np.isin(owner, np.fromiter(self._removed, dtype=np.int64))
            desc, owner = desc[keep], owner[keep]
            self._removed.clear()
        all_keys = keys(desc)
        order = np.argsort(all_keys, axis=1, kind="stable")
        self._desc, self._owner = np.ascontiguousarray(desc), owner
        self._sorted_keys = np.take_along_axis(all_keys, order, axis=1)
        self._sorted_rows = order.astype(np.int64)
        self._tail = []
        self._tail_keys = np.zeros((TABLES, 0), dtype=np.int64)

    def candidates(self, query: Signature, limit: int = DEFAULT_LIMIT) -> list[tuple[int, int]]:
        """(owner, votes), most votes first, at most ``limit``, each with >= MIN_VOTES."""
        return self.search(query, limit)[0]

    def common_owners(self) -> int:
        return max(COMMON_MIN_OWNERS, int(COMMON_SHARE * len(self.signatures)))

    def search(
        self, query: Signature, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[tuple[int, int]], npt.NDArray[np.bool_]]:
        """Candidates as ``candidates`` gives them, and the query's *common* descriptors."""
        common = np.zeros(len(query), dtype=np.bool_)
        if len(query) == 0 or not self.signatures:
            return [], common
        qkeys = keys(query.descriptors)  # TABLES x Q
        found: list[npt.NDArray[np.int64]] = []  # (query row << 32) | stored row
        for table in range(TABLES):
            sk = self._sorted_keys[table]
            if not sk.size:
                continue
            lo = np.searchsorted(sk, qkeys[table], side="left")
            hi = np.searchsorted(sk, qkeys[table], side="right")
            counts = hi - lo
            if counts.any():
                qi = np.repeat(np.arange(qkeys.shape[1], dtype=np.int64), counts)
                starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
                pos = np.arange(int(counts.sum()), dtype=np.int64) + starts
                found.append((qi << _ROW_SHIFT) | self._sorted_rows[table][pos])
        parts_q: list[npt.NDArray[np.int64]] = []
        parts_owner: list[npt.NDArray[np.int64]] = []
        parts_dist: list[npt.NDArray[np.int32]] = []
        if found:
            pairs = np.unique(np.concatenate(found))
            qrow = pairs >> _ROW_SHIFT
            srow = pairs & ((1 << _ROW_SHIFT) - 1)
            xor = np.bitwise_xor(query.descriptors[qrow], self._desc[srow])
            parts_q.append(qrow)
            parts_owner.append(self._owner[srow])
            parts_dist.append(_POPCOUNT[xor].sum(axis=1, dtype=np.int32))
        if self._tail:  # recent additions: matched by key equality, not yet sorted
            tail_desc, tail_owner = self._tail_arrays()
            hits = [
                np.argwhere(qkeys[t][:, None] == self._tail_keys[t][None, :]) for t in range(TABLES)
            ]
            both = np.unique(np.concatenate(hits), axis=0) if hits else np.zeros((0, 2), int)
            if both.size:
                qrow, trow = both[:, 0].astype(np.int64), both[:, 1].astype(np.int64)
                xor = np.bitwise_xor(query.descriptors[qrow], tail_desc[trow])
                parts_q.append(qrow)
                parts_owner.append(tail_owner[trow])
                parts_dist.append(_POPCOUNT[xor].sum(axis=1, dtype=np.int32))
        if not parts_q:
            return [], common
        qrow = np.concatenate(parts_q)
        owner = np.concatenate(parts_owner)
        dist = np.concatenate(parts_dist)
        if self._removed:
            alive = ~np.isin(owner, np.fromiter(self._removed, dtype=np.int64))
            qrow, owner, dist = qrow[alive], owner[alive], dist[alive]
        near = dist <= COMMON_BITS
        near_pairs = np.unique((qrow[near] << _ROW_SHIFT) | owner[near])
        df = np.bincount(near_pairs >> _ROW_SHIFT, minlength=len(query))
        common = df > self.common_owners()
        voting = (dist <= VOTE_BITS) & ~common[qrow]
        votes_pairs = np.unique((qrow[voting] << _ROW_SHIFT) | owner[voting])
        owners, votes = np.unique(votes_pairs & ((1 << _ROW_SHIFT) - 1), return_counts=True)
        keep = votes >= MIN_VOTES
        owners, votes = owners[keep], votes[keep]
        order = np.lexsort((owners, -votes))[:limit]
        return [(int(owners[i]), int(votes[i])) for i in order], common
