"""The review queue: undecided sightings ordered by a documented priority score.

Priority (0-100, higher first; ties broken by newest):

* **known material** — 40 if the sighting's content matches an active entry of a bank
  (not an allow-list); 15 if it only matches earlier content (a copy);
* **label severity** — up to 20 from the matched entry's labels: ``severity`` (high 20,
  medium 12, low 5) if present, else ``confidence`` (0-1) × 20;
* **re-upload** — 20 if the sighting is a re-upload of removed material
  (``sighting.reupload_of_id``);
* **reach** — up to 20: 5 × log10(1 + n) for the largest of the ``views``, ``reach``,
  ``followers`` or ``members`` numbers the source gave (``sighting.extra``).

Decisions: ``refer``, ``not_in_scope``, ``second_review``. A sighting leaves the queue with
its first ``refer`` or ``not_in_scope``; ``second_review`` keeps it in the queue, flagged, for
another reviewer (the one who asked cannot close it alone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.access.banks import may_read
from takedown.api.models import ApiReviewDecision, ApiUser
from takedown.app import App
from takedown.matching.lookup import evidence_text
from takedown.store.models import Bank, BankEntry, Content, Match, Sighting

if TYPE_CHECKING:
    from takedown.api.scope import Viewer

DECISIONS = {
    "refer": "Refer",
    "not_in_scope": "Not in scope",
    "second_review": "Needs a second reviewer",
}
CLOSING = ("refer", "not_in_scope")
SEVERITY = {"high": 20.0, "medium": 12.0, "low": 5.0}
REACH_KEYS = ("views", "reach", "followers", "members")
WINDOW = 5000


@dataclass
class Evidence:
    kind: str  # "bank" or "copy"
    distance: int
    signal_type: str
    bank: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    entry_value: str | None = None
    other_content_id: int | None = None
    #: Why a robust match holds, in one line (keypoints: inliers, transform, colour layout;
    #: video: containment shares or the keyframe found), from ``match.evidence``.
    detail: str | None = None
    #: What the earlier copy is ("image", "video", "text"...), so it is shown as what it is.
    other_kind: str | None = None
    #: A text match's relation (exact/edited copy, spun rewrite, translation, same event...).
    relation: str | None = None


@dataclass
class QueueItem:
    sighting: Sighting
    content: Content | None
    score: float
    parts: dict[str, float]
    evidence: list[Evidence]
    flagged_by: list[str]
    #: Values a hold could be placed on from this item ("sha256:…", "pdq:…").
    hold_values: list[str] = field(default_factory=list)


def severity(labels: dict[str, Any]) -> float:
    level = str(labels.get("severity", "")).strip().lower()
    if level in SEVERITY:
        return SEVERITY[level]
    try:
        confidence = float(labels.get("confidence", 0.0))
    except (TypeError, ValueError):
        return 0.0
    return 20.0 * min(1.0, max(0.0, confidence)) if math.isfinite(confidence) else 0.0


def reach(extra: dict[str, Any] | None) -> float:
    best = 0.0
    for key in REACH_KEYS:
        try:
            value = float(str((extra or {}).get(key, "0")).replace(",", ""))
        except ValueError:
            continue
        if math.isfinite(value) and value > best:
            best = value
    return min(20.0, 5.0 * math.log10(1.0 + best))


def score(
    known: bool, copy: bool, labels: dict[str, Any], reupload: bool, extra: Any
) -> tuple[float, dict[str, float]]:
    parts = {
        "known": 40.0 if known else (15.0 if copy else 0.0),
        "severity": severity(labels) if known else 0.0,
        "reupload": 20.0 if reupload else 0.0,
        "reach": reach(extra if isinstance(extra, dict) else None),
    }
    return round(sum(parts.values()), 2), parts


def evidence_detail(evidence: Any) -> str | None:
    """A stored robust match's evidence in one line, as ``takedown match`` prints it; None for
    matches without evidence (PDQ, text) or with evidence of a shape this version cannot
    read (the signal type and distance still show)."""
    if not isinstance(evidence, dict) or not evidence:
        return None
    try:
        return evidence_text(evidence)
    except (KeyError, TypeError, ValueError):
        return None


def how_matched(
    session: Session, content_ids: set[int]
) -> dict[int, list[tuple[str, int, str | None]]]:
    """Per content, its strongest active match of each signal type: (type, distance, why).
    No other content's id is shown, so a copy the viewer may not see stays unnamed."""
    out: dict[int, list[tuple[str, int, str | None]]] = {}
    if not content_ids:
        return out
    rows = session.scalars(
        select(Match)
        .where(Match.content_id.in_(sorted(content_ids)), Match.state == "active")
        .order_by(Match.distance, Match.id)
    )
    for match in rows:
        if match.content_id is None:
            continue
        found = out.setdefault(match.content_id, [])
        if all(kind != match.signal_type for kind, _d, _w in found):
            found.append((match.signal_type, match.distance, evidence_detail(match.evidence)))
    return out


def evidence_for(
    app: App, content_ids: list[int], viewer: Viewer | None = None
) -> dict[int, list[Evidence]]:
    """Bank hits (shared) and earlier copies; with a ``viewer``, only copies it may see."""
    from takedown.api.scope import visible_content_ids

    out: dict[int, list[Evidence]] = {}
    if not content_ids:
        return out
    with app.db.session() as session:
        seen: set[int] | None = None
        if viewer is not None:
            others = {
                m.other_content_id
                for m in session.scalars(
                    select(Match).where(
                        Match.content_id.in_(content_ids), Match.other_content_id.is_not(None)
                    )
                )
            }
            seen = set(
                session.scalars(
                    visible_content_ids(session, viewer).where(
                        Sighting.content_id.in_(sorted(o for o in others if o is not None))
                    )
                )
            )
        kinds = {
            cid: kind
            for cid, kind in session.execute(
                select(Content.id, Content.kind).where(
                    Content.id.in_(
                        select(Match.other_content_id).where(Match.content_id.in_(content_ids))
                    )
                )
            )
        }
        rows = session.execute(
            select(Match, BankEntry, Bank)
            .outerjoin(BankEntry, BankEntry.id == Match.bank_entry_id)
            .outerjoin(Bank, Bank.id == BankEntry.bank_id)
            .where(Match.content_id.in_(content_ids), Match.state.in_(("active", "related")))
            .order_by(Match.distance)
        ).all()
    for match, entry, bank in rows:
        if match.content_id is None:
            continue
        relation = None
        if isinstance(match.evidence, dict) and match.evidence.get("method") == "text":
            relation = str(match.evidence.get("label") or "") or None
        if match.state == "related":  # a text that does not link (same event, undecidable)
            if seen is not None and match.other_content_id not in (seen | {None}):
                continue
            item = Evidence(
                "related",
                match.distance,
                match.signal_type,
                bank=bank.name if bank is not None else None,
                other_content_id=match.other_content_id,
                detail=evidence_detail(match.evidence),
                relation=relation,
            )
        elif entry is not None and bank is not None:
            if bank.allow_list:
                continue
            if viewer is not None and not may_read(viewer, bank.owner_agency_id, bank.sharing):
                continue  # another agency's private bank: not even its name
            item = Evidence(
                "bank",
                match.distance,
                match.signal_type,
                bank=bank.name,
                labels=dict(entry.labels or {}),
                entry_value=entry.value,
                detail=evidence_detail(match.evidence),
                relation=relation,
            )
        else:
            if seen is not None and match.other_content_id not in seen:
                continue  # a copy the viewer may not see: not even its id is shown
            item = Evidence(
                "copy",
                match.distance,
                match.signal_type,
                other_content_id=match.other_content_id,
                detail=evidence_detail(match.evidence),
                other_kind=kinds.get(match.other_content_id or 0),
                relation=relation,
            )
        out.setdefault(match.content_id, []).append(item)
    return out


def review_queue(app: App, limit: int = 50, viewer: Viewer | None = None) -> list[QueueItem]:
    """Undecided sightings by priority; with a ``viewer``, only those it may see."""
    from takedown.api.scope import sighting_filter

    with app.db.session() as session:
        decided = {
            sid: (decision, user)
            for sid, decision, user in session.execute(
                select(ApiReviewDecision.sighting_id, ApiReviewDecision.decision, ApiUser.username)
                .outerjoin(ApiUser, ApiUser.id == ApiReviewDecision.user_id)
                .order_by(ApiReviewDecision.id)
            )
        }
        closed = {sid for sid, (d, _u) in decided.items() if d in CLOSING}
        query = (
            select(Sighting, Content)
            .outerjoin(Content, Content.id == Sighting.content_id)
            .order_by(Sighting.id.desc())
            .limit(WINDOW)
        )
        if viewer is not None:
            query = query.where(sighting_filter(session, viewer))
        fetched = [(r[0], r[1]) for r in session.execute(query)]
        flags: dict[int, list[str]] = {}
        for sid, _decision, user in session.execute(
            select(ApiReviewDecision.sighting_id, ApiReviewDecision.decision, ApiUser.username)
            .outerjoin(ApiUser, ApiUser.id == ApiReviewDecision.user_id)
            .where(ApiReviewDecision.decision == "second_review")
        ):
            flags.setdefault(sid, []).append(user or "?")
    rows = [(s, c) for s, c in fetched if s.id not in closed]
    evidence = evidence_for(app, [c.id for _s, c in rows if c is not None], viewer)
    items = []
    for s, c in rows:
        found = evidence.get(c.id, []) if c is not None else []
        banked = [e for e in found if e.kind == "bank"]
        labels = banked[0].labels if banked else {}
        copies = any(e.kind != "related" for e in found)  # a related text is not a copy
        total, parts = score(bool(banked), copies, labels, s.reupload_of_id is not None, s.extra)
        items.append(QueueItem(s, c, total, parts, found[:4], flags.get(s.id, [])))
    items.sort(key=lambda i: (-i.score, -i.sighting.id))
    return items[:limit]
