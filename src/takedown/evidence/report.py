"""What an import reports: counts, rejections with their reasons, the jobs it queued."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class Rejected(Exception):
    """A record the ingest path refuses (the reason is the message)."""

    def __init__(self, reason: str, raw: bytes | None = None) -> None:
        super().__init__(reason)
        self.raw = raw


@dataclass
class RejectedItem:
    ref: str
    reason: str
    quarantined: str | None = None


@dataclass
class ImportReport:
    import_id: int
    source: str
    format: str
    records: int = 0
    created: int = 0
    duplicates: int = 0
    contents_created: int = 0
    contents_existing: int = 0
    rejected: list[RejectedItem] = field(default_factory=list)
    error: str | None = None
    new_content_ids: list[int] = field(default_factory=list)
    # Queued (PostgreSQL): hashing jobs enqueued in the transactions that stored the content;
    # that content is then not in ``new_content_ids`` (nothing is left for the caller to do).
    jobs_queued: int | None = None
    queued_content_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("new_content_ids")
        out.pop("queued_content_ids")
        if self.jobs_queued is None:
            out.pop("jobs_queued")
        out["rejected_count"] = len(self.rejected)
        return out
