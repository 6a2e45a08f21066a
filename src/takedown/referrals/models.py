"""Tables of the referrals feature (on the shared Base; see takedown.store.schema).

* ``referral`` — one referral or removal order to one addressee, its current state and clock;
* ``referral_item`` — the sightings it carries (URL, hash, labels as sent);
* ``referral_event`` — every transition, timestamped and kept (the audit trail);
* ``referral_delivery`` — the outbox: one row per referral and channel, with its delivery key;
* ``referral_nonce`` — signatures of callbacks already accepted (replay protection).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.store.models import Base, utcnow

__all__ = ["Base", "Referral", "ReferralDelivery", "ReferralEvent", "ReferralItem", "ReferralNonce"]


class Referral(Base):
    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "referral" | "removal_order"
    state: Mapped[str] = mapped_column(String(32))
    addressee_kind: Mapped[str] = mapped_column(String(16))  # platform | hoster | registrar
    addressee_key: Mapped[str] = mapped_column(String(255), index=True)
    addressee_name: Mapped[str] = mapped_column(String(255))
    contact: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # never secrets
    basis: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    received_at: Mapped[datetime | None] = mapped_column(default=None)
    deadline: Mapped[datetime | None] = mapped_column(default=None)
    paused_since: Mapped[datetime | None] = mapped_column(default=None)
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    deadline_met: Mapped[bool | None] = mapped_column(default=None)
    scrutiny: Mapped[str | None] = mapped_column(String(16))  # requested | upheld | revoked
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralItem(Base):
    __tablename__ = "referral_item"
    __table_args__ = (
        UniqueConstraint("referral_id", "sighting_id", name="uq_referral_item_sighting"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sighting.id"), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    status: Mapped[str | None] = mapped_column(String(32))
    status_at: Mapped[datetime | None] = mapped_column(default=None)


class ReferralEvent(Base):
    __tablename__ = "referral_event"
    __table_args__ = (
        UniqueConstraint("referral_id", "dedupe_key", name="uq_referral_event_dedupe"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column()  # when it happened (as reported)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(32))  # operator | callback | sender | system
    reason: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class ReferralDelivery(Base):
    __tablename__ = "referral_delivery"
    __table_args__ = (
        UniqueConstraint("referral_id", "channel", name="uq_referral_delivery_channel"),
        Index("ix_referral_delivery_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    channel: Mapped[str] = mapped_column(String(32))
    delivery_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(Text)


class ReferralNonce(Base):
    __tablename__ = "referral_nonce"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature: Mapped[str] = mapped_column(String(80), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
