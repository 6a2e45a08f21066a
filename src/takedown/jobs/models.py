"""Tables of the jobs feature (on the shared Base; see takedown.store.schema).

The queue itself (jobs, workers, events) is Procrastinate's schema; these tables hold what it
does not: the error of each failed attempt, and the per-host pace shared by every worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from takedown.store.models import Base, utcnow


class JobError(Base):
    """The error one attempt of a queued job ended with (Procrastinate keeps only the status)."""

    __tablename__ = "job_error"
    __table_args__ = (Index("ix_job_error_job", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(BigInteger)
    task_name: Mapped[str] = mapped_column(String(128))
    attempt: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class HostPace(Base):
    """When the next request to a host may start, across all workers (polite checking)."""

    __tablename__ = "host_pace"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(default=utcnow)


class HostLease(Base):
    """One of a host's concurrent-request slots, taken by a worker until ``expires_at``."""

    __tablename__ = "host_lease"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()


__all__ = ["HostLease", "HostPace", "JobError"]
