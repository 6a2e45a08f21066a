"""Typed database models. Domain words as in docs/architecture.md.

Migrations under ``store/migrations`` must match these models; ``tests/store`` checks it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Content(Base):
    """Bytes (image, video, text, document) identified by SHA-256 and stored once."""

    __tablename__ = "content"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    md5: Mapped[str] = mapped_column(String(32), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str] = mapped_column(String(128))
    first_name: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"))
    operation: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    purged_at: Mapped[datetime | None] = mapped_column(default=None)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id"), index=True)
    signals_state: Mapped[str] = mapped_column(
        String(16), default="pending", server_default="pending"
    )
    signals_error: Mapped[str | None] = mapped_column(Text)
    # Set when matching of this content committed; NULL with signals done = still to match
    # (what ``takedown reprocess`` finds after a crash).
    matched_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class Sighting(Base):
    """Content (or a URL alone) seen at a URL on a platform at a time, by a reporter."""

    __tablename__ = "sighting"
    __table_args__ = (
        Index("ix_sighting_platform_seen", "platform_key", "seen_at"),
        Index("ix_sighting_canonical_url", "canonical_url"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    natural_key: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    registrable_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    psl_version: Mapped[str | None] = mapped_column(String(64))
    account: Mapped[str | None] = mapped_column(String(255))
    mixed_script: Mapped[bool] = mapped_column(Boolean, default=False)
    platform_key: Mapped[str | None] = mapped_column(String(255))
    content_id: Mapped[int | None] = mapped_column(ForeignKey("content.id"), index=True)
    seen_at: Mapped[datetime | None] = mapped_column()
    reporter: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    operation: Mapped[str | None] = mapped_column(String(200))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"), index=True)
    source_ref: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Removal, as established by a verification check, the platform's confirmation or an
    # operator: the earliest trustworthy time wins (see takedown.verify).
    removed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    removal_source: Mapped[str | None] = mapped_column(String(32))
    # Re-upload: this sighting joined a cluster whose earlier sighting ``reupload_of_id`` had
    # been removed; the gap runs from that removal to this sighting.
    reupload_of_id: Mapped[int | None] = mapped_column(ForeignKey("sighting.id"))
    reupload_gap_seconds: Mapped[float | None] = mapped_column(default=None)


class Signal(Base):
    """A fingerprint of content of one signal type."""

    __tablename__ = "signal"
    __table_args__ = (
        UniqueConstraint("content_id", "signal_type", "variant", name="uq_signal_content_type"),
        Index("ix_signal_type_value", "signal_type", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("content.id"))
    signal_type: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str] = mapped_column(String(32), default="")
    value: Mapped[str] = mapped_column(Text)
    quality: Mapped[int | None] = mapped_column(Integer)
    low_quality: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The signal type's algorithm version that computed the value (NULL: unversioned, or
    #: computed before versions were recorded); see ``takedown signals rehash``.
    algorithm: Mapped[str | None] = mapped_column(String(32), default=None)


class Platform(Base):
    """An online service, synced from the platform registry (data file + operator overrides)."""

    __tablename__ = "platform"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    known: Mapped[bool] = mapped_column(Boolean, default=True)
    referral: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class ImportRun(Base):
    """One run of one importer over one source: the custody record of everything it brought."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    operation: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")
    # "host:pid" of the process running the import: a killed one is found and marked
    # "interrupted" (takedown.evidence.ingest.recover_interrupted)
    worker: Mapped[str | None] = mapped_column(String(120), default=None)
    created: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    contents_created: Mapped[int] = mapped_column(Integer, default=0)


class RejectedRecord(Base):
    """A record an importer refused, with the reason; its bytes may sit in quarantine."""

    __tablename__ = "rejected_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("import_run.id"), index=True)
    ref: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    quarantine_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustodyEvent(Base):
    """Chain of custody after submission: reads, exports, holds, purges of content."""

    __tablename__ = "custody_event"
    __table_args__ = (Index("ix_custody_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class LegalHold(Base):
    """Suspends retention for content (e.g. evidence for proceedings)."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("content.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str | None] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    lifted_by: Mapped[str | None] = mapped_column(String(200))


class Bank(Base):
    """A named set of known-material signals, or an allow-list that suppresses matches."""

    __tablename__ = "bank"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    allow_list: Mapped[bool] = mapped_column(Boolean, default=False)
    thresholds: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    labels: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the agency that owns the bank (only its keys change it); None: the operator's (CLI)
    owner_agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_agency.id"), default=None, index=True
    )
    #: "shared" (every agency reads it and gets its hits) or "private" (its owner only);
    #: see takedown.access.banks
    sharing: Mapped[str] = mapped_column(String(16), default="shared", server_default="shared")


class BankEntry(Base):
    """One signal in a bank with its labels. Removal is kept (removed_at) for history."""

    __tablename__ = "bank_entry"
    __table_args__ = (
        UniqueConstraint("bank_id", "signal_type", "value", name="uq_bank_entry_value"),
        Index("ix_bank_entry_type_value", "signal_type", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id"))
    signal_type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    external_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    match_count: Mapped[int] = mapped_column(Integer, default=0)


class BankChange(Base):
    """Version history of a bank: every addition, removal, relabel or quarantine."""

    __tablename__ = "bank_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("bank_entry.id"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class EntryFeedback(Base):
    """A reviewer's opinion of a bank entry, kept for export back to its source."""

    __tablename__ = "entry_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entry.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Match(Base):
    """A signal of content close enough to a bank entry or to earlier content."""

    __tablename__ = "match"
    __table_args__ = (
        Index("ix_match_other", "other_content_id"),
        Index("ix_match_entry", "bank_entry_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "c<content>|s<sighting>:<signal type>:e<entry>|o<other content>", unique (NULL-free).
    key: Mapped[str] = mapped_column(String(200), unique=True)
    content_id: Mapped[int | None] = mapped_column(ForeignKey("content.id"), index=True)
    sighting_id: Mapped[int | None] = mapped_column(ForeignKey("sighting.id"), index=True)
    signal_type: Mapped[str] = mapped_column(String(64))
    bank_entry_id: Mapped[int | None] = mapped_column(ForeignKey("bank_entry.id"))
    other_content_id: Mapped[int | None] = mapped_column(ForeignKey("content.id"))
    distance: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Why a robust match matched (keypoint inliers and transform, video containment shares),
    #: as found when it was stored; NULL for signal types that have only a distance.
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)


class Cluster(Base):
    """One piece of material: the content that matches tie together."""

    __tablename__ = "cluster"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    size: Mapped[int] = mapped_column(Integer, default=1)
    known: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginFailure(Base):
    """One failed workspace login (kept for ``WINDOW``, then pruned)."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(index=True)
