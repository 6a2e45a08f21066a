"""Find bank entries and earlier content near a signal value, for every index kind.

Exact types are looked up in the database (indexed by type and value). 256-bit Hamming types
(PDQ) use in-memory Hamming indexes built from the store once per process
(:meth:`CandidateIndex.shared`) and then caught up incrementally with what other processes
stored since: new content signals by id, bank additions and removals by ``bank_change`` id.
Pairwise types (video) compare against every stored value of the type, unless the type offers
its own in-memory index through a ``candidate_set(ids, values, owners)`` method (text MinHash
and anchors, see ``takedown.text.candidates``), used like the Hamming sets.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np
from sqlalchemy import func, select

from takedown.app import App
from takedown.match import HammingIndex, hex_to_array
from takedown.plugins import signal_types
from takedown.signals.base import SignalType
from takedown.store.models import Bank, BankChange, BankEntry, Signal

#: Rows committed out of id order by concurrent writers (PostgreSQL sequences) are caught by
#: re-reading this many ids below the mark on every catch-up (adding is idempotent).
REREAD_WINDOW = 1000
_SHARED: dict[int, tuple[weakref.ref[App], CandidateIndex]] = {}
_SHARED_LOCK = threading.Lock()


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
        self._signal_mark = 0  # highest Signal.id the content sets reflect
        self._change_mark = 0  # highest BankChange.id the bank sets reflect
        self.lock = threading.RLock()

    @classmethod
    def shared(cls, app: App) -> CandidateIndex:
        """This process's index for ``app``: built once, then caught up with the store on
        every call, so a worker or server never rebuilds it per task or per request."""
        with _SHARED_LOCK:
            for key in [k for k, (ref, _i) in _SHARED.items() if ref() is None]:
                del _SHARED[key]
            found = _SHARED.get(id(app))
            if found is not None and found[0]() is app:
                index = found[1]
            else:
                index = cls(app)
                _SHARED[id(app)] = (weakref.ref(app), index)
        index.refresh()
        return index

    def refresh(self) -> None:
        """Catch up with signals and bank changes stored since the sets were built."""
        with self.lock, self.app.db.session() as session:
            if self._content:
                rows = session.execute(
                    select(Signal.id, Signal.signal_type, Signal.value, Signal.content_id)
                    .where(
                        Signal.id > self._signal_mark - REREAD_WINDOW,
                        Signal.variant == "",
                        Signal.signal_type.in_(sorted(self._content)),
                    )
                    .order_by(Signal.id)
                ).all()
                for signal_id, signal_type, value, content_id in rows:
                    self._content[signal_type].add(signal_id, value, content_id)
                    self._signal_mark = max(self._signal_mark, signal_id)
            if self._bank:
                changed = session.execute(
                    select(BankChange.id, BankChange.entry_id).where(
                        BankChange.id > self._change_mark - REREAD_WINDOW
                    )
                ).all()
                if not changed:
                    return
                self._change_mark = max(self._change_mark, max(c[0] for c in changed))
                ids = sorted({c[1] for c in changed if c[1] is not None})
                for start in range(0, len(ids), 5000):
                    chunk = ids[start : start + 5000]
                    for entry_id, signal_type, value, removed_at, enabled in session.execute(
                        select(
                            BankEntry.id,
                            BankEntry.signal_type,
                            BankEntry.value,
                            BankEntry.removed_at,
                            Bank.enabled,
                        )
                        .join(Bank, Bank.id == BankEntry.bank_id)
                        .where(BankEntry.id.in_(chunk))
                    ):
                        target = self._bank.get(signal_type)
                        if target is None:
                            continue
                        if removed_at is None and enabled:
                            target.add(entry_id, value, entry_id)
                        else:
                            target.remove(entry_id)

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
                if not self._bank:
                    self._change_mark = session.scalar(select(func.max(BankChange.id))) or 0
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
                if not self._content:
                    self._signal_mark = session.scalar(select(func.max(Signal.id))) or 0
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
        with self.lock:
            if has_own_index(self.types[signal_type]) and signal_type in self._content:
                self._content[signal_type].add(signal_id, value, content_id)
                self._signal_mark = max(self._signal_mark, signal_id)

    def forget_bank_entry(self, entry_id: int, signal_type: str) -> None:
        with self.lock:
            if signal_type in self._bank:
                self._bank[signal_type].remove(entry_id)

    # -- queries ----------------------------------------------------------------------
    def bank_candidates(
        self, signal_type: str, values: Sequence[str], radius: int
    ) -> list[Candidate]:
        kind = self.types[signal_type]
        if has_own_index(kind):
            with self.lock:
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
            with self.lock:
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
