"""Shapes of ``/api/v1``: path and query types, request and response models.

Shared by the route modules (and by the routers of other features: ops, referrals, verify).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, Field

T = TypeVar("T")

SAFE = r"^[^\x00-\x1f\x7f]*$"
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Cursor = Annotated[str | None, Query(max_length=200, description="from next_cursor")]
Text200 = Annotated[str | None, Query(max_length=200, pattern=SAFE)]
BankName = Annotated[str, Path(min_length=1, max_length=200, pattern=SAFE)]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at end")


class One(BaseModel, Generic[T]):
    data: T


class SightingOut(BaseModel):
    id: int
    url: str | None
    canonical_url: str | None
    platform: str | None
    account: str | None
    seen_at: datetime | None
    reporter: str | None
    language: str | None
    notes: str | None
    operation: str | None
    content_id: int | None
    cluster_id: int | None
    removed_at: datetime | None
    reupload_of_id: int | None
    created_at: datetime


class SignalOut(BaseModel):
    signal_type: str
    variant: str
    value: str
    quality: int | None


class ContentOut(BaseModel):
    id: int
    sha256: str
    md5: str
    size: int
    kind: str
    media_type: str
    name: str | None
    cluster_id: int | None
    created_at: datetime
    signals_state: str
    signals: list[SignalOut]
    sighting_ids: list[int]


EVIDENCE = (
    "why a robust match holds (signal types keypoints and video_keyframe): matched keypoint "
    "pairs, RANSAC inliers, the transform (scale, rotation_deg, tx, ty), coverage, extent and "
    "the colour layout's agreement; for a video, containment shares or where the keyframe was "
    "found. For text signal types (method 'text'), the one text decision: relation "
    "(exact_copy, edited_copy, spun_rewrite, translation, same_event, undecidable, "
    "unrelated), links, reason, scores, aligned sentence pairs, shared_anchors and the "
    "missing evidence. Null for signal types that have only a distance (PDQ, MD5)."
)


class BankMatch(BaseModel):
    bank: str
    allow_list: bool
    entry_id: int
    signal_type: str
    value: str
    distance: int = Field(description="distance in the signal's own unit (PDQ: bits of 256)")
    labels: dict[str, Any]
    status: str
    bank_description: str | None = None
    bank_labels: dict[str, Any] = Field(default_factory=dict)
    bank_version: int = 0
    evidence: dict[str, Any] | None = Field(default=None, description=EVIDENCE)


class ContentMatch(BaseModel):
    content_id: int
    sha256: str
    signal_type: str
    distance: int
    name: str | None
    urls: list[str]
    evidence: dict[str, Any] | None = Field(default=None, description=EVIDENCE)


class LookupOut(BaseModel):
    signal_type: str
    value: str
    bank_matches: list[BankMatch]
    content_matches: list[ContentMatch]


class FileLookupOut(BaseModel):
    kind: str
    results: list[LookupOut]
    errors: dict[str, str]
    notes: list[str] = Field(
        default_factory=list,
        description="what the lookup could not judge, e.g. translations of an anchor-poor "
        "text when no multilingual model is configured (text files)",
    )


class LookupIn(BaseModel):
    signal_type: str = Field(max_length=64, pattern=SAFE, examples=["pdq"])
    values: list[Annotated[str, Field(max_length=8192)]] = Field(min_length=1, max_length=16)
    banks: list[Annotated[str, Field(max_length=200)]] | None = Field(default=None, max_length=50)


class BankOut(BaseModel):
    id: int
    name: str
    description: str | None
    allow_list: bool
    enabled: bool
    version: int
    thresholds: dict[str, int]
    labels: dict[str, Any]
    entries: int
    entries_by_type: dict[str, int]
    created_at: datetime


class BankIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=SAFE)
    description: str | None = Field(default=None, max_length=10_000)
    allow_list: bool = False
    thresholds: dict[str, int] | None = None
    labels: dict[str, Annotated[str, Field(max_length=500)]] | None = None


class EntryOut(BaseModel):
    id: int
    bank: str
    signal_type: str
    value: str
    labels: dict[str, Any]
    external_id: str | None
    status: str
    added_at: datetime
    removed_at: datetime | None
    match_count: int


class EntryIn(BaseModel):
    signal_type: str = Field(max_length=64)
    value: str = Field(max_length=8192)
    external_id: str | None = Field(default=None, max_length=200)
    labels: dict[str, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict)


class EntriesIn(BaseModel):
    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)


class EntriesAdded(BaseModel):
    bank: str
    added: int
    duplicates: int
    restored: int
    rejected: list[dict[str, str]]


class ClusterOut(BaseModel):
    id: int
    known: bool
    size: int
    contents: int
    sightings: int
    platforms: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    removed: int
    reuploads: int
    created_at: datetime


class ClusterDetail(ClusterOut):
    timeline: list[SightingOut]


class SubmitIn(BaseModel):
    url: str | None = Field(default=None, max_length=8192)
    text: str | None = Field(default=None, max_length=1_000_000)
    seen_at: datetime | None = None
    language: str | None = Field(default=None, max_length=16)
    notes: str | None = Field(default=None, max_length=100_000)
    operation: str | None = Field(default=None, max_length=200)


class SubmitResult(BaseModel):
    import_id: int
    records: int
    created: int
    duplicates: int
    contents_created: int
    rejected: list[dict[str, str]]
    error: str | None
    sighting_ids: list[int]


class FigureOut(BaseModel):
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
