"""Candidate search over keypoint signatures: locality-sensitive hashing of ORB descriptors.

Each of ``TABLES`` tables keys a descriptor by ``KEY_BITS`` of its 256 bits (fixed, spread bit
positions). A query descriptor's colliding stored descriptors are checked by their real Hamming
distance: those within ``VOTE_BITS`` vote for their image, once per query descriptor. Images are
ranked by votes and the best ``limit`` with at least ``MIN_VOTES`` go to geometric verification.

Common descriptors: a query descriptor close (``COMMON_BITS``) to descriptors of more than
``common_owners()`` stored images is an element many images share (an outlet's logo, a caption
template, a title in the same font at the same place): it casts no vote, and verification
ignores it, as a text search engine ignores stop words.

Storage, in three parts searched alike by the compiled loop of ``takedown.robust.kernels``:
the main arrays; a tail, merged into them when it outgrows ``max(TAIL_MIN, main / 8)``
descriptors; and the recent additions (at most ``RECENT_MAX`` descriptors), merged into the
tail when full, so that adding one image (content grows one at a time) copies a few thousand
descriptors, not the whole tail. Each part holds, per table, the sorted keys (4 bytes), every
descriptor (32 bytes) and its image's slot (4 bytes) in that table's key order, so that the
descriptors sharing a key are read side by side rather than gathered from all over memory (a
query walks thousands of them: gathering was ~160 ns each, most of the search), and a
directory of the keys' top bits (~1 entry per 8 keys). Removals are tombstones (a dead slot)
until the next merge into the main arrays. About 40 x TABLES + 2 bytes per descriptor (56 per
image): ~9 KB per image in memory with 4 tables, plus the signature kept for verification
(~2 KB).
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
#: Descriptors the recent part holds before it joins the tail (~73 images of 56).
RECENT_MAX = 4096


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


def _directory_bits(n: int) -> int:
    """Top key bits the directory of a part of ``n`` descriptors indexes: about 8 keys per
    directory entry (a binary search among them stays within a cache line or two)."""
    return max(0, min(KEY_BITS, n.bit_length() - 3))


@dataclass
class _Part:
    """Per table: the sorted keys, the descriptor words and the slot of each in that order, and
    a directory of the keys' top bits (``directory[t, b]``: where keys with top bits ``b``
    start)."""

    keys: npt.NDArray[np.int32]  # TABLES x N, sorted per table
    words: npt.NDArray[np.uint64]  # TABLES x N x 4, in each table's key order
    slots: npt.NDArray[np.int32]  # TABLES x N, in each table's key order
    directory: npt.NDArray[np.int32]  # TABLES x (2 ** bits + 1)
    shift: int

    @classmethod
    def empty(cls) -> _Part:
        return cls.build(np.zeros((0, 4), dtype=np.uint64), np.zeros(0, dtype=np.int32))

    @classmethod
    def build(cls, desc_words: npt.NDArray[np.uint64], slots: npt.NDArray[np.int32]) -> _Part:
        all_keys = keys(desc_words.view(np.uint8).reshape(-1, 32))
        order = np.argsort(all_keys, axis=1, kind="stable")
        return cls.from_sorted(
            np.take_along_axis(all_keys, order, axis=1),
            desc_words[order],
            np.asarray(slots, dtype=np.int32)[order],
        )

    @classmethod
    def from_sorted(
        cls,
        sorted_keys: npt.NDArray[np.int64],
        table_words: npt.NDArray[np.uint64],
        table_slots: npt.NDArray[np.int32],
    ) -> _Part:
        """A part from arrays already in each table's key order (a directory is added)."""
        bits = _directory_bits(sorted_keys.shape[1])
        shift = KEY_BITS - bits
        starts = np.arange((1 << bits) + 1, dtype=np.int64) << shift
        directory = np.stack([np.searchsorted(row, starts, side="left") for row in sorted_keys])
        return cls(
            np.ascontiguousarray(sorted_keys, dtype=np.int32),
            np.ascontiguousarray(table_words, dtype=np.uint64).reshape(TABLES, -1, 4),
            np.ascontiguousarray(table_slots, dtype=np.int32),
            np.ascontiguousarray(directory, dtype=np.int32),
            shift,
        )

    def __len__(self) -> int:
        return int(self.slots.shape[1])

    def items(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int32]]:
        """Every descriptor's words and slot (in the first table's order)."""
        return self.words[0], self.slots[0]

    def merged(self, other: _Part) -> _Part:
        """This part and ``other`` in one, every table kept sorted (``other``'s descriptors
        after this part's equal keys): linear copies, no sort."""
        mine, theirs = len(self), len(other)
        if not theirs:
            return self
        total = mine + theirs
        out_keys = np.empty((TABLES, total), dtype=np.int64)
        out_words = np.empty((TABLES, total, 4), dtype=np.uint64)
        out_slots = np.empty((TABLES, total), dtype=np.int32)
        for t in range(TABLES):
            at = np.searchsorted(self.keys[t], other.keys[t], side="right")
            at += np.arange(theirs)  # where other's descriptors land in the merged table
            old = np.ones(total, dtype=np.bool_)
            old[at] = False
            out_keys[t, at], out_keys[t, old] = other.keys[t], self.keys[t]
            out_words[t, at], out_words[t, old] = other.words[t], self.words[t]
            out_slots[t, at], out_slots[t, old] = other.slots[t], self.slots[t]
        return _Part.from_sorted(out_keys, out_words, out_slots)


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
        self._recent = _Part.empty()
        self._dead = 0
        self._vote_stamp = np.zeros(0, dtype=np.int64)
        self._near_stamp = np.zeros(0, dtype=np.int64)
        self._votes = np.zeros(0, dtype=np.int32)
        self._pending = np.zeros(0, dtype=np.int32)  # scratch for the compiled search
        self._touched = np.zeros(0, dtype=np.int32)
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
            self._pending = np.zeros(self._votes.shape[0], dtype=np.int32)
            self._touched = np.zeros(self._votes.shape[0], dtype=np.int32)
        self._alive[slot] = True
        self._owners[slot] = owner
        return slot

    def add(self, owner: int, signature: Signature) -> None:
        if owner in self.signatures or len(signature) == 0:
            return
        self.signatures[owner] = signature
        slot = self._new_slot(owner)
        added = _Part.build(
            words(signature.descriptors), np.full(len(signature), slot, dtype=np.int32)
        )
        # One at a time into the small recent part, which joins the tail when it is full and
        # the tail the main arrays when that outgrows an eighth of them: an addition copies
        # at most RECENT_MAX descriptors, however large the index (content grows by one).
        self._recent = self._recent.merged(added)
        if len(self._recent) > RECENT_MAX:
            self._tail = self._tail.merged(self._recent)
            self._recent = _Part.empty()
            if len(self._tail) > max(TAIL_MIN, len(self._main) // 8):
                self._merge()

    def add_many(self, items: Iterable[tuple[int, Signature]]) -> None:
        parts_words, parts_slots = [], []
        for owner, signature in items:
            if owner in self.signatures or len(signature) == 0:
                continue
            self.signatures[owner] = signature
            slot = self._new_slot(owner)
            parts_words.append(words(signature.descriptors))
            parts_slots.append(np.full(len(signature), slot, dtype=np.int32))
        self._merge(parts_words, parts_slots)

    def remove(self, owner: int) -> None:
        if self.signatures.pop(owner, None) is not None:
            slot = self._slot.pop(owner)
            self._alive[slot] = False
            self._dead += 1

    def _merge(
        self,
        more_words: list[npt.NDArray[np.uint64]] | None = None,
        more_slots: list[npt.NDArray[np.int32]] | None = None,
    ) -> None:
        """Rebuild the main arrays from every part (and ``more``), dropping removed images."""
        parts = [p.items() for p in (self._main, self._tail, self._recent)]
        desc_words = np.concatenate([w for w, _s in parts] + (more_words or []))
        slots = np.concatenate([s for _w, s in parts] + (more_slots or []))
        if self._dead:
            keep = self._alive[slots]
            desc_words, slots = desc_words[keep], slots[keep]
            self._dead = 0
        self._main = _Part.build(desc_words, slots)
        self._tail = _Part.empty()
        self._recent = _Part.empty()

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
        main, tail, recent = self._main, self._tail, self._recent
        n_touched, common = lsh_votes(
            words(query.descriptors),
            keys(query.descriptors),
            (main.keys, tail.keys, recent.keys),
            (main.words, tail.words, recent.words),
            (main.slots, tail.slots, recent.slots),
            (main.directory, tail.directory, recent.directory),
            (main.shift, tail.shift, recent.shift),
            self._alive,
            self._vote_stamp,
            self._near_stamp,
            self._votes,
            self._pending,
            self._touched,
            base,
            VOTE_BITS,
            COMMON_BITS,
            self.common_owners(),
        )
        touched = self._touched[:n_touched].copy()
        votes = self._votes[touched]
        self._votes[touched] = 0
        keep = votes >= MIN_VOTES
        slots, votes = touched[keep], votes[keep]
        owners = self._owners[slots]
        order = np.lexsort((owners, -votes))[:limit]
        return [(int(owners[i]), int(votes[i])) for i in order], common
