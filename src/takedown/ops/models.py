"""Tables of the ops feature (on the shared Base; see takedown.store.schema).

Agencies, users and roles are the API feature's ``api_agency`` / ``api_user`` rows; the ops
tables only reference them. Every table name starts with ``ops_`` (the audit chain's tables,
``audit_event`` and ``audit_head``, live in :mod:`takedown.store.audit` and are registered
here so that migrations and tests see them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from takedown.store.audit import AuditEvent, AuditHead
from takedown.store.models import Base, utcnow

__all__ = [
    "AuditEvent",
    "AuditHead",
    "Base",
    "OpsAssignment",
    "OpsComplaint",
    "OpsHold",
    "OpsHoldHit",
    "OpsOperation",
    "OpsOperationAgency",
    "OpsReporterAlias",
    "OpsSightingLink",
]


class OpsReporterAlias(Base):
    """A reporter name used at intake (``--reporter unit-a``) that stands for an agency."""

    __tablename__ = "ops_reporter_alias"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter: Mapped[str] = mapped_column(String(200), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("api_agency.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpsSightingLink(Base):
    """Cross-agency deduplication: every sighting points at the primary sighting of its item.

    A primary points at itself. Reporters of an item = the agencies of every link to it.
    """

    __tablename__ = "ops_sighting_link"

    sighting_id: Mapped[int] = mapped_column(ForeignKey("sighting.id"), primary_key=True)
    primary_id: Mapped[int] = mapped_column(ForeignKey("sighting.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("api_agency.id"), index=True)
    reporter: Mapped[str | None] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(String(16))  # self | url | content
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpsOperation(Base):
    """A time-boxed action day. Closing it freezes its record (``final_board``)."""

    __tablename__ = "ops_operation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    targets: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # outlets, labels
    lead_agency_id: Mapped[int | None] = mapped_column(ForeignKey("api_agency.id"))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    final_board: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    final_digest: Mapped[str | None] = mapped_column(String(64))


class OpsOperationAgency(Base):
    __tablename__ = "ops_operation_agency"
    __table_args__ = (
        UniqueConstraint("operation_id", "agency_id", name="uq_ops_operation_agency_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("ops_operation.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("api_agency.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpsAssignment(Base):
    """Which analyst covers which platforms and languages in an operation."""

    __tablename__ = "ops_assignment"
    __table_args__ = (UniqueConstraint("operation_id", "user_id", name="uq_ops_assignment_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("ops_operation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("api_user.id"), index=True)
    platforms: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    assigned_by: Mapped[str | None] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpsHold(Base):
    """A deconfliction hold ("do not refer") on a URL, domain, signal or label."""

    __tablename__ = "ops_hold"
    __table_args__ = (Index("ix_ops_hold_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("api_agency.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # url | domain | signal | label
    value: Mapped[str] = mapped_column(Text)
    #: ``signal`` holds on a PDQ hash: the largest Hamming distance that still matches
    max_distance: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str] = mapped_column(Text)  # shown to the owner agency only
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    expired_at: Mapped[datetime | None] = mapped_column(default=None)  # when found expired
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    lifted_by: Mapped[str | None] = mapped_column(String(200))
    #: a hold over a whole platform's domain, a label or a wide PDQ radius (placed by a
    #: coordinator, within an operation whose lead agency sees it): takedown.access.holds
    wide: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("ops_operation.id"), default=None)


class OpsHoldHit(Base):
    """A referral attempt that touched held material: the owner's notification."""

    __tablename__ = "ops_hold_hit"
    __table_args__ = (
        UniqueConstraint("hold_id", "sighting_id", "requester", name="uq_ops_hold_hit_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("ops_hold.id"), index=True)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sighting.id"))
    #: who tried: "agency:<id>" or "actor:<name>" (never empty)
    requester: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(String(200))
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    seen_at: Mapped[datetime | None] = mapped_column(default=None)


class OpsComplaint(Base):
    """A content provider's complaint about a removal (TCO Art. 10): answer within 2 weeks."""

    __tablename__ = "ops_complaint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sighting.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    complainant: Mapped[str] = mapped_column(String(200))
    grounds: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column()
    deadline: Mapped[datetime] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld | rejected
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reinstated_at: Mapped[datetime | None] = mapped_column(default=None)
