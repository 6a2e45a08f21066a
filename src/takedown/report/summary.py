"""A readable summary of what the store holds (optionally for one operation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import distinct, func, select, true

from takedown.store.db import Database
from takedown.store.models import Bank, BankEntry, Cluster, Content, Match, Platform, Sighting


@dataclass
class Summary:
    sightings: int = 0
    with_content: int = 0
    url_only: int = 0
    unique_content: int = 0
    content_by_kind: dict[str, int] = field(default_factory=dict)
    platforms: int = 0
    unknown_domains: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    reporters: int = 0
    top_platforms: list[tuple[str, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(db: Database, operation: str | None = None, top: int = 10) -> Summary:
    scope = Sighting.operation == operation if operation is not None else true()

    out = Summary()
    with db.session() as session:
        out.sightings = session.scalar((select(func.count(Sighting.id))).where(scope)) or 0
        out.with_content = (
            session.scalar(
                (select(func.count(Sighting.id)).where(Sighting.content_id.is_not(None))).where(
                    scope
                )
            )
            or 0
        )
        out.url_only = out.sightings - out.with_content
        kinds = session.execute(
            select(Content.kind, func.count(distinct(Content.id)))
            .join(Sighting, Sighting.content_id == Content.id)
            .group_by(Content.kind)
            .where(scope)
        )
        out.content_by_kind = {kind: n for kind, n in kinds}
        out.unique_content = sum(out.content_by_kind.values())
        platform_rows = session.execute(
            select(Sighting.platform_key, Platform.name, Platform.known, func.count(Sighting.id))
            .join(Platform, Platform.key == Sighting.platform_key)
            .group_by(Sighting.platform_key, Platform.name, Platform.known)
            .order_by(func.count(Sighting.id).desc(), Sighting.platform_key)
            .where(scope)
        ).all()
        out.platforms = sum(1 for _k, _n, known, _c in platform_rows if known)
        out.unknown_domains = sum(1 for _k, _n, known, _c in platform_rows if not known)
        out.top_platforms = [(name, count) for _k, name, _known, count in platform_rows[:top]]
        langs = session.execute(
            select(Sighting.language, func.count(Sighting.id))
            .group_by(Sighting.language)
            .order_by(func.count(Sighting.id).desc())
            .where(scope)
        )
        out.languages = {lang or "unknown": n for lang, n in langs}
        out.reporters = (
            session.scalar((select(func.count(distinct(Sighting.reporter)))).where(scope)) or 0
        )
    return out


@dataclass
class ClusterLine:
    cluster_id: int
    contents: int
    sightings: int
    platforms: int
    known: bool
    label: str | None


@dataclass
class MatchingSummary:
    sightings_known: int = 0
    sightings_held: int = 0
    contents_known: int = 0
    clusters: int = 0
    clusters_multi: int = 0
    largest: list[ClusterLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def matching_summary(db: Database, operation: str | None = None, top: int = 5) -> MatchingSummary:
    """Known material, clusters and the largest clusters across platforms."""
    scope = Sighting.operation == operation if operation is not None else true()
    out = MatchingSummary()
    known_content = (
        select(Match.content_id)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(Bank.allow_list.is_(False))
    )
    with db.session() as session:
        out.sightings_known = (
            session.scalar(
                select(func.count(Sighting.id)).where(
                    scope, Sighting.content_id.in_(known_content.where(Match.state == "active"))
                )
            )
            or 0
        )
        out.sightings_held = (
            session.scalar(
                select(func.count(Sighting.id)).where(
                    scope, Sighting.content_id.in_(known_content.where(Match.state == "held"))
                )
            )
            or 0
        )
        out.contents_known = (
            session.scalar(
                select(func.count(distinct(Sighting.content_id))).where(
                    scope, Sighting.content_id.in_(known_content.where(Match.state == "active"))
                )
            )
            or 0
        )
        rows = session.execute(
            select(
                Content.cluster_id,
                func.count(distinct(Content.id)),
                func.count(Sighting.id),
                func.count(distinct(Sighting.platform_key)),
            )
            .join(Sighting, Sighting.content_id == Content.id)
            .where(scope, Content.cluster_id.is_not(None))
            .group_by(Content.cluster_id)
            .order_by(func.count(Sighting.id).desc(), Content.cluster_id)
        ).all()
        out.clusters = len(rows)
        out.clusters_multi = sum(1 for _c, n, _s, _p in rows if n > 1)
        for cluster_id, contents, sightings, platforms in rows[:top]:
            if cluster_id is None:
                continue
            cluster = session.get(Cluster, cluster_id)
            label = session.scalar(
                select(BankEntry.labels)
                .join(Match, Match.bank_entry_id == BankEntry.id)
                .join(Content, Content.id == Match.content_id)
                .where(Content.cluster_id == cluster_id, Match.state == "active")
                .limit(1)
            )
            outlet = (label or {}).get("outlet") if isinstance(label, dict) else None
            out.largest.append(
                ClusterLine(
                    cluster_id,
                    contents,
                    sightings,
                    platforms,
                    bool(cluster and cluster.known),
                    outlet,
                )
            )
    return out
