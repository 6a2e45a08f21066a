"""Tables of the jobs feature (on the shared Base; see takedown.store.schema).

The queue itself (jobs, workers, events) is Procrastinate's schema; these tables hold what it
does not: the error of each failed attempt, the per-host pace shared by every worker, the
result of each finished job (so ``--wait`` prints what an in-process run prints) and files a job
reads or writes (an upload to import, a built report), kept in the database so that a worker
on any machine reaches them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text
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


class JobResult(Base):
    """What a queued job returned (JSON), written in the job's last successful attempt."""

    __tablename__ = "job_result"

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    task_name: Mapped[str] = mapped_column(String(128))
    result: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobFile(Base):
    """Bytes a job reads (an uploaded infra file) or writes (a built report)."""

    __tablename__ = "job_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["HostLease", "HostPace", "JobError", "JobFile", "JobResult"]
