"""Lookups: which bank entries and earlier content match a hash or a file; sighting status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.plugins import signal_types
from takedown.signals.base import InvalidSignal, SignalError, SignalValue
from takedown.store.models import Bank, BankEntry, Content, Match, Sighting

if TYPE_CHECKING:  # hashing and matching import numba, OpenCV, PyAV: loaded when used
    from takedown.matching.matcher import Hit, Matcher


class LookupFailed(ValueError):
    """A lookup that cannot be made (unknown signal type, malformed value)."""


@dataclass
class BankHit:
    bank: str
    allow_list: bool
    entry_id: int
    signal_type: str
    value: str
    distance: int
    labels: dict[str, Any]
    status: str
    evidence: dict[str, Any] | None = None  # robust hits: inliers, transform, shares


@dataclass
class ContentHit:
    content_id: int
    sha256: str
    signal_type: str
    distance: int
    name: str | None
    urls: list[str]
    evidence: dict[str, Any] | None = None  # robust hits: inliers, transform, shares


@dataclass
class LookupResult:
    signal_type: str
    value: str
    bank_hits: list[BankHit] = field(default_factory=list)
    content_hits: list[ContentHit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal_type": self.signal_type,
            "value": self.value,
            "bank_matches": [vars(h) for h in self.bank_hits],
            "content_matches": [vars(h) for h in self.content_hits],
        }


def lookup(
    app: App,
    signal_type: str,
    values: Sequence[str],
    *,
    banks: Sequence[str] | None = None,
    matcher: Matcher | None = None,
) -> LookupResult:
    """Bank entries and stored content that match ``values`` (variants of one signal)."""
    from takedown.matching.matcher import Matcher

    # A kept matcher's types (instantiated once for its index): asking the plugins again builds
    # every type and reads the settings, which cost more than the lookup itself.
    matcher = matcher or Matcher(app)
    types = matcher.index.types
    if signal_type not in types:
        raise LookupFailed(
            f"unknown signal type {signal_type!r}; known: {', '.join(sorted(types))}"
        )
    try:
        canonical = [types[signal_type].validate(v) for v in values]
    except InvalidSignal as exc:
        raise LookupFailed(str(exc)) from exc
    with app.db.session() as session:
        hits = matcher.hits_for(session, signal_type, canonical, exclude=None)
        return _result(session, LookupResult(signal_type, canonical[0]), hits, banks)


#: The bank entries a lookup names, with their banks (Core rows, no ORM objects).
_ENTRIES = (
    select(
        BankEntry.id,
        BankEntry.value,
        BankEntry.labels,
        BankEntry.status,
        Bank.name,
        Bank.allow_list,
    )
    .join(Bank, Bank.id == BankEntry.bank_id)
    .where(BankEntry.id.in_(bindparam("ids", expanding=True)))
)
#: The contents a lookup names, each with the canonical URLs of its sightings (one row per
#: sighting; a content without sightings has one row with no URL).
_CONTENTS = (
    select(Content.id, Content.sha256, Content.first_name, Sighting.canonical_url)
    .outerjoin(Sighting, Sighting.content_id == Content.id)
    .where(Content.id.in_(bindparam("ids", expanding=True)))
    .order_by(Content.id, Sighting.id)
)
#: URLs kept per content hit.
MAX_URLS = 20


def _result(
    session: Session, result: LookupResult, hits: Sequence[Hit], banks: Sequence[str] | None
) -> LookupResult:
    """Fill ``result`` with the bank entries and content that ``hits`` name.

    At most two Core queries on the session's connection, none when nothing matched: bank
    entries with their banks, and (unless the lookup is limited to banks) contents with their
    sightings' URLs.
    """
    signal_type = result.signal_type
    entry_ids = sorted({h.bank_entry_id for h in hits if h.bank_entry_id is not None})
    content_ids = (
        []
        if banks
        else sorted({h.other_content_id for h in hits if h.other_content_id is not None})
    )
    entries: dict[int, Row[Any]] = {}
    contents: dict[int, tuple[str, str | None, list[str]]] = {}
    if entry_ids:
        rows = session.connection().execute(_ENTRIES, {"ids": entry_ids})
        entries = {row.id: row for row in rows}
    if content_ids:
        rows = session.connection().execute(_CONTENTS, {"ids": content_ids})
        for cid, sha256, name, url in rows:
            urls = contents.setdefault(cid, (sha256, name, []))[2]
            if url and len(urls) < MAX_URLS:
                urls.append(url)
    for hit in hits:
        if hit.bank_entry_id is not None:
            entry = entries[hit.bank_entry_id]
            if banks and entry.name not in banks:
                continue
            result.bank_hits.append(
                BankHit(
                    entry.name,
                    entry.allow_list,
                    entry.id,
                    signal_type,
                    entry.value,
                    hit.distance,
                    dict(entry.labels or {}),
                    entry.status,
                    hit.evidence,
                )
            )
        elif hit.other_content_id is not None and not banks:
            sha256, name, urls = contents[hit.other_content_id]
            result.content_hits.append(
                ContentHit(
                    hit.other_content_id,
                    sha256,
                    signal_type,
                    hit.distance,
                    name,
                    sorted(urls),
                    hit.evidence,
                )
            )
    result.bank_hits.sort(key=lambda h: (h.distance, h.bank, h.entry_id))
    result.content_hits.sort(key=lambda h: (h.distance, h.content_id))
    return result


def hash_file(path: Path, only: str | None = None) -> tuple[str, list[SignalValue], dict[str, str]]:
    """(content kind, signals, errors per signal type) of a file; nothing is stored."""
    from takedown.intake.inspect import inspect_content
    from takedown.intake.records import Limits
    from takedown.matching.hashing import hash_stream

    with path.open("rb") as handle:
        head = handle.read(8192)
        kind = inspect_content(head, path.name, Limits()).kind
        handle.seek(0)
        values, errors = hash_stream(handle, kind, only)
    return kind, values, errors


def lookup_file(
    app: App, path: Path, *, banks: Sequence[str] | None = None
) -> tuple[list[LookupResult], dict[str, str]]:
    from takedown.matching.matcher import Matcher
    from takedown.robust.video_signal import NAME as VIDEO_KEYFRAME

    kind, values, errors = hash_file(path)
    grouped: dict[str, list[str]] = {}
    for value in sorted(values, key=lambda v: v.variant != ""):
        grouped.setdefault(value.signal_type, []).append(value.value)
    matcher = Matcher(app)
    results = [
        lookup(app, name, vals, banks=banks, matcher=matcher)
        for name, vals in grouped.items()
        if name != VIDEO_KEYFRAME
    ]
    if kind == "text":  # each text hit judged by the one text decision (its evidence)
        from takedown.matching.hashing import detected_language
        from takedown.matching.text_relations import judge_results

        judge_results(app, grouped, results, language=detected_language(values))
    if kind == "video" and VIDEO_KEYFRAME in signal_types():
        keyframe = grouped.get(VIDEO_KEYFRAME, [""])[0]
        robust = robust_video_lookup(app, path, keyframe, banks, matcher)
        if isinstance(robust, str):
            errors.setdefault(VIDEO_KEYFRAME, robust)
        else:
            results.append(robust)
    return results, errors


def robust_video_lookup(
    app: App, path: Path, value: str, banks: Sequence[str] | None, matcher: Matcher
) -> LookupResult | str:
    """The robust video path on a file (containment, then keyframes), whatever vPDQ found: a
    reviewer sees both. Its result is named ``video_keyframe`` (the video's keyframe value);
    an error message when the video cannot be sampled."""
    from takedown.robust.video_signal import NAME as VIDEO_KEYFRAME
    from takedown.robust.video_stage import VideoQuery

    try:
        with path.open("rb") as stream:
            query = VideoQuery.of(stream)
    except (OSError, SignalError) as exc:
        return str(exc)
    with app.db.session() as session:
        hits = matcher.robust_video_hits(session, query, None, contents=not banks)
        return _result(session, LookupResult(VIDEO_KEYFRAME, value), hits, banks)


def evidence_text(evidence: dict[str, Any]) -> str:
    """One line for a stored or computed evidence (keypoints, keyframe, containment, text)."""
    if evidence.get("method") == "text":
        from takedown.text.relation import evidence_line

        return evidence_line(evidence)
    if evidence.get("method") == "containment":
        by = ", ".join(f"{k} {v}" for k, v in sorted((evidence.get("matched_by") or {}).items()))
        margins = evidence.get("margins")
        cut = (
            "; margins cut " + ", ".join(f"{k} {v}" for k, v in margins.items() if v)
            if margins
            else ""
        )
        return (
            f"contained: {evidence['query_share']:.0f}% of the video inside the original, "
            f"{evidence['index_share']:.0f}% of the original present; frames matched by {by}{cut}"
        )
    text = (
        f"{evidence['inliers']} inliers of {evidence['pairs']} matched keypoints; "
        f"scale {evidence['scale']:.2f}, rotation {evidence['rotation_deg']:.1f}°, "
        f"shift {evidence['tx']:+.2f}, {evidence['ty']:+.2f}"
    )
    if evidence.get("layout") is not None:
        text += f"; colour layout agrees on {100 * evidence['layout']:.0f}% of the overlap"
    if evidence.get("method") == "keyframe" and "at_ms" in evidence:
        mirrored = ", mirrored" if evidence.get("mirrored") else ""
        text += f"; keyframe found at {evidence['at_ms'] / 1000:.1f} s{mirrored}"
    return text


@dataclass(frozen=True)
class SightingStatus:
    state: str  # "known", "held", "suppressed", "copy", "related" (a text), "new"
    bank: str | None = None
    labels: dict[str, Any] | None = None
    distance: int | None = None
    signal_type: str | None = None
    #: The stored match's evidence (robust matches: inliers, transform, containment shares).
    evidence: dict[str, Any] | None = None


def sighting_status(app: App, sighting_ids: Sequence[int]) -> dict[int, SightingStatus]:
    """ "known: bank, label, distance" or "new" for each sighting (via its content's matches)."""
    rank = {"active": 0, "held": 1, "suppressed": 2}
    out: dict[int, SightingStatus] = {sid: SightingStatus("new") for sid in sighting_ids}
    with app.db.session() as session:
        rows = session.execute(
            select(
                Sighting.id,
                Match.state,
                Match.distance,
                Match.signal_type,
                Match.evidence,
                Match.bank_entry_id,
                Bank.name,
                Bank.allow_list,
                BankEntry.labels,
            )
            .join(Match, Match.content_id == Sighting.content_id)
            .outerjoin(BankEntry, BankEntry.id == Match.bank_entry_id)
            .outerjoin(Bank, Bank.id == BankEntry.bank_id)
            .where(Sighting.id.in_(list(sighting_ids)))
        ).all()
    best: dict[int, tuple[int, int]] = {}
    for sid, state, distance, kind, evidence, entry_id, bank, allow, labels in rows:
        if entry_id is None:
            # a related text (same event, undecidable) is shown, never called a copy
            name = "related" if state == "related" else "copy"
            if out[sid].state in ("new", "related") and out[sid].state != name:
                out[sid] = SightingStatus(
                    name, distance=distance, signal_type=kind, evidence=evidence
                )
            continue
        if allow or (state == "related" and out[sid].state not in ("new", "related")):
            continue
        key = (rank.get(state, 3), distance)
        if sid not in best or key < best[sid]:
            best[sid] = key
            name = {"active": "known", "held": "held", "suppressed": "suppressed"}.get(state, state)
            out[sid] = SightingStatus(name, bank, dict(labels or {}), distance, kind, evidence)
    return out


def recent_sightings(
    app: App, *, operation: str | None = None, platform: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    query = select(Sighting).order_by(Sighting.id.desc()).limit(max(1, min(limit, 10_000)))
    if operation is not None:
        query = query.where(Sighting.operation == operation)
    if platform is not None:
        query = query.where(Sighting.platform_key == platform)
    with app.db.session() as session:
        return [
            {
                "id": s.id,
                "url": s.canonical_url,
                "platform": s.platform_key,
                "seen_at": s.seen_at,
                "language": s.language,
                "reporter": s.reporter,
                "content_id": s.content_id,
            }
            for s in session.scalars(query)
        ]
