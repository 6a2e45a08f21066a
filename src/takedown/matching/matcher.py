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
from takedown.matching.text_relations import RELATED, judge_content_hits
from takedown.robust.signal import LAYOUT_VARIANT, join
from takedown.robust.stage import SECOND_STAGE_TYPES, SecondStage
from takedown.robust.video_signal import NAME as VIDEO_KEYFRAME
from takedown.robust.video_stage import VPDQ, VideoHit, VideoQuery, VideoStage
from takedown.signals.base import SignalError
from takedown.store.blobs import BlobError
from takedown.store.models import Bank, BankEntry, Cluster, Content, Match, Signal
from takedown.store.upsert import insert_ignore

FLOOD_MIN_PER_HOUR = 50
FLOOD_FACTOR = 10.0
#: Types that only a robust stage matches (never the generic candidate search).
ROBUST_TYPES = SECOND_STAGE_TYPES | {VIDEO_KEYFRAME}


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
    def __init__(self, app: App, index: CandidateIndex | None = None) -> None:
        self.app = app
        self.index = index or CandidateIndex.shared(app)
        self._banks: dict[int, tuple[Bank, dict[str, int]]] = {}
        self._entry_bank: dict[int, int] = {}
        self._radius: dict[str, int] = {}
        self.second = SecondStage(app)
        self.video = VideoStage(app)

    def _bank_of(self, session: Session, entry_ids: Sequence[int]) -> None:
        missing = [e for e in entry_ids if e not in self._entry_bank]
        if missing:
            for entry_id, bank_id in session.execute(
                select(BankEntry.id, BankEntry.bank_id).where(BankEntry.id.in_(missing))
            ):
                self._entry_bank[entry_id] = bank_id
        if not self._banks:
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
        if signal_type in SECOND_STAGE_TYPES:
            return self.second_stage_hits(session, signal_type, values, exclude)
        if signal_type == VIDEO_KEYFRAME:
            return self.keyframe_value_hits(session, values, exclude)
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

    def match(self, content_ids: Sequence[int]) -> MatchReport:
        report = MatchReport()
        for content_id in sorted(content_ids):
            self._match_one(content_id, report)
        return report

    def _match_one(self, content_id: int, report: MatchReport) -> None:
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
                if kind not in ROBUST_TYPES:
                    hits.extend(self.hits_for(session, kind, values, exclude=content_id))
            hits.extend(self._unsure_pdq_step(session, by_type, hits, content_id))
            hits.extend(self._unsure_vpdq_step(session, by_type, hits, content_id))
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
        for kind, (sig_id, value) in primary.items():
            if kind in SECOND_STAGE_TYPES:
                self.second.note_content(content_id, value, attached.get(kind))
            elif kind == VIDEO_KEYFRAME:
                self.video.note_content(content_id, value)
            else:
                self.index.note_content_signal(sig_id, kind, value, content_id)

    # -- second stage (issue #8): keypoints, only where PDQ is unsure ----------------------
    def _unsure_pdq_step(
        self, session: Session, by_type: Mapping[str, list[str]], hits: list[Hit], content: int
    ) -> list[Hit]:
        """Keypoint hits for content that PDQ did not match: bank entries are searched when no
        PDQ hash matched a bank entry, earlier content when none matched earlier content."""
        out: list[Hit] = []
        pdq_bank = any(h.bank_entry_id is not None for h in hits if h.signal_type == "pdq")
        pdq_content = any(h.other_content_id is not None for h in hits if h.signal_type == "pdq")
        for kind in SECOND_STAGE_TYPES & by_type.keys():
            found = self.second_stage_hits(
                session, kind, by_type[kind], content, banks=not pdq_bank, contents=not pdq_content
            )
            out.extend(found)
        return out

    def second_stage_hits(
        self,
        session: Session,
        signal_type: str,
        values: Sequence[str],
        exclude: int | None,
        *,
        banks: bool = True,
        contents: bool = True,
    ) -> list[Hit]:
        kind = self.index.types[signal_type]
        hits: list[Hit] = []
        if banks:
            found = self.second.bank_hits(values, self.radius(signal_type))
            self._bank_of(session, [h.target_id for h in found])
            for sh in found:
                bank, thresholds = self._banks[self._entry_bank[sh.target_id]]
                if sh.distance <= thresholds.get(signal_type, kind.default_threshold):
                    hits.append(
                        Hit(
                            signal_type,
                            sh.distance,
                            bank_entry_id=sh.target_id,
                            allow_list=bank.allow_list,
                            evidence=sh.evidence.to_dict(),
                        )
                    )
        if contents:
            for sh in self.second.content_hits(values, kind.default_threshold, exclude):
                hits.append(
                    Hit(
                        signal_type,
                        sh.distance,
                        other_content_id=sh.target_id,
                        evidence=sh.evidence.to_dict(),
                    )
                )
        return hits

    # -- robust video (issue #8): only where vPDQ is unsure ---------------------------------
    def _unsure_vpdq_step(
        self, session: Session, by_type: Mapping[str, list[str]], hits: list[Hit], content: int
    ) -> list[Hit]:
        """Robust video hits (containment, then keyframes) for a video that vPDQ did not match:
        bank entries when no vPDQ hit was a bank entry, earlier content when none was content.
        The video is sampled again from its blob, only when something could match: this costs
        nothing for images, for videos that vPDQ matched both ways, or with no video stored."""
        if VPDQ not in by_type or VIDEO_KEYFRAME not in self.index.types:
            return []
        vpdq_bank = any(h.bank_entry_id is not None for h in hits if h.signal_type == VPDQ)
        vpdq_content = any(h.other_content_id is not None for h in hits if h.signal_type == VPDQ)
        banks, contents = not vpdq_bank, not vpdq_content
        if not self.video.has_targets(session, banks=banks, contents=contents, exclude=content):
            return []
        sha256 = session.scalar(select(Content.sha256).where(Content.id == content))
        if sha256 is None:
            return []
        try:
            with self.app.blobs.open_verified(sha256) as stream:
                query = VideoQuery.of(stream)
        except (BlobError, SignalError):
            return []  # its signals_error already says why the video could not be read
        return self.robust_video_hits(session, query, content, banks=banks, contents=contents)

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
        default = self.index.types[VIDEO_KEYFRAME].default_threshold
        hits: list[Hit] = []
        if banks:
            found: list[VideoHit] = self.video.bank_hits(session, query)
            self._bank_of(session, [h.target_id for h in found])
            for vh in found:
                bank, thresholds = self._banks[self._entry_bank[vh.target_id]]
                if vh.distance <= thresholds.get(VIDEO_KEYFRAME, default):
                    hits.append(
                        Hit(
                            VIDEO_KEYFRAME,
                            vh.distance,
                            bank_entry_id=vh.target_id,
                            allow_list=bank.allow_list,
                            evidence=vh.evidence,
                        )
                    )
        if contents:
            for vh in self.video.content_hits(session, query, exclude):
                if vh.distance <= default:
                    hits.append(
                        Hit(
                            VIDEO_KEYFRAME,
                            vh.distance,
                            other_content_id=vh.target_id,
                            evidence=vh.evidence,
                        )
                    )
        return hits

    def keyframe_value_hits(
        self, session: Session, values: Sequence[str], exclude: int | None
    ) -> list[Hit]:
        """A keyframe value on its own (a lookup by value): verified like one query frame."""
        query = join(values)
        default = self.index.types[VIDEO_KEYFRAME].default_threshold
        hits: list[Hit] = []
        found = self.video.value_hits(query, self.radius(VIDEO_KEYFRAME), None, banks=True)
        self._bank_of(session, [h.target_id for h in found])
        for sh in found:
            bank, thresholds = self._banks[self._entry_bank[sh.target_id]]
            if sh.distance <= thresholds.get(VIDEO_KEYFRAME, default):
                evidence = {"method": "keyframe", **sh.evidence.to_dict()}
                hits.append(
                    Hit(
                        VIDEO_KEYFRAME,
                        sh.distance,
                        bank_entry_id=sh.target_id,
                        allow_list=bank.allow_list,
                        evidence=evidence,
                    )
                )
        for sh in self.video.value_hits(query, default, exclude, banks=False):
            evidence = {"method": "keyframe", **sh.evidence.to_dict()}
            hits.append(
                Hit(VIDEO_KEYFRAME, sh.distance, other_content_id=sh.target_id, evidence=evidence)
            )
        return hits

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
    report = match_contents(app, [int(i) for i in args["content_ids"]])
    return {"contents": report.contents, "known": report.known, "copies": report.copies}
