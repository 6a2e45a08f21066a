"""Find bank entries and earlier content near a signal value, for every index kind.

Exact types are looked up in the database (indexed by type and value). 256-bit Hamming types
(PDQ) use in-memory Hamming indexes built from the store once per process
(:meth:`CandidateIndex.shared`) and then caught up incrementally with what other processes
stored since: new content signals by id, bank additions and removals by ``bank_change`` id.
Pairwise types (video) compare against every stored value of the type, unless the type offers
its own in-memory index through a ``candidate_set(ids, values, owners)`` method (text MinHash
and anchors, see ``takedown.text.candidates``), used like the Hamming sets.

The process-wide instance belongs to :class:`takedown.matching.registry.Registry` (with the
plugged keypoint and video stages); :meth:`CandidateIndex.shared` is that registry's index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.match import HammingIndex, hex_to_array
from takedown.plugins import signal_types
from takedown.signals.base import SignalType
from takedown.store.models import Bank, BankChange, BankEntry, Signal

#: Rows committed out of id order by concurrent writers (PostgreSQL sequences) are caught by
#: re-reading this many ids below the mark on every catch-up (adding is idempotent).
REREAD_WINDOW = 1000
#: Bank-level changes that switch every entry of a bank on or off in the indexes.
TOGGLES = ("enable", "disable")


def changed_entries(session: Session, mark: int) -> tuple[int, list[int]]:
    """(new mark, ids of bank entries changed since ``mark``): entries added, removed or
    restored (re-reading ``REREAD_WINDOW`` changes below the mark), and every entry of a bank
    switched on or off after the mark."""
    rows = session.execute(
        select(BankChange.id, BankChange.entry_id, BankChange.bank_id, BankChange.action).where(
            BankChange.id > mark - REREAD_WINDOW
        )
    ).all()
    if not rows:
        return mark, []
    ids = {int(r[1]) for r in rows if r[1] is not None}
    toggled = sorted({r[2] for r in rows if r[0] > mark and r[1] is None and r[3] in TOGGLES})
    if toggled:
        ids.update(session.scalars(select(BankEntry.id).where(BankEntry.bank_id.in_(toggled))))
    return max(mark, max(int(r[0]) for r in rows)), sorted(ids)


@dataclass(frozen=True)
class Candidate:
    target_id: int  # bank entry id or content id
    distance: int


class CandidateSet(Protocol):
    """What an in-memory index of one signal type's values offers matching."""

    #: row id -> the bank entry or content it stands for (its size is the set's entries)
    owner: dict[int, int]

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
        #: signal id -> (type, hash of value) of the rows within REREAD_WINDOW of the mark:
        #: a row deleted there, or stored again under an id SQLite reused (``takedown signals
        #: rehash`` of the newest content), is taken out of its set
        self._recent: dict[int, tuple[str, int]] = {}
        self._change_mark = 0  # highest BankChange.id the bank sets reflect
        self.lock = threading.RLock()
        self.builds = 0  # sets built from the store (catch-ups do not count)
        self.caught_up_at: float | None = None

    @classmethod
    def shared(cls, app: App) -> CandidateIndex:
        """This process's index for ``app`` (its :class:`Registry`'s): built once, then caught
        up with the store on every call, so a worker or server never rebuilds it per task or
        per request."""
        from takedown.matching.registry import Registry

        return Registry.shared(app).index

    def status(self) -> dict[str, Any]:
        """loaded, entries per set, marks, builds, seconds since the last catch-up."""
        with self.lock:
            entries = {f"bank:{t}": len(s.owner) for t, s in sorted(self._bank.items())}
            entries |= {f"content:{t}": len(s.owner) for t, s in sorted(self._content.items())}
            return {
                "name": "candidates",
                "loaded": bool(self._bank or self._content),
                "entries": entries,
                "marks": {
                    "signal": self._signal_mark if self._content else None,
                    "bank_change": self._change_mark if self._bank else None,
                },
                "builds": self.builds,
                "caught_up_seconds_ago": (
                    None
                    if self.caught_up_at is None
                    else round(time.monotonic() - self.caught_up_at, 3)
                ),
            }

    def refresh(self) -> None:
        """Catch up with signals and bank changes stored since the sets were built."""
        with self.lock, self.app.db.session() as session:
            if self._content:
                # every signal up to here is read below (the mark covers other types too)
                top = int(session.scalar(select(func.max(Signal.id))) or 0)
                rows = session.execute(
                    select(Signal.id, Signal.signal_type, Signal.value, Signal.content_id)
                    .where(
                        Signal.id > self._signal_mark - REREAD_WINDOW,
                        Signal.variant == "",
                        Signal.signal_type.in_(sorted(self._content)),
                    )
                    .order_by(Signal.id)
                ).all()
                low = self._signal_mark - REREAD_WINDOW
                seen: set[int] = set()
                for signal_id, signal_type, value, content_id in rows:
                    seen.add(signal_id)
                    before = self._recent.get(signal_id)
                    if before is not None and before != (signal_type, hash(value)):
                        self._content[before[0]].remove(signal_id)  # stored again, same id
                    self._content[signal_type].add(signal_id, value, content_id)
                    self._recent[signal_id] = (signal_type, hash(value))
                    self._signal_mark = max(self._signal_mark, signal_id)
                for gone in [i for i in self._recent if i > low and i not in seen]:
                    self._content[self._recent.pop(gone)[0]].remove(gone)  # deleted
                self._signal_mark = max(self._signal_mark, top)
                cut = self._signal_mark - REREAD_WINDOW
                self._recent = {i: v for i, v in self._recent.items() if i > cut}
            self.caught_up_at = time.monotonic()
            if self._bank:
                self._change_mark, ids = changed_entries(session, self._change_mark)
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
            self.builds += 1
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
            cut = self._signal_mark - REREAD_WINDOW
            self._recent |= {r[0]: (signal_type, hash(r[1])) for r in rows if r[0] > cut}
            self.builds += 1
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
