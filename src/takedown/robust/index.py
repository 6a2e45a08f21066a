"""Candidate search over keypoint signatures: locality-sensitive hashing of ORB descriptors.

Each of ``TABLES`` tables keys a descriptor by ``KEY_BITS`` of its 256 bits (fixed, spread bit
positions). A query descriptor's colliding stored descriptors are checked by their real Hamming
distance: those within ``VOTE_BITS`` vote for their image, once per query descriptor. Images are
ranked by votes and the best ``limit`` with at least ``MIN_VOTES`` go to geometric verification.

Common descriptors: a query descriptor close (``COMMON_BITS``) to descriptors of more than
``common_owners()`` stored images is an element many images share (an outlet's logo, a caption
template, a title in the same font at the same place): it casts no vote, and verification
ignores it, as a text search engine ignores stop words.

Storage: every stored descriptor (32 bytes) with its image's slot (4 bytes), and per table a
sorted array of keys with the descriptor's row (16 bytes), in two parts searched alike by the
compiled loop of ``takedown.robust.kernels``: the main arrays and a small tail of recent
additions (kept sorted by insertion, merged into the main arrays when it outgrows
``max(TAIL_MIN, main / 8)`` descriptors). Removals are tombstones (a dead slot) until the next
merge. About 36 + 16 x TABLES bytes per descriptor (56 per image): ~5.6 KB per image in memory
with 4 tables, plus the signature kept for verification (~2 KB).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from takedown.robust.features import Signature, words
from takedown.robust.kernels import lsh_votes

TABLES = 4
KEY_BITS = 22
VOTE_BITS = 40
COMMON_BITS = 24
MIN_VOTES = 3
DEFAULT_LIMIT = 4
COMMON_MIN_OWNERS = 50
COMMON_SHARE = 0.01
TAIL_MIN = 4096


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
    return np.ascontiguousarray(out)


@dataclass
class _Part:
    """Descriptors with their slots, and per table the sorted keys and the row of each key."""

    keys: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]
    words: npt.NDArray[np.uint64]
    slots: npt.NDArray[np.int32]

    @classmethod
    def empty(cls) -> _Part:
        return cls(
            np.zeros((TABLES, 0), dtype=np.int64),
            np.zeros((TABLES, 0), dtype=np.int64),
            np.zeros((0, 4), dtype=np.uint64),
            np.zeros(0, dtype=np.int32),
        )

    @classmethod
    def build(cls, desc_words: npt.NDArray[np.uint64], slots: npt.NDArray[np.int32]) -> _Part:
        all_keys = keys(desc_words.view(np.uint8).reshape(-1, 32))
        order = np.argsort(all_keys, axis=1, kind="stable")
        return cls(
            np.ascontiguousarray(np.take_along_axis(all_keys, order, axis=1)),
            np.ascontiguousarray(order.astype(np.int64)),
            np.ascontiguousarray(desc_words),
            np.ascontiguousarray(slots, dtype=np.int32),
        )

    def __len__(self) -> int:
        return int(self.slots.shape[0])

    def insert(self, descriptors: npt.NDArray[np.uint8], slot: int) -> None:
        """Add one image's descriptors, keeping every table sorted (for the small tail)."""
        first = len(self)
        new_keys = keys(descriptors)
        new_rows = np.arange(first, first + descriptors.shape[0], dtype=np.int64)
        merged_keys, merged_rows = [], []
        for t in range(TABLES):
            order = np.argsort(new_keys[t], kind="stable")
            at = np.searchsorted(self.keys[t], new_keys[t][order], side="right")
            merged_keys.append(np.insert(self.keys[t], at, new_keys[t][order]))
            merged_rows.append(np.insert(self.rows[t], at, new_rows[order]))
        self.keys = np.ascontiguousarray(np.stack(merged_keys))
        self.rows = np.ascontiguousarray(np.stack(merged_rows))
        self.words = np.ascontiguousarray(np.concatenate([self.words, words(descriptors)]))
        self.slots = np.concatenate(
            [self.slots, np.full(descriptors.shape[0], slot, dtype=np.int32)]
        )


class KeypointIndex:
    """Signatures by id (a bank entry or a content id), searchable by shared descriptor keys."""

    def __init__(self) -> None:
        self.signatures: dict[int, Signature] = {}
        self._slot: dict[int, int] = {}  # owner -> its live slot
        self._owners = np.zeros(0, dtype=np.int64)  # slot -> owner
        self._slots_used = 0
        self._alive = np.zeros(0, dtype=np.bool_)
        self._main = _Part.empty()
        self._tail = _Part.empty()
        self._dead = 0
        self._vote_stamp = np.zeros(0, dtype=np.int64)
        self._near_stamp = np.zeros(0, dtype=np.int64)
        self._votes = np.zeros(0, dtype=np.int32)
        self._stamp = 1

    def __len__(self) -> int:
        return len(self.signatures)

    def _new_slot(self, owner: int) -> int:
        slot = self._slots_used
        self._slots_used += 1
        self._slot[owner] = slot
        if slot >= self._alive.shape[0]:
            grow = max(64, self._alive.shape[0])
            self._owners = np.concatenate([self._owners, np.zeros(grow, dtype=np.int64)])
            self._alive = np.concatenate([self._alive, np.zeros(grow, dtype=np.bool_)])
            self._vote_stamp = np.concatenate([self._vote_stamp, np.zeros(grow, dtype=np.int64)])
            self._near_stamp = np.concatenate([self._near_stamp, np.zeros(grow, dtype=np.int64)])
            self._votes = np.concatenate([self._votes, np.zeros(grow, dtype=np.int32)])
        self._alive[slot] = True
        self._owners[slot] = owner
        return slot

    def add(self, owner: int, signature: Signature) -> None:
        if owner in self.signatures or len(signature) == 0:
            return
        self.signatures[owner] = signature
        self._tail.insert(signature.descriptors, self._new_slot(owner))
        if len(self._tail) > max(TAIL_MIN, len(self._main) // 8):
            self._merge()

    def add_many(self, items: Iterable[tuple[int, Signature]]) -> None:
        parts_words, parts_slots = [self._tail.words], [self._tail.slots]
        for owner, signature in items:
            if owner in self.signatures or len(signature) == 0:
                continue
            self.signatures[owner] = signature
            slot = self._new_slot(owner)
            parts_words.append(words(signature.descriptors))
            parts_slots.append(np.full(len(signature), slot, dtype=np.int32))
        self._tail = _Part(
            self._tail.keys,
            self._tail.rows,
            np.concatenate(parts_words),
            np.concatenate(parts_slots),
        )
        self._merge()

    def remove(self, owner: int) -> None:
        if self.signatures.pop(owner, None) is not None:
            slot = self._slot.pop(owner)
            self._alive[slot] = False
            self._dead += 1

    def _merge(self) -> None:
        desc_words = np.concatenate([self._main.words, self._tail.words])
        slots = np.concatenate([self._main.slots, self._tail.slots])
        if self._dead:
            keep = self._alive[slots]
            desc_words, slots = desc_words[keep], slots[keep]
            self._dead = 0
        self._main = _Part.build(desc_words, slots)
        self._tail = _Part.empty()

    def candidates(self, query: Signature, limit: int = DEFAULT_LIMIT) -> list[tuple[int, int]]:
        """(owner, votes), most votes first, at most ``limit``, each with >= MIN_VOTES."""
        return self.search(query, limit)[0]

    def common_owners(self) -> int:
        return max(COMMON_MIN_OWNERS, int(COMMON_SHARE * len(self.signatures)))

    def search(
        self, query: Signature, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[tuple[int, int]], npt.NDArray[np.bool_]]:
        """Candidates as ``candidates`` gives them, and the query's *common* descriptors."""
        if len(query) == 0 or not self.signatures:
            return [], np.zeros(len(query), dtype=np.bool_)
        base = self._stamp
        self._stamp += len(query) + 1
        touched, common = lsh_votes(
            words(query.descriptors),
            keys(query.descriptors),
            self._main.keys,
            self._main.rows,
            self._main.words,
            self._main.slots,
            self._tail.keys,
            self._tail.rows,
            self._tail.words,
            self._tail.slots,
            self._alive,
            self._vote_stamp,
            self._near_stamp,
            self._votes,
            base,
            VOTE_BITS,
            COMMON_BITS,
            self.common_owners(),
        )
        votes = self._votes[touched]
        self._votes[touched] = 0
        keep = votes >= MIN_VOTES
        slots, votes = touched[keep], votes[keep]
        owners = self._owners[slots]
        order = np.lexsort((owners, -votes))[:limit]
        return [(int(owners[i]), int(votes[i])) for i in order], common
