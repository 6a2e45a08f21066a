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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.matching.registry import Found, StageResult
from takedown.robust.features import KEEP, Signature
from takedown.robust.features import extract as extract_signature
from takedown.robust.index import DEFAULT_LIMIT, KeypointIndex
from takedown.robust.signal import QUERY_CHUNKS, SCORE_SCALE, join, score_to_distance
from takedown.robust.stage import (
    KeypointIndexes,
    StageHit,
    _found,
    bank_values,
    content_values,
)
from takedown.robust.trim import TrimBox
from takedown.robust.verify import MIN_INLIERS, verify_candidates
from takedown.robust.video import QueryFrame, containment_of, hash_frames, sample_frames
from takedown.robust.video_signal import NAME
from takedown.signals.base import SignalError
from takedown.store.blobs import BlobError
from takedown.store.models import Bank, BankEntry, Content, Signal

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


class VideoStage(KeypointIndexes):
    """Robust video: answers ``video_keyframe`` lookups from its keyframe indexes (bank
    entries, earlier content), and re-examines videos vPDQ missed (containment, then
    keyframes). The indexes are kept by the registry like the keypoint stage's."""

    name = NAME
    signal_type = NAME
    types = frozenset({NAME})
    backs = VPDQ

    def note_content(
        self, content_id: int, signal_id: int, value: str, attached: str | None = None
    ) -> None:
        super().note_content(content_id, signal_id, value, None)

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
        if found:
            return found
        with self.lock:
            return keyframe_hits(query, self.bank_index())

    def content_hits(
        self, session: Session, query: VideoQuery, exclude: int | None
    ) -> list[VideoHit]:
        found = contained_hits(query, content_values(session, VPDQ), exclude)
        if found:
            return found
        with self.lock:
            return keyframe_hits(query, self.content_index(), exclude)

    def value_hits(
        self, query: Signature, threshold: int, exclude: int | None, *, banks: bool
    ) -> list[StageHit]:
        """A lone keyframe value (``takedown match --signal video_keyframe --value …``)."""
        with self.lock:
            index = self.bank_index() if banks else self.content_index()
            return self.search_index(index, query, threshold, exclude)

    def value_search(
        self,
        signal_type: str,
        values: Sequence[str],
        *,
        bank_radius: int | None,
        content_radius: int | None,
        exclude: int | None,
    ) -> tuple[list[Found], list[Found]]:
        """A keyframe value on its own (a lookup by value): verified like one query frame."""
        query = join(values)
        bank = [] if bank_radius is None else self.value_hits(query, bank_radius, None, banks=True)
        content = (
            []
            if content_radius is None
            else self.value_hits(query, content_radius, exclude, banks=False)
        )
        return _found(bank, "keyframe"), _found(content, "keyframe")

    def query_search(
        self,
        session: Session,
        query: VideoQuery,
        exclude: int | None,
        *,
        banks: bool,
        contents: bool,
    ) -> StageResult:
        """Hits of a sampled video (containment, then keyframes), named ``video_keyframe``."""
        bank = self.bank_hits(session, query) if banks else []
        content = self.content_hits(session, query, exclude) if contents else []
        return StageResult(
            NAME,
            [Found(h.target_id, h.distance, h.evidence) for h in bank],
            [Found(h.target_id, h.distance, h.evidence) for h in content],
        )

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
        """A stored video that vPDQ did not match (both ways), sampled again from its blob,
        only when something could match: this costs nothing for images, for videos that vPDQ
        matched both ways, or with no video stored."""
        if VPDQ not in by_type:
            return None
        if not self.has_targets(session, banks=banks, contents=contents, exclude=content_id):
            return None
        sha256 = session.scalar(select(Content.sha256).where(Content.id == content_id))
        if sha256 is None:
            return None
        try:
            with self.app.blobs.open_verified(sha256) as stream:
                query = VideoQuery.of(stream)
        except (BlobError, SignalError):
            return None  # its signals_error already says why the video could not be read
        return self.query_search(session, query, content_id, banks=banks, contents=contents)
