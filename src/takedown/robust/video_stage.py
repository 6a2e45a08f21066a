"""Robust video matching inside the matcher (issue #8): containment, then keyframe keypoints.

For a video that vPDQ (80 %/80 %) did not match, the query's frames are sampled
(``video.QUERY_RATE`` per second) and hashed as stored, trimmed and mirrored
(``video.hash_frames``), then:

1. **containment** against every banked vPDQ value (or earlier content's): a match when the
   query lies mostly inside the other video (``video.QUERY_SHARE``) and covers a fair part of it
   (``video.INDEX_SHARE``): start-trimmed, sped-up, bordered and mirrored copies;
2. only where containment found nothing, **keyframe keypoints**: every other sampled frame (at
   most ``MAX_KEYFRAME_QUERIES``) and its mirror searches a descriptor index of the banked
   ``video_keyframe`` signatures; candidates are verified by RANSAC (crops, overlays), stopping
   early on a clear match.

Distances share one scale with the ``keypoints`` type (``SCORE_SCALE`` = 64, smaller is
stronger), so a bank's ``video_keyframe`` threshold applies to both: a keyframe hit is
``64 - inliers``; a containment hit is ``64 x (100 - query %) / 100`` (at most 19 when the rule
holds). Every hit carries its evidence (``method``, shares or inliers and transform).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.robust.features import KEEP, Signature, SignatureError, decode
from takedown.robust.features import extract as extract_signature
from takedown.robust.index import DEFAULT_LIMIT, KeypointIndex
from takedown.robust.signal import QUERY_CHUNKS, SCORE_SCALE, score_to_distance
from takedown.robust.stage import SecondStage, StageHit, bank_values, content_values
from takedown.robust.trim import TrimBox
from takedown.robust.verify import MIN_INLIERS, verify_candidates
from takedown.robust.video import QueryFrame, containment_of, hash_frames, sample_frames
from takedown.robust.video_signal import NAME
from takedown.store.models import Bank, BankEntry, Signal

#: The vPDQ signal type whose banked values containment compares against.
VPDQ = "video"
#: Query frames (each also mirrored) tried against the keyframe indexes, spread over the video.
MAX_KEYFRAME_QUERIES = 60
#: A keyframe hit with this many inliers ends the search early.
CLEAR_INLIERS = 2 * MIN_INLIERS


@dataclass(frozen=True)
class VideoHit:
    target_id: int  # bank entry id or content id
    distance: int
    evidence: dict[str, Any]


@dataclass
class VideoQuery:
    """A query video's sampled, hashed frames; frame signatures are extracted on first use."""

    frames: list[QueryFrame]
    box: TrimBox | None
    _signatures: list[tuple[int, bool, Signature]] = field(default_factory=list)
    _done: int = 0

    @classmethod
    def of(cls, stream: BinaryIO) -> VideoQuery:
        """Sample and hash a video (``UnhashableContent`` when it cannot be read)."""
        frames = sample_frames(stream)
        box = hash_frames(frames)
        return cls(frames, box)

    def margins(self) -> dict[str, int] | None:
        return self.box.margins() if self.box is not None and self.box.trimmed else None

    def keyframe_queries(self) -> list[QueryFrame]:
        step = max(2, math.ceil(len(self.frames) / MAX_KEYFRAME_QUERIES))
        return self.frames[::step]

    def signature(self, position: int) -> list[tuple[int, bool, Signature]]:
        """(timestamp, mirrored, signature) of the ``position``-th keyframe query frame."""
        chosen = self.keyframe_queries()
        while self._done <= position < len(chosen):
            frame = chosen[self._done]
            for mirrored, rgb in ((False, frame.rgb), (True, frame.rgb[:, ::-1])):
                sig, _box = extract_signature(np.ascontiguousarray(rgb), keep=KEEP * QUERY_CHUNKS)
                self._signatures.append((frame.timestamp_ms, mirrored, sig))
            self._done += 1
        return self._signatures[2 * position : 2 * position + 2]


def containment_distance(query_share: float) -> int:
    return round(SCORE_SCALE * (100.0 - query_share) / 100.0)


def contained_hits(
    query: VideoQuery, rows: Sequence[tuple[int, str]], exclude: int | None = None
) -> list[VideoHit]:
    """Targets whose vPDQ value contains the query (the containment rule), with the shares."""
    hits = []
    for target, value in rows:
        if target == exclude:
            continue
        try:
            found = containment_of(query.frames, value)
        except ValueError:
            continue  # validated on the way in; a damaged row costs only itself
        if found.contained:
            evidence = {
                "method": "containment",
                "query_share": round(found.query_share, 1),
                "index_share": round(found.index_share, 1),
                "query_frames": len(query.frames),
                "matched_by": found.matched_by,
                "margins": query.margins(),
            }
            hits.append(VideoHit(target, containment_distance(found.query_share), evidence))
    return sorted(hits, key=lambda h: (h.distance, h.target_id))


def keyframe_hits(
    query: VideoQuery, index: KeypointIndex, exclude: int | None = None
) -> list[VideoHit]:
    """Targets whose keyframe some sampled query frame (or its mirror) verifies against."""
    if not index.signatures:
        return []
    best: dict[int, VideoHit] = {}
    for position in range(len(query.keyframe_queries())):
        for stamp, mirrored, sig in query.signature(position):
            found, common = index.search(sig, DEFAULT_LIMIT + (exclude is not None))
            refs = [(t, index.signatures[t]) for t, _votes in found if t != exclude]
            for target, ev in verify_candidates(sig, refs, common).items():
                distance = score_to_distance(ev.inliers)
                if ev.matched and (target not in best or distance < best[target].distance):
                    evidence = {"method": "keyframe", **ev.to_dict()}
                    evidence |= {"at_ms": stamp, "mirrored": mirrored}
                    best[target] = VideoHit(target, distance, evidence)
        if any(h.evidence["inliers"] >= CLEAR_INLIERS for h in best.values()):
            break  # clear enough: no need to look at every frame
    return sorted(best.values(), key=lambda h: (h.distance, h.target_id))


class VideoStage:
    """Keyframe indexes (bank entries, earlier content), built from the store on first use."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._bank: KeypointIndex | None = None
        self._content: KeypointIndex | None = None

    def bank_index(self) -> KeypointIndex:
        if self._bank is None:
            with self.app.db.session() as session:
                rows = bank_values(session, NAME)
            self._bank = SecondStage._load(rows)
        return self._bank

    def content_index(self) -> KeypointIndex:
        if self._content is None:
            with self.app.db.session() as session:
                rows = content_values(session, NAME)
            self._content = SecondStage._load(rows)
        return self._content

    def note_content(self, content_id: int, value: str) -> None:
        if self._content is not None:
            try:
                self._content.add(content_id, decode(value))
            except SignatureError:
                return

    @staticmethod
    def has_targets(session: Session, *, banks: bool, contents: bool, exclude: int | None) -> bool:
        """Whether anything could match (so that a query video is sampled only then)."""
        kinds = (VPDQ, NAME)
        if banks and session.scalar(
            select(BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(
                BankEntry.signal_type.in_(kinds),
                BankEntry.removed_at.is_(None),
                Bank.enabled.is_(True),
            )
            .limit(1)
        ):
            return True
        query = select(Signal.id).where(Signal.signal_type.in_(kinds), Signal.variant == "")
        if exclude is not None:
            query = query.where(Signal.content_id != exclude)
        return contents and session.scalar(query.limit(1)) is not None

    def bank_hits(self, session: Session, query: VideoQuery) -> list[VideoHit]:
        """Containment against banked vPDQ values; keyframes only where that found nothing."""
        found = contained_hits(query, bank_values(session, VPDQ))
        return found or keyframe_hits(query, self.bank_index())

    def content_hits(
        self, session: Session, query: VideoQuery, exclude: int | None
    ) -> list[VideoHit]:
        found = contained_hits(query, content_values(session, VPDQ), exclude)
        return found or keyframe_hits(query, self.content_index(), exclude)

    def value_hits(
        self, query: Signature, threshold: int, exclude: int | None, *, banks: bool
    ) -> list[StageHit]:
        """A lone keyframe value (``takedown match --signal video_keyframe --value …``)."""
        index = self.bank_index() if banks else self.content_index()
        return SecondStage.search(index, query, threshold, exclude)
