"""The second matching stage: keypoint candidates from a descriptor index, verified by RANSAC.

``SecondStage`` keeps two ``KeypointIndex``es (bank entries, and earlier content's primary
values), built from the store on first use and kept up to date by the matcher. ``search``
returns (target id, evidence) for every candidate whose geometric verification passes the
threshold (a distance, ``SCORE_SCALE - inliers``, as for every other signal type).

The matcher runs this stage only where PDQ is unsure (no PDQ match of that kind: bank or
earlier content); ``takedown match FILE`` always runs it so that a reviewer sees both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.robust import layout
from takedown.robust.features import Signature, SignatureError, decode
from takedown.robust.index import DEFAULT_LIMIT, KeypointIndex
from takedown.robust.layout import Layout
from takedown.robust.signal import LAYOUT_VARIANT, NAME, join, score_to_distance
from takedown.robust.verify import Evidence, verify_candidates
from takedown.store.models import Bank, BankEntry, Signal

#: Signal types matched by this stage instead of the generic candidate search.
SECOND_STAGE_TYPES = frozenset({NAME})


@dataclass(frozen=True)
class StageHit:
    target_id: int
    distance: int
    evidence: Evidence


class SecondStage:
    def __init__(self, app: App) -> None:
        self.app = app
        self._bank: KeypointIndex | None = None
        self._content: KeypointIndex | None = None

    @staticmethod
    def _load(rows: Sequence[tuple[int, str]]) -> KeypointIndex:
        """The index of keypoint values, each with the layout attached to it (a layout row
        names the keypoint value it belongs to by digest: a bank entry, or content's variant)."""
        index = KeypointIndex()
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
                continue  # validated on the way in; a damaged row costs only itself
        index.add_many(
            (target, replace(sig, layout=layouts.get(owner)))
            for (target, sig), owner in zip(items, owners, strict=True)
        )
        return index

    def bank_index(self) -> KeypointIndex:
        if self._bank is None:
            with self.app.db.session() as session:
                self._bank = self._load(bank_values(session, NAME))
        return self._bank

    def content_index(self) -> KeypointIndex:
        if self._content is None:
            with self.app.db.session() as session:
                self._content = self._load(content_values(session, NAME))
        return self._content

    def note_content(self, content_id: int, value: str, shown: str | None = None) -> None:
        """Add content's primary keypoint value (and its layout value) to the content index."""
        if self._content is not None:
            try:
                sig = decode(value)
                if shown is not None:
                    sig = replace(sig, layout=layout.decode(shown)[1])
                self._content.add(content_id, sig)
            except (SignatureError, layout.LayoutError):
                return

    def forget_bank_entry(self, entry_id: int) -> None:
        if self._bank is not None:
            self._bank.remove(entry_id)

    @staticmethod
    def search(
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

    def bank_hits(self, values: Sequence[str], threshold: int) -> list[StageHit]:
        return self.search(self.bank_index(), join(values), threshold)

    def content_hits(
        self, values: Sequence[str], threshold: int, exclude: int | None
    ) -> list[StageHit]:
        return self.search(self.content_index(), join(values), threshold, exclude)


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
