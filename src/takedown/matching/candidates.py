"""Find bank entries and earlier content near a signal value, for every index kind.

Exact types are looked up in the database (indexed by type and value). 256-bit Hamming types
(PDQ) use in-memory Hamming indexes rebuilt from the store on first use and kept up to date
incrementally. Pairwise types (video) compare against every stored value of the type, unless
the type offers its own in-memory index through a ``candidate_set(ids, values, owners)``
method (the text types, see ``takedown.text.candidates``), used like the Hamming sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np
from sqlalchemy import select

from takedown.app import App
from takedown.match import HammingIndex, hex_to_array
from takedown.plugins import signal_types
from takedown.signals.base import SignalType
from takedown.store.models import Bank, BankEntry, Signal


@dataclass(frozen=True)
class Candidate:
    target_id: int  # bank entry id or content id
    distance: int


class CandidateSet(Protocol):
    """What an in-memory index of one signal type's values offers matching."""

    def add(self, row_id: int, value: str, owner: int) -> None: ...

    def remove(self, row_id: int) -> None: ...

    def search(self, values: Iterable[str], radius: int) -> dict[int, int]: ...


def has_own_index(kind: SignalType) -> bool:
    """Hamming types, and types that offer their own ``candidate_set``."""
    return kind.index_kind == "hamming256" or callable(getattr(kind, "candidate_set", None))


class _HammingSet:
    """A Hamming index over values of one signal type, with the row each id stands for."""

    def __init__(self, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]) -> None:
        self.owner: dict[int, int] = dict(zip(ids, owners, strict=True))
        if ids:
            self.index = HammingIndex.build(np.asarray(ids, dtype=np.int64), hex_to_array(values))
        else:
            self.index = HammingIndex()

    def add(self, row_id: int, value: str, owner: int) -> None:
        if row_id in self.owner:
            return
        self.owner[row_id] = owner
        self.index.add(np.asarray([row_id], dtype=np.int64), hex_to_array([value]))

    def remove(self, row_id: int) -> None:
        if self.owner.pop(row_id, None) is not None:
            self.index.remove(np.asarray([row_id], dtype=np.int64))

    def search(self, values: Iterable[str], radius: int) -> dict[int, int]:
        """Best distance per owner over all query values (e.g. PDQ's dihedral variants)."""
        best: dict[int, int] = {}
        for value in values:
            ids, dists = self.index.search(hex_to_array([value])[0], radius)
            for row_id, dist in zip(ids.tolist(), dists.tolist(), strict=True):
                owner = self.owner.get(int(row_id))
                if owner is not None and dist < best.get(owner, 1 << 30):
                    best[owner] = int(dist)
        return best


class CandidateIndex:
    """All in-memory indexes one process needs, built lazily from the store."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.types: dict[str, SignalType] = signal_types()
        self._bank: dict[str, CandidateSet] = {}
        self._content: dict[str, CandidateSet] = {}

    def _new_set(
        self, signal_type: str, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]
    ) -> CandidateSet:
        factory = getattr(self.types[signal_type], "candidate_set", None)
        if callable(factory):
            return cast(CandidateSet, factory(ids, values, owners))
        return _HammingSet(ids, values, owners)

    # -- building ---------------------------------------------------------------------
    def _bank_set(self, signal_type: str) -> CandidateSet:
        if signal_type not in self._bank:
            with self.app.db.session() as session:
                rows = session.execute(
                    select(BankEntry.id, BankEntry.value)
                    .join(Bank, Bank.id == BankEntry.bank_id)
                    .where(
                        BankEntry.signal_type == signal_type,
                        BankEntry.removed_at.is_(None),
                        Bank.enabled.is_(True),
                    )
                ).all()
            self._bank[signal_type] = self._new_set(
                signal_type, [r[0] for r in rows], [r[1] for r in rows], [r[0] for r in rows]
            )
        return self._bank[signal_type]

    def _content_set(self, signal_type: str) -> CandidateSet:
        if signal_type not in self._content:
            with self.app.db.session() as session:
                rows = session.execute(
                    select(Signal.id, Signal.value, Signal.content_id).where(
                        Signal.signal_type == signal_type, Signal.variant == ""
                    )
                ).all()
            self._content[signal_type] = self._new_set(
                signal_type, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
            )
        return self._content[signal_type]

    def note_content_signal(
        self, signal_id: int, signal_type: str, value: str, content_id: int
    ) -> None:
        """Make a newly matched content's primary value findable by later content."""
        if has_own_index(self.types[signal_type]) and signal_type in self._content:
            self._content[signal_type].add(signal_id, value, content_id)

    def forget_bank_entry(self, entry_id: int, signal_type: str) -> None:
        if signal_type in self._bank:
            self._bank[signal_type].remove(entry_id)

    # -- queries ----------------------------------------------------------------------
    def bank_candidates(
        self, signal_type: str, values: Sequence[str], radius: int
    ) -> list[Candidate]:
        kind = self.types[signal_type]
        if has_own_index(kind):
            best = self._bank_set(signal_type).search(values, radius)
            return [Candidate(t, d) for t, d in sorted(best.items())]
        with self.app.db.session() as session:
            query = (
                select(BankEntry.id, BankEntry.value)
                .join(Bank, Bank.id == BankEntry.bank_id)
                .where(
                    BankEntry.signal_type == signal_type,
                    BankEntry.removed_at.is_(None),
                    Bank.enabled.is_(True),
                )
            )
            if kind.index_kind == "exact":
                query = query.where(BankEntry.value.in_(list(values)))
            rows = session.execute(query).all()
        return self._closest(kind, rows, values, radius)

    def content_candidates(
        self, signal_type: str, values: Sequence[str], radius: int, exclude: int | None
    ) -> list[Candidate]:
        kind = self.types[signal_type]
        if has_own_index(kind):
            best = self._content_set(signal_type).search(values, radius)
            return [Candidate(t, d) for t, d in sorted(best.items()) if t != exclude]
        with self.app.db.session() as session:
            query = select(Signal.content_id, Signal.value).where(
                Signal.signal_type == signal_type, Signal.variant == ""
            )
            if kind.index_kind == "exact":
                query = query.where(Signal.value.in_(list(values)))
            if exclude is not None:
                query = query.where(Signal.content_id != exclude)
            rows = session.execute(query).all()
        return self._closest(kind, rows, values, radius)

    @staticmethod
    def _closest(
        kind: SignalType, rows: Sequence[tuple[int, str]], values: Sequence[str], radius: int
    ) -> list[Candidate]:
        best: dict[int, int] = {}
        for target, stored in rows:
            for value in values:
                dist = (
                    0
                    if kind.index_kind == "exact" and stored == value
                    else kind.distance(value, stored)
                )
                if dist <= radius and dist < best.get(target, 1 << 30):
                    best[target] = dist
        return [Candidate(t, d) for t, d in sorted(best.items())]
