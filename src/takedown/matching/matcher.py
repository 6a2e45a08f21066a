"""Match content against every bank and all earlier content; tie matches into clusters.

Rules:
- A bank entry matches when its distance is within the bank's threshold for the signal type
  (the type's default when the bank sets none). Allow-list banks suppress: content that matches
  an allow-list entry keeps its known-material matches, marked ``suppressed``.
- Flood control: an entry that matches far more than usual within an hour is quarantined for
  review; its new matches are ``held`` (recorded, not acted on) until it is released.
- Content-to-content matches use each type's default threshold.
- Clusters are the connected pieces of content joined by content matches or by matching the
  same bank entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.jobs import task
from takedown.matching.banks import set_status_in
from takedown.matching.candidates import CandidateIndex
from takedown.matching.registry import Found, Registry, Stage
from takedown.matching.text_relations import RELATED, judge_content_hits
from takedown.robust.signal import LAYOUT_VARIANT
from takedown.robust.video_signal import NAME as VIDEO_KEYFRAME
from takedown.robust.video_stage import VideoQuery, VideoStage
from takedown.store.models import Bank, BankEntry, Cluster, Content, Match, Signal
from takedown.store.upsert import insert_ignore

FLOOD_MIN_PER_HOUR = 50
FLOOD_FACTOR = 10.0


@dataclass(frozen=True)
class Hit:
    signal_type: str
    distance: int
    bank_entry_id: int | None = None
    other_content_id: int | None = None
    allow_list: bool = False
    state: str = "active"
    #: Why a robust (keypoint, video) hit matched: inliers, transform, containment shares
    #: (see takedown.robust); stored in ``match.evidence``.
    evidence: dict[str, Any] | None = None


@dataclass
class MatchReport:
    contents: int = 0
    known: int = 0
    copies: int = 0
    suppressed: int = 0
    held: int = 0
    quarantined_entries: list[int] = field(default_factory=list)


def match_key(
    content_id: int | None,
    sighting_id: int | None,
    signal_type: str,
    entry: int | None,
    other: int | None,
) -> str:
    subject = f"c{content_id}" if content_id is not None else f"s{sighting_id}"
    target = f"e{entry}" if entry is not None else f"o{other}"
    return f"{subject}:{signal_type}:{target}"


class Matcher:
    """Matching with the process's :class:`Registry` (built once, caught up on construction):
    the generic candidate search for most signal types, the plugged stages for theirs. Bank
    metadata (thresholds, allow-list) is read once per Matcher (:meth:`forget_banks` drops it
    when banks change)."""

    def __init__(
        self, app: App, index: CandidateIndex | None = None, registry: Registry | None = None
    ) -> None:
        self.app = app
        self.registry = registry or Registry.shared(app)
        self.index = index or self.registry.index
        self._banks: dict[int, tuple[Bank, dict[str, int]]] = {}
        self._entry_bank: dict[int, int] = {}
        self._radius: dict[str, int] = {}

    def forget_banks(self) -> None:
        """Read banks (thresholds, allow-list, which entry is whose) again on next use."""
        self._banks, self._entry_bank, self._radius = {}, {}, {}

    @property
    def second(self) -> Stage | None:
        """The keypoint stage (when the keypoint type is registered)."""
        return self.registry.stage_for("keypoints")

    @property
    def video(self) -> Stage | None:
        """The robust video stage (when the keyframe type is registered)."""
        return self.registry.stage_for(VIDEO_KEYFRAME)

    def _bank_of(self, session: Session, entry_ids: Sequence[int]) -> None:
        missing = [e for e in entry_ids if e not in self._entry_bank]
        if missing:
            for entry_id, bank_id in session.execute(
                select(BankEntry.id, BankEntry.bank_id).where(BankEntry.id.in_(missing))
            ):
                self._entry_bank[entry_id] = bank_id
        if not self._banks or any(self._entry_bank[e] not in self._banks for e in missing):
            for bank in session.scalars(select(Bank)):
                self._banks[bank.id] = (bank, dict(bank.thresholds or {}))

    def radius(self, signal_type: str) -> int:
        """The widest threshold any bank sets for the type: the index search radius."""
        if signal_type not in self._radius:
            limits = [self.index.types[signal_type].default_threshold]
            with self.app.db.session() as session:
                for (thresholds,) in session.execute(select(Bank.thresholds)):
                    if thresholds and signal_type in thresholds:
                        limits.append(int(thresholds[signal_type]))
            self._radius[signal_type] = max(limits)
        return self._radius[signal_type]

    def hits_for(
        self, session: Session, signal_type: str, values: Sequence[str], exclude: int | None
    ) -> list[Hit]:
        kind = self.index.types[signal_type]
        stage = self.registry.stage_for(signal_type)
        if stage is not None:
            staged_bank, staged_content = stage.value_search(
                signal_type,
                values,
                bank_radius=self.radius(signal_type),
                content_radius=kind.default_threshold,
                exclude=exclude,
            )
            return self._stage_hits(session, signal_type, staged_bank, staged_content)
        hits: list[Hit] = []
        bank_found = self.index.bank_candidates(signal_type, values, self.radius(signal_type))
        self._bank_of(session, [c.target_id for c in bank_found])
        for cand in bank_found:
            bank, thresholds = self._banks[self._entry_bank[cand.target_id]]
            if cand.distance <= thresholds.get(signal_type, kind.default_threshold):
                hits.append(
                    Hit(
                        signal_type,
                        cand.distance,
                        bank_entry_id=cand.target_id,
                        allow_list=bank.allow_list,
                    )
                )
        for cand in self.index.content_candidates(
            signal_type, values, kind.default_threshold, exclude
        ):
            hits.append(Hit(signal_type, cand.distance, other_content_id=cand.target_id))
        return hits

    def _stage_hits(
        self,
        session: Session,
        signal_type: str,
        bank_found: Sequence[Found],
        content_found: Sequence[Found],
    ) -> list[Hit]:
        """A stage's findings as hits: bank entries within their bank's threshold for the type
        (the type's default when the bank sets none), content within the default."""
        default = self.index.types[signal_type].default_threshold
        hits: list[Hit] = []
        self._bank_of(session, [f.target_id for f in bank_found])
        for found in bank_found:
            bank, thresholds = self._banks[self._entry_bank[found.target_id]]
            if found.distance <= thresholds.get(signal_type, default):
                hits.append(
                    Hit(
                        signal_type,
                        found.distance,
                        bank_entry_id=found.target_id,
                        allow_list=bank.allow_list,
                        evidence=found.evidence,
                    )
                )
        for found in content_found:
            if found.distance <= default:
                hits.append(
                    Hit(
                        signal_type,
                        found.distance,
                        other_content_id=found.target_id,
                        evidence=found.evidence,
                    )
                )
        return hits

    def match(self, content_ids: Sequence[int]) -> MatchReport:
        report = MatchReport()
        for content_id in sorted(content_ids):
            self._match_one(content_id, report)
        return report

    def _match_one(self, content_id: int, report: MatchReport) -> None:
        staged = self.registry.staged_types
        with self.app.db.session() as session:
            signals = session.execute(
                select(Signal.id, Signal.signal_type, Signal.variant, Signal.value).where(
                    Signal.content_id == content_id
                )
            ).all()
            by_type: dict[str, list[str]] = defaultdict(list)
            primary: dict[str, tuple[int, str]] = {}
            attached: dict[str, str] = {}  # the keypoints' layout
            for sig_id, kind, variant, value in signals:
                if kind not in self.index.types:
                    continue
                by_type[kind].append(value)
                if variant == "":
                    primary[kind] = (sig_id, value)
                elif variant == LAYOUT_VARIANT:
                    attached[kind] = value
            hits: list[Hit] = []
            for kind, values in by_type.items():
                if kind not in staged:
                    hits.extend(self.hits_for(session, kind, values, exclude=content_id))
            for stage in self.registry.stages:
                hits.extend(self._unsure_step(session, stage, by_type, hits, content_id))
            hits = self._apply_rules(session, hits, report)
            # text hits: one decision on all the text evidence (same event is never a copy)
            hits = judge_content_hits(session, content_id, hits, self.index.types)
            rows = [
                {
                    "key": match_key(
                        content_id, None, h.signal_type, h.bank_entry_id, h.other_content_id
                    ),
                    "content_id": content_id,
                    "signal_type": h.signal_type,
                    "bank_entry_id": h.bank_entry_id,
                    "other_content_id": h.other_content_id,
                    "distance": h.distance,
                    "state": h.state,
                    "created_at": datetime.now(UTC),
                    "evidence": h.evidence,
                }
                for h in hits
            ]
            insert_ignore(session.connection(), Match.__table__, rows, ["key"])
            known = any(
                h.bank_entry_id is not None and not h.allow_list and h.state == "active"
                for h in hits
            )
            report.contents += 1
            report.known += int(known)
            report.copies += int(
                any(h.other_content_id is not None and h.state != RELATED for h in hits)
            )
            self._cluster(session, content_id, hits, known)
            session.execute(
                update(Content).where(Content.id == content_id).values(matched_at=datetime.now(UTC))
            )
        for kind, (sig_id, value) in primary.items():
            owner = self.registry.stage_for(kind)
            if owner is not None:
                owner.note_content(content_id, sig_id, value, attached.get(kind))
            else:
                self.index.note_content_signal(sig_id, kind, value, content_id)

    # -- plugged stages (issue #8): keypoints where PDQ is unsure, robust video where vPDQ is
    def _unsure_step(
        self,
        session: Session,
        stage: Stage,
        by_type: Mapping[str, list[str]],
        hits: list[Hit],
        content: int,
    ) -> list[Hit]:
        """A stage's hits for content its first-stage type did not match: bank entries are
        searched when no hit of that type was a bank entry, earlier content when none was
        earlier content."""
        backs = stage.backs
        if not (stage.types & by_type.keys() or backs in by_type):
            return []
        found_bank = any(h.bank_entry_id is not None for h in hits if h.signal_type == backs)
        found_content = any(h.other_content_id is not None for h in hits if h.signal_type == backs)
        if found_bank and found_content:
            return []
        kind = next(iter(sorted(stage.types)))
        result = stage.content_search(
            session,
            content,
            by_type,
            banks=not found_bank,
            contents=not found_content,
            bank_radius=self.radius(kind),
            content_radius=self.index.types[kind].default_threshold,
        )
        if result is None:
            return []
        return self._stage_hits(session, result.signal_type, result.bank, result.content)

    def robust_video_hits(
        self,
        session: Session,
        query: VideoQuery,
        exclude: int | None,
        *,
        banks: bool = True,
        contents: bool = True,
    ) -> list[Hit]:
        """Hits of a sampled video, stored as ``video_keyframe`` with their own distance."""
        stage = self.registry.stage_for(VIDEO_KEYFRAME)
        if not isinstance(stage, VideoStage):
            return []
        result = stage.query_search(session, query, exclude, banks=banks, contents=contents)
        return self._stage_hits(session, result.signal_type, result.bank, result.content)

    def _apply_rules(self, session: Session, hits: list[Hit], report: MatchReport) -> list[Hit]:
        allowed = any(h.allow_list for h in hits)
        out = []
        for hit in hits:
            if hit.bank_entry_id is None or hit.allow_list:
                out.append(hit)
                continue
            status = session.scalar(
                select(BankEntry.status).where(BankEntry.id == hit.bank_entry_id)
            )
            if allowed:
                state = "suppressed"
                report.suppressed += 1
            elif status == "quarantined" or self._flooding(session, hit.bank_entry_id, report):
                state = "held"
                report.held += 1
            else:
                state = "active"
            out.append(replace(hit, other_content_id=None, allow_list=False, state=state))
        return out

    def _flooding(self, session: Session, entry_id: int, report: MatchReport) -> bool:
        now = datetime.now(UTC)
        last_hour = (
            session.scalar(
                select(func.count()).where(
                    Match.bank_entry_id == entry_id, Match.created_at >= now - timedelta(hours=1)
                )
            )
            or 0
        )
        week = (
            session.scalar(
                select(func.count()).where(
                    Match.bank_entry_id == entry_id,
                    Match.created_at >= now - timedelta(days=7),
                    Match.created_at < now - timedelta(hours=1),
                )
            )
            or 0
        )
        usual = week / (7 * 24 - 1)
        if last_hour + 1 <= max(FLOOD_MIN_PER_HOUR, FLOOD_FACTOR * usual):
            return False
        reason = f"{last_hour + 1} matches in an hour, usually {usual:.1f}"
        set_status_in(session, entry_id, "quarantined", "flood-control", reason)
        report.quarantined_entries.append(entry_id)
        return True

    def _cluster(self, session: Session, content_id: int, hits: list[Hit], known: bool) -> None:
        hits = [h for h in hits if h.state != RELATED]  # related texts are not one material
        members = {content_id}
        members |= {h.other_content_id for h in hits if h.other_content_id is not None}
        entries = [
            h.bank_entry_id for h in hits if h.bank_entry_id is not None and not h.allow_list
        ]
        if entries:
            members |= {
                cid
                for (cid,) in session.execute(
                    select(Match.content_id).where(
                        Match.bank_entry_id.in_(entries), Match.content_id.is_not(None)
                    )
                )
                if cid is not None
            }
        current = {
            cid: cl
            for cid, cl in session.execute(
                select(Content.id, Content.cluster_id).where(Content.id.in_(members))
            )
        }
        clusters = {cl for cl in current.values() if cl is not None}
        if clusters:
            target = min(clusters)
        else:
            cluster = Cluster(size=0, known=False)
            session.add(cluster)
            session.flush()
            target = cluster.id
        others = clusters - {target}
        was_known = bool(
            session.scalar(
                select(func.count())
                .select_from(Cluster)
                .where(Cluster.id.in_(clusters), Cluster.known.is_(True))
            )
        )
        session.execute(update(Content).where(Content.id.in_(members)).values(cluster_id=target))
        if others:
            session.execute(
                update(Content).where(Content.cluster_id.in_(others)).values(cluster_id=target)
            )
            session.execute(delete(Cluster).where(Cluster.id.in_(others)))
        size = session.scalar(select(func.count()).where(Content.cluster_id == target)) or 0
        session.execute(
            update(Cluster).where(Cluster.id == target).values(size=size, known=known or was_known)
        )
        # Re-uploads (verify feature): sightings of material that was removed before.
        from takedown.verify.reuploads import mark_reuploads_of_content

        mark_reuploads_of_content(session, content_id)


def match_contents(
    app: App, content_ids: Sequence[int], matcher: Matcher | None = None
) -> MatchReport:
    return (matcher or Matcher(app)).match(content_ids)


@task("match.contents")
def match_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """Match content not matched yet (idempotent: a retried job skips what committed)."""
    ids = [int(i) for i in args["content_ids"]]
    with app.db.session() as session:
        todo = session.scalars(
            select(Content.id).where(Content.id.in_(ids), Content.matched_at.is_(None))
        ).all()
    report = match_contents(app, list(todo))
    return {"contents": report.contents, "known": report.known, "copies": report.copies}
