"""In-memory candidate sets for text signal values, used by matching instead of comparing a
new value with every stored one.

Both keep the interface of the matching layer's Hamming sets: ``add(row_id, value, owner)``,
``remove(row_id)`` and ``search(values, radius) -> {owner: best distance}``; a signal type
offers one through its ``candidate_set(ids, values, owners)`` method.

- :class:`MinHashSet` (``text_minhash``): LSH bands (:class:`takedown.text.lsh.MinHashIndex`),
  candidates scored as the signal type's ``distance`` does (sketch estimate, fact guard). A pair at
  the default threshold (estimated Jaccard 0.6) is a candidate with probability 0.985.
- :class:`AnchorSet` (``text_anchors``): an inverted index over strong anchors (URLs,
  handles, tags, dates, references, numbers of two digits or more); a stored text is a
  candidate when it shares one with the query, then scored exactly. Texts that share no
  strong anchor cannot reach the default threshold anyway.
- :class:`SpinSet` (``text_spin``): an inverted index over the sentences' fact keys.
- :class:`EncoderSet` (a configured multilingual model, ``text_encoder``): every stored vector
  in one matrix; a query is one matrix-vector product (exact, no approximation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from takedown.text import anchors, minhash, spin
from takedown.text.lsh import MinHashIndex


class MinHashSet:
    def __init__(self, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]) -> None:
        self.owner: dict[int, int] = {}
        self._value: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.index = MinHashIndex(keep_sets=False)
        batch_ids: list[int] = []
        batch: list[np.ndarray] = []
        for row_id, value, owner in zip(ids, values, owners, strict=True):
            parsed = self._parse(value)
            if parsed is None or row_id in self.owner:
                continue
            self.owner[row_id] = owner
            self._value[row_id] = parsed
            batch_ids.append(row_id)
            batch.append(parsed[0])
        if batch:
            self.index.add(batch_ids, np.stack(batch))

    @staticmethod
    def _parse(value: str) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            return minhash.decode(value)
        except ValueError:
            return None  # a malformed stored value is skipped, never fatal

    def add(self, row_id: int, value: str, owner: int) -> None:
        parsed = self._parse(value)
        if parsed is None or row_id in self.owner:
            return
        self.owner[row_id] = owner
        self._value[row_id] = parsed
        self.index.add([row_id], parsed[0].reshape(1, -1))

    def remove(self, row_id: int) -> None:
        if self.owner.pop(row_id, None) is not None:
            self._value.pop(row_id, None)
            self.index.remove(row_id)

    def search(self, values: Iterable[str], radius: int) -> dict[int, int]:
        best: dict[int, int] = {}
        for value in values:
            query = self._parse(value)
            if query is None:
                continue
            for row_id in self.index.candidates(query[0]):
                dist = minhash.value_distance(query, self._value[row_id])
                owner = self.owner[row_id]
                if dist <= radius and dist < best.get(owner, 1 << 30):
                    best[owner] = dist
        return best


def _strong_keys(found: anchors.Anchors) -> set[str]:
    return {k for k, w in found.strong.items() if w >= anchors.WEIGHTS["name"] - 0.25}


class AnchorSet:
    def __init__(
        self,
        ids: Sequence[int],
        values: Sequence[str],
        owners: Sequence[int],
        distance: Callable[[anchors.Anchors, anchors.Anchors], int] | None = None,
    ) -> None:
        self.owner: dict[int, int] = {}
        self._anchors: dict[int, anchors.Anchors] = {}
        self._postings: dict[str, set[int]] = {}
        self._distance = distance or (
            lambda a, b: round(100 * (1.0 - anchors.similarity(a, b).score))
        )
        for row_id, value, owner in zip(ids, values, owners, strict=True):
            self.add(row_id, value, owner)

    @staticmethod
    def _parse(value: str) -> anchors.Anchors | None:
        try:
            return anchors.parse(value)
        except ValueError:
            return None

    def add(self, row_id: int, value: str, owner: int) -> None:
        found = self._parse(value)
        if found is None or row_id in self.owner:
            return
        self.owner[row_id] = owner
        self._anchors[row_id] = found
        for key in _strong_keys(found):
            self._postings.setdefault(key, set()).add(row_id)

    def remove(self, row_id: int) -> None:
        if self.owner.pop(row_id, None) is None:
            return
        found = self._anchors.pop(row_id)
        for key in _strong_keys(found):
            self._postings.get(key, set()).discard(row_id)

    def search(self, values: Iterable[str], radius: int) -> dict[int, int]:
        best: dict[int, int] = {}
        for value in values:
            query = self._parse(value)
            if query is None:
                continue
            rows: set[int] = set()
            for key in _strong_keys(query):
                rows |= self._postings.get(key, set())
            for row_id in rows:
                dist = self._distance(query, self._anchors[row_id])
                owner = self.owner[row_id]
                if dist <= radius and dist < best.get(owner, 1 << 30):
                    best[owner] = dist
        return best


class SpinSet:
    """``text_spin`` values indexed by their sentences' fact keys. A stored text is a candidate
    when it shares a fact key with the query; texts without any facts are compared with every
    stored text without facts. (A text whose facts were all removed while it was rewritten is
    not found from the other side; the spinner model keeps facts.)"""

    def __init__(self, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]) -> None:
        self.owner: dict[int, int] = {}
        self._sketch: dict[int, spin.SentenceSketch] = {}
        self._postings: dict[int, set[int]] = {}
        self._no_facts: set[int] = set()
        for row_id, value, owner in zip(ids, values, owners, strict=True):
            self.add(row_id, value, owner)

    @staticmethod
    def _parse(value: str) -> spin.SentenceSketch | None:
        try:
            return spin.parse(value)
        except ValueError:
            return None

    def add(self, row_id: int, value: str, owner: int) -> None:
        sketch = self._parse(value)
        if sketch is None or row_id in self.owner:
            return
        self.owner[row_id] = owner
        self._sketch[row_id] = sketch
        keys = {f for f in sketch.facts if f}
        for key in keys:
            self._postings.setdefault(key, set()).add(row_id)
        if not keys:
            self._no_facts.add(row_id)

    def remove(self, row_id: int) -> None:
        if self.owner.pop(row_id, None) is None:
            return
        sketch = self._sketch.pop(row_id)
        for key in {f for f in sketch.facts if f}:
            self._postings.get(key, set()).discard(row_id)
        self._no_facts.discard(row_id)

    def search(self, values: Iterable[str], radius: int) -> dict[int, int]:
        best: dict[int, int] = {}
        for value in values:
            query = self._parse(value)
            if query is None:
                continue
            keys = {f for f in query.facts if f}
            rows: set[int] = set()
            for key in keys:
                rows |= self._postings.get(key, set())
            if not keys:
                rows |= self._no_facts
            for row_id in rows:
                other = self._sketch[row_id]
                score = min(spin.align(query, other).score, spin.align(other, query).score)
                dist = round(100 * (1.0 - score))
                owner = self.owner[row_id]
                if dist <= radius and dist < best.get(owner, 1 << 30):
                    best[owner] = dist
        return best


class EncoderSet:
    """Unit vectors of a sentence-encoder signal type, searched by one product per query."""

    def __init__(self, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]) -> None:
        self.owner: dict[int, int] = {}
        self._row: dict[int, int] = {}
        self._ids: list[int] = []
        self._vectors: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        for row_id, value, owner in zip(ids, values, owners, strict=True):
            self.add(row_id, value, owner)

    def add(self, row_id: int, value: str, owner: int) -> None:
        from takedown.text import encoder

        try:
            vector = encoder.parse(value)
        except ValueError:
            return
        if row_id in self.owner or (self._vectors and vector.shape != self._vectors[0].shape):
            return
        self.owner[row_id] = owner
        self._row[row_id] = len(self._ids)
        self._ids.append(row_id)
        self._vectors.append(vector)
        self._matrix = None

    def remove(self, row_id: int) -> None:
        if self.owner.pop(row_id, None) is not None:
            self._row.pop(row_id, None)

    def search(self, values: Iterable[str], radius: int) -> dict[int, int]:
        from takedown.text import encoder

        if not self._vectors:
            return {}
        if self._matrix is None:
            self._matrix = np.stack(self._vectors)
        best: dict[int, int] = {}
        for value in values:
            try:
                query = encoder.parse(value)
            except ValueError:
                continue
            if query.shape[0] != self._matrix.shape[1]:
                continue
            dists = np.rint(np.clip(1.0 - self._matrix @ query, 0.0, 1.0) * 100).astype(int)
            for index in np.flatnonzero(dists <= radius).tolist():
                row_id = self._ids[index]
                owner = self.owner.get(row_id)
                if owner is None or self._row.get(row_id) != index:
                    continue
                if dists[index] < best.get(owner, 1 << 30):
                    best[owner] = int(dists[index])
        return best
