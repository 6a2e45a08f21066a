"""Tables of the api feature (on the shared Base; see takedown.store.schema).

Agencies, users of the web workspace, API keys (stored hashed), web sessions and the review
decisions analysts record in the workspace. Every table name starts with ``api_``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from takedown.store.models import Base, utcnow

__all__ = ["ApiAgency", "ApiKey", "ApiReviewDecision", "ApiUser", "ApiWebSession", "Base"]


class ApiAgency(Base):
    """An organisation whose people and keys use Takedown (an internet referral unit, ...)."""

    __tablename__ = "api_agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiUser(Base):
    """A person who logs in to the web workspace. Password: scrypt, salted, never stored."""

    __tablename__ = "api_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    #: ``scrypt$n$r$p$salt-hex$hash-hex``
    password_hash: Mapped[str] = mapped_column(String(300))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("api_agency.id"))
    role: Mapped[str] = mapped_column(String(32), default="analyst")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiKey(Base):
    """An API key: shown once; only its SHA-256 is kept; found by its public prefix."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("api_agency.id"))
    platform_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    #: the key this one replaced by rotation
    rotated_from_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))


class ApiWebSession(Base):
    """A logged-in browser: the cookie holds the token, the table its SHA-256."""

    __tablename__ = "api_web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("api_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiReviewDecision(Base):
    """An analyst's decision on a sighting in the review queue; every decision is kept."""

    __tablename__ = "api_review_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sighting.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("api_user.id"))
    decision: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
