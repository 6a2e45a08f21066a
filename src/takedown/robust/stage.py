"""The second matching stage: keypoint candidates from a descriptor index, verified by RANSAC.

``SecondStage`` keeps two ``KeypointIndex``es (bank entries, and earlier content's primary
values), built from the store on first use and kept up to date by the matcher. ``search``
returns (target id, evidence) for every candidate whose geometric verification passes the
threshold (a distance, ``SCORE_SCALE - inliers``, as for every other signal type).

The matcher runs this stage only where PDQ is unsure (no PDQ match of that kind: bank or
earlier content); ``takedown match FILE`` always runs it so that a reviewer sees both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.matching.candidates import REREAD_WINDOW, changed_entries
from takedown.matching.registry import Found, StageResult
from takedown.robust import layout
from takedown.robust.features import Signature, SignatureError, decode
from takedown.robust.index import DEFAULT_LIMIT, KeypointIndex
from takedown.robust.layout import Layout
from takedown.robust.signal import LAYOUT_VARIANT, NAME, join, score_to_distance
from takedown.robust.verify import Evidence, verify_candidates
from takedown.store.models import Bank, BankChange, BankEntry, Signal

#: Signal types matched by this stage instead of the generic candidate search.
SECOND_STAGE_TYPES = frozenset({NAME})
#: Ids per ``IN (...)`` query while catching up.
CHUNK = 5000
#: Characters at the end of a value compared to tell a re-hashed value from the indexed one.
TAIL = 16


@dataclass(frozen=True)
class StageHit:
    target_id: int
    distance: int
    evidence: Evidence


def signatures(rows: Iterable[tuple[int, str]]) -> list[tuple[int, Signature]]:
    """(target, signature) of keypoint values, each with the layout attached to it (a layout
    row names the keypoint value it belongs to by digest: a bank entry, or content's variant).
    A damaged row costs only itself (values were validated on the way in)."""
    items: list[tuple[int, Signature]] = []
    layouts: dict[bytes, Layout] = {}
    owners: list[bytes] = []
    for target, value in rows:
        try:
            if value.startswith(layout.PREFIX):
                owner, grid = layout.decode(value)
                layouts[owner] = grid
            else:
                items.append((target, decode(value)))
                owners.append(layout.digest(value))
        except (SignatureError, layout.LayoutError):
            continue
    return [
        (target, replace(sig, layout=layouts.get(owner)))
        for (target, sig), owner in zip(items, owners, strict=True)
    ]


class KeypointIndexes:
    """The bank and content keypoint indexes of one signal type, kept by the process's
    :class:`~takedown.matching.registry.Registry`: built from the store on first use, then
    caught up from two marks. Bank entries are added, removed (``bank_change`` removals, a
    bank switched off) and restored; content is indexed by content id, replaced when its
    primary signal is stored again (``takedown rehash``)."""

    name = NAME
    signal_type = NAME

    def __init__(self, app: App) -> None:
        self.app = app
        self.builds = 0
        self._bank: KeypointIndex | None = None
        self._content: KeypointIndex | None = None
        self._bank_taken: set[int] = set()  # live entry ids taken in (values and layouts)
        #: content id -> (id, tail) of its indexed primary signal: SQLite may give a value
        #: stored again (re-hashed) the id it had, so the value's tail tells them apart too
        self._content_signal: dict[int, tuple[int, str]] = {}
        self._signal_mark = 0
        self._change_mark = 0
        self.caught_up_at: float | None = None
        self.lock = threading.RLock()

    @staticmethod
    def _load(rows: Sequence[tuple[int, str]]) -> KeypointIndex:
        index = KeypointIndex()
        index.add_many(signatures(rows))
        return index

    # -- building ---------------------------------------------------------------------
    def bank_index(self) -> KeypointIndex:
        with self.lock:
            if self._bank is None:
                with self.app.db.session() as session:
                    mark = int(session.scalar(select(func.max(BankChange.id))) or 0)
                    rows = bank_values(session, self.signal_type)
                self._bank = self._load(rows)
                self._bank_taken = {r[0] for r in rows}
                self._change_mark = mark
                self.builds += 1
            return self._bank

    def content_index(self) -> KeypointIndex:
        with self.lock:
            if self._content is None:
                with self.app.db.session() as session:
                    mark = int(session.scalar(select(func.max(Signal.id))) or 0)
                    rows = session.execute(
                        select(Signal.id, Signal.content_id, Signal.variant, Signal.value).where(
                            Signal.signal_type == self.signal_type,
                            Signal.variant.in_(["", LAYOUT_VARIANT]),
                        )
                    ).all()
                self._content = self._load([(int(r[1]), str(r[3])) for r in rows])
                self._content_signal = {
                    int(r[1]): (int(r[0]), str(r[3])[-TAIL:]) for r in rows if r[2] == ""
                }
                self._signal_mark = mark
                self.builds += 1
            return self._content

    # -- catching up --------------------------------------------------------------------
    def catch_up(self) -> None:
        """Take in signals stored and bank entries changed since the marks (built indexes
        only): new and re-hashed content, bank additions, removals and restores."""
        with self.lock, self.app.db.session() as session:
            if self._content is not None:
                self._catch_up_content(session, self._content)
            if self._bank is not None:
                self._catch_up_bank(session, self._bank)
            self.caught_up_at = time.monotonic()

    def _catch_up_content(self, session: Session, index: KeypointIndex) -> None:
        top = int(session.scalar(select(func.max(Signal.id))) or 0)  # all read below
        tail = func.substr(Signal.value, func.length(Signal.value) - (TAIL - 1))
        rows = session.execute(
            select(Signal.id, Signal.content_id, tail).where(
                Signal.id > self._signal_mark - REREAD_WINDOW,
                Signal.signal_type == self.signal_type,
                Signal.variant == "",
            )
        ).all()
        self._signal_mark = max(self._signal_mark, top)
        stale = sorted(
            {int(c) for s, c, t in rows if self._content_signal.get(int(c)) != (int(s), str(t))}
        )
        for start in range(0, len(stale), CHUNK):
            chunk = stale[start : start + CHUNK]
            found = session.execute(
                select(Signal.content_id, Signal.variant, Signal.id, Signal.value).where(
                    Signal.content_id.in_(chunk),
                    Signal.signal_type == self.signal_type,
                    Signal.variant.in_(["", LAYOUT_VARIANT]),
                )
            ).all()
            for content_id, sig in signatures((int(r[0]), str(r[3])) for r in found):
                index.remove(content_id)  # a re-hashed content's old value goes
                index.add(content_id, sig)
            for content_id, variant, signal_id, value in found:
                if variant == "":
                    self._content_signal[int(content_id)] = (int(signal_id), str(value)[-TAIL:])

    def _catch_up_bank(self, session: Session, index: KeypointIndex) -> None:
        self._change_mark, ids = changed_entries(session, self._change_mark)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            wanted: list[int] = []
            for entry_id, removed_at, enabled in session.execute(
                select(BankEntry.id, BankEntry.removed_at, Bank.enabled)
                .join(Bank, Bank.id == BankEntry.bank_id)
                .where(BankEntry.id.in_(chunk), BankEntry.signal_type == self.signal_type)
            ):
                if removed_at is None and enabled:
                    if entry_id not in self._bank_taken:
                        wanted.append(int(entry_id))
                else:
                    index.remove(int(entry_id))
                    self._bank_taken.discard(int(entry_id))
            if wanted:
                rows = session.execute(
                    select(BankEntry.id, BankEntry.value).where(BankEntry.id.in_(wanted))
                ).all()
                for entry_id, sig in signatures((int(r[0]), str(r[1])) for r in rows):
                    index.add(entry_id, sig)
                self._bank_taken.update(wanted)

    def status(self) -> dict[str, Any]:
        with self.lock:
            bank, content = self._bank, self._content
            return {
                "name": self.name,
                "loaded": bank is not None or content is not None,
                "entries": {
                    f"bank:{self.signal_type}": None if bank is None else len(bank),
                    f"content:{self.signal_type}": None if content is None else len(content),
                },
                "marks": {
                    "signal": None if content is None else self._signal_mark,
                    "bank_change": None if bank is None else self._change_mark,
                },
                "builds": self.builds,
                "caught_up_seconds_ago": (
                    None
                    if self.caught_up_at is None
                    else round(time.monotonic() - self.caught_up_at, 3)
                ),
            }

    def note_content(
        self, content_id: int, signal_id: int, value: str, attached: str | None = None
    ) -> None:
        """Add content's primary keypoint value (and its layout value) to the content index."""
        with self.lock:
            key = (signal_id, value[-TAIL:])
            if self._content is None or self._content_signal.get(content_id) == key:
                return
            try:
                sig = decode(value)
                if attached is not None:
                    sig = replace(sig, layout=layout.decode(attached)[1])
            except (SignatureError, layout.LayoutError):
                return
            self._content.remove(content_id)
            self._content.add(content_id, sig)
            self._content_signal[content_id] = key

    def forget_bank_entry(self, entry_id: int) -> None:
        with self.lock:
            if self._bank is not None:
                self._bank.remove(entry_id)
                self._bank_taken.discard(entry_id)

    @staticmethod
    def search_index(
        index: KeypointIndex,
        query: Signature,
        threshold: int,
        exclude: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[StageHit]:
        found, common = index.search(query, limit + (exclude is not None))
        refs = [(t, index.signatures[t]) for t, _votes in found if t != exclude]
        hits = []
        for target, evidence in verify_candidates(query, refs, common).items():
            distance = score_to_distance(evidence.inliers)
            if evidence.matched and distance <= threshold:
                hits.append(StageHit(target, distance, evidence))
        return sorted(hits, key=lambda h: (h.distance, h.target_id))


class SecondStage(KeypointIndexes):
    """The keypoint stage: answers ``keypoints`` lookups; re-examines content PDQ missed."""

    name = NAME
    signal_type = NAME
    types = SECOND_STAGE_TYPES
    backs = "pdq"

    def bank_hits(self, values: Sequence[str], threshold: int) -> list[StageHit]:
        with self.lock:
            return self.search_index(self.bank_index(), join(values), threshold)

    def content_hits(
        self, values: Sequence[str], threshold: int, exclude: int | None
    ) -> list[StageHit]:
        with self.lock:
            return self.search_index(self.content_index(), join(values), threshold, exclude)

    def value_search(
        self,
        signal_type: str,
        values: Sequence[str],
        *,
        bank_radius: int | None,
        content_radius: int | None,
        exclude: int | None,
    ) -> tuple[list[Found], list[Found]]:
        bank = [] if bank_radius is None else self.bank_hits(values, bank_radius)
        content = (
            [] if content_radius is None else self.content_hits(values, content_radius, exclude)
        )
        return _found(bank), _found(content)

    def content_search(
        self,
        session: Session,
        content_id: int,
        by_type: Mapping[str, list[str]],
        *,
        banks: bool,
        contents: bool,
        bank_radius: int,
        content_radius: int,
    ) -> StageResult | None:
        if self.signal_type not in by_type:
            return None
        bank, content = self.value_search(
            self.signal_type,
            by_type[self.signal_type],
            bank_radius=bank_radius if banks else None,
            content_radius=content_radius if contents else None,
            exclude=content_id,
        )
        return StageResult(self.signal_type, bank, content)


def _found(hits: Sequence[StageHit], method: str | None = None) -> list[Found]:
    """Stage hits as the registry's ``Found`` (evidence as stored in ``match.evidence``)."""
    prefix = {"method": method} if method is not None else {}
    return [Found(h.target_id, h.distance, {**prefix, **h.evidence.to_dict()}) for h in hits]


def bank_values(session: Session, signal_type: str) -> list[tuple[int, str]]:
    """(entry id, value) of the live entries of enabled banks of one signal type."""
    rows = session.execute(
        select(BankEntry.id, BankEntry.value)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(
            BankEntry.signal_type == signal_type,
            BankEntry.removed_at.is_(None),
            Bank.enabled.is_(True),
        )
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def content_values(
    session: Session, signal_type: str, variants: Sequence[str] = ("", LAYOUT_VARIANT)
) -> list[tuple[int, str]]:
    """(content id, value) of one signal type's primary values (and layouts)."""
    rows = session.execute(
        select(Signal.content_id, Signal.value).where(
            Signal.signal_type == signal_type, Signal.variant.in_(list(variants))
        )
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]
