"""``/api/v1``: sightings and content, match lookup, banks and entries, clusters, figures.

Every route declares its scope with :func:`takedown.api.common.scoped`; ``tests/api`` walks
the route list and proves each one refuses a missing, revoked or other-scope key.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path as FsPath
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from takedown.api.auth import Principal
from takedown.api.common import (
    ApiError,
    Caller,
    decode_cursor,
    get_app,
    page_of,
    save_upload,
    scoped,
)
from takedown.api.scope import (
    Viewer,
    can_see_cluster,
    can_see_content,
    sighting_filter,
    visible_cluster_ids,
)
from takedown.api.service import LookupService, ingest_file, submit_records
from takedown.app import App
from takedown.matching import banks as bank_ops
from takedown.matching.formats import BankRow
from takedown.matching.lookup import LookupFailed, LookupResult
from takedown.store.models import Bank, BankEntry, Cluster, Content, Sighting, Signal

T = TypeVar("T")
router = APIRouter(prefix="/api/v1")

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


class ContentMatch(BaseModel):
    content_id: int
    sha256: str
    signal_type: str
    distance: int
    name: str | None
    urls: list[str]


class LookupOut(BaseModel):
    signal_type: str
    value: str
    bank_matches: list[BankMatch]
    content_matches: list[ContentMatch]


class FileLookupOut(BaseModel):
    kind: str
    results: list[LookupOut]
    errors: dict[str, str]


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


# -- helpers --------------------------------------------------------------------------------
def lookups(request: Request) -> LookupService:
    service: LookupService = request.app.state.lookups
    return service


def _sighting_out(s: Sighting, cluster_id: int | None) -> SightingOut:
    return SightingOut(
        id=s.id,
        url=s.url,
        canonical_url=s.canonical_url,
        platform=s.platform_key,
        account=s.account,
        seen_at=s.seen_at,
        reporter=s.reporter,
        language=s.language,
        notes=s.notes,
        operation=s.operation,
        content_id=s.content_id,
        cluster_id=cluster_id,
        removed_at=s.removed_at,
        reupload_of_id=s.reupload_of_id,
        created_at=s.created_at,
    )


def _content_urls(app: App, viewer: Viewer, result: LookupResult) -> dict[int, list[str]]:
    """The earlier-content hits the viewer may see, each with the URLs of its visible
    sightings only (platform keys: none; bank hits are shared and always shown)."""
    ids = sorted({h.content_id for h in result.content_hits})
    if not ids or viewer.platform_key is not None:
        return {}
    out: dict[int, list[str]] = {}
    with app.db.session() as session:
        for cid, url in session.execute(
            select(Sighting.content_id, Sighting.url)
            .where(Sighting.content_id.in_(ids), sighting_filter(session, viewer))
            .order_by(Sighting.id)
        ):
            if cid is None:
                continue
            urls = out.setdefault(cid, [])
            if url and url not in urls and len(urls) < 20:
                urls.append(url)
    return out


def _lookup_out(app: App, result: LookupResult, viewer: Viewer) -> LookupOut:
    names = {h.bank for h in result.bank_hits}
    meta: dict[str, Bank] = {}
    if names:
        with app.db.session() as session:
            meta = {b.name: b for b in session.scalars(select(Bank).where(Bank.name.in_(names)))}
    visible = _content_urls(app, viewer, result)
    return LookupOut(
        signal_type=result.signal_type,
        value=result.value,
        bank_matches=[
            BankMatch(
                bank=h.bank,
                allow_list=h.allow_list,
                entry_id=h.entry_id,
                signal_type=h.signal_type,
                value=h.value,
                distance=h.distance,
                labels=h.labels,
                status=h.status,
                bank_description=meta[h.bank].description if h.bank in meta else None,
                bank_labels=dict(meta[h.bank].labels or {}) if h.bank in meta else {},
                bank_version=meta[h.bank].version if h.bank in meta else 0,
            )
            for h in result.bank_hits
        ],
        content_matches=[
            ContentMatch(
                content_id=h.content_id,
                sha256=h.sha256,
                signal_type=h.signal_type,
                distance=h.distance,
                name=h.name,
                urls=visible[h.content_id],
            )
            for h in result.content_hits
            if h.content_id in visible
        ],
    )


def _submitter(who: Principal) -> str:
    return f"api-key:{who.key_id}:{who.name}"[:200]


def _upload_dir(app: App) -> FsPath:
    folder = app.settings.data / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- sightings and content ------------------------------------------------------------------
@router.get("/sightings", response_model=Page[SightingOut], tags=["sightings"], **scoped("read"))
def list_sightings(
    request: Request,
    who: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    platform: Text200 = None,
    operation: Text200 = None,
    language: Annotated[str | None, Query(max_length=16, pattern=SAFE)] = None,
    cluster_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    removed: Annotated[bool | None, Query(description="only removed (true) or online")] = None,
) -> Page[SightingOut]:
    """Sightings, newest first, filtered by platform, operation, language, cluster, removal."""
    app = get_app(request)
    after = decode_cursor(cursor)
    query = (
        select(Sighting, Content.cluster_id)
        .outerjoin(Content, Content.id == Sighting.content_id)
        .order_by(Sighting.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(Sighting.id < after)
    if platform is not None:
        query = query.where(Sighting.platform_key == platform)
    if operation is not None:
        query = query.where(Sighting.operation == operation)
    if language is not None:
        query = query.where(Sighting.language == language)
    if cluster_id is not None:
        query = query.where(Content.cluster_id == cluster_id)
    if removed is not None:
        query = query.where(
            Sighting.removed_at.is_not(None) if removed else Sighting.removed_at.is_(None)
        )
    with app.db.session() as session:
        query = query.where(sighting_filter(session, Viewer.of(who)))
        rows = [(r[0], r[1]) for r in session.execute(query)]
    page, nxt = page_of(rows, limit, lambda r: r[0].id)
    return Page(data=[_sighting_out(s, c) for s, c in page], next_cursor=nxt)


@router.get(
    "/sightings/{sighting_id}",
    response_model=One[SightingOut],
    tags=["sightings"],
    **scoped("read"),
)
def get_sighting(request: Request, sighting_id: Id, who: Caller) -> One[SightingOut]:
    app = get_app(request)
    with app.db.session() as session:
        row = session.execute(
            select(Sighting, Content.cluster_id)
            .outerjoin(Content, Content.id == Sighting.content_id)
            .where(Sighting.id == sighting_id, sighting_filter(session, Viewer.of(who)))
        ).first()
    if row is None:
        raise ApiError(404, "not_found", f"no sighting {sighting_id}")
    return One(data=_sighting_out(row[0], row[1]))


@router.post(
    "/sightings",
    response_model=One[SubmitResult],
    status_code=201,
    tags=["sightings"],
    **scoped("submit"),
)
def submit_sighting(request: Request, body: SubmitIn, who: Caller) -> One[SubmitResult]:
    """Submit one sighting by URL (and/or text). Goes through the same intake as imports."""
    if not body.url and not (body.text and body.text.strip()):
        raise ApiError(400, "empty_record", "give a url, a text or both")
    record = body.model_dump(exclude={"operation"})
    if body.seen_at is not None:
        record["seen_at"] = body.seen_at.isoformat()
    result = submit_records(
        get_app(request), [record], reporter=_submitter(who), operation=body.operation
    )
    return One(data=SubmitResult(**result))


@router.post(
    "/sightings/upload",
    response_model=One[SubmitResult],
    status_code=201,
    tags=["sightings"],
    **scoped("submit"),
)
async def upload_sighting(
    request: Request,
    who: Caller,
    file: Annotated[UploadFile, File(description="the content; size-limited, streamed")],
    url: Annotated[str | None, Form(max_length=8192)] = None,
    seen_at: Annotated[str | None, Form(max_length=64)] = None,
    language: Annotated[str | None, Form(max_length=16)] = None,
    notes: Annotated[str | None, Form(max_length=100_000)] = None,
    operation: Annotated[str | None, Form(max_length=200)] = None,
) -> One[SubmitResult]:
    """Submit a file (with the URL where it was seen). Hashing and matching follow."""
    app = get_app(request)
    path = await save_upload(file, _upload_dir(app), app.settings.max_file_bytes)
    try:
        record = {"url": url, "seen_at": seen_at, "language": language, "notes": notes}
        result = await run_in_threadpool(
            submit_records,
            app,
            [record],
            reporter=_submitter(who),
            operation=operation,
            files={"0": path},
        )
    finally:
        path.unlink(missing_ok=True)
    return One(data=SubmitResult(**result))


@router.post(
    "/sightings/batch",
    response_model=One[SubmitResult],
    status_code=201,
    tags=["sightings"],
    **scoped("submit"),
)
async def batch_sightings(
    request: Request,
    who: Caller,
    file: Annotated[UploadFile, File(description="CSV, JSON Lines or a URL list")],
    format: Annotated[str, Form(max_length=32, pattern=SAFE)] = "auto",
    operation: Annotated[str | None, Form(max_length=200)] = None,
) -> One[SubmitResult]:
    """Submit a batch file through the importers (every record checked; rejections listed)."""
    app = get_app(request)
    path = await save_upload(file, _upload_dir(app), app.settings.max_file_bytes)
    suffix = FsPath(file.filename or "").suffix.lower()
    named = path.with_name(path.name + (suffix if suffix in (".csv", ".jsonl", ".txt") else ""))
    path.rename(named)
    try:
        result = await run_in_threadpool(
            ingest_file, app, named, format, reporter=_submitter(who), operation=operation
        )
    except ValueError as exc:
        raise ApiError(400, "unreadable_batch", str(exc)) from exc
    finally:
        named.unlink(missing_ok=True)
    return One(data=SubmitResult(**result))


@router.get(
    "/content/{content_id}", response_model=One[ContentOut], tags=["content"], **scoped("read")
)
def get_content(request: Request, content_id: Id, who: Caller) -> One[ContentOut]:
    """Metadata and signals of stored content (never the bytes)."""
    app = get_app(request)
    viewer = Viewer.of(who)
    with app.db.session() as session:
        content = session.get(Content, content_id)
        if content is None or not can_see_content(session, viewer, content_id):
            raise ApiError(404, "not_found", f"no content {content_id}")
        signals = list(
            session.scalars(
                select(Signal).where(Signal.content_id == content_id).order_by(Signal.id)
            )
        )
        sightings = list(
            session.scalars(
                select(Sighting.id)
                .where(Sighting.content_id == content_id, sighting_filter(session, viewer))
                .order_by(Sighting.id)
                .limit(1000)
            )
        )
    return One(
        data=ContentOut(
            id=content.id,
            sha256=content.sha256,
            md5=content.md5,
            size=content.size,
            kind=content.kind,
            media_type=content.media_type,
            name=content.first_name,
            cluster_id=content.cluster_id,
            created_at=content.created_at,
            signals_state=content.signals_state,
            signals=[
                SignalOut(
                    signal_type=s.signal_type, variant=s.variant, value=s.value, quality=s.quality
                )
                for s in signals
            ],
            sighting_ids=sightings,
        )
    )


# -- lookup ---------------------------------------------------------------------------------
@router.get("/lookup", response_model=One[LookupOut], tags=["lookup"], **scoped("lookup"))
def lookup_hash(
    request: Request,
    who: Caller,
    signal_type: Annotated[str, Query(max_length=64, pattern=SAFE, examples=["pdq"])],
    value: Annotated[list[str], Query(min_length=1, max_length=16)],
    bank: Annotated[list[str] | None, Query(max_length=50, description="only these banks")] = None,
) -> One[LookupOut]:
    """Bank entries (and stored content) matching a hash: distances as numbers, labels, bank."""
    try:
        result = lookups(request).by_hash(signal_type, [v[:8192] for v in value], bank)
    except LookupFailed as exc:
        raise ApiError(400, "bad_signal", str(exc)) from exc
    return One(data=_lookup_out(get_app(request), result, Viewer.of(who)))


@router.post("/lookup", response_model=One[LookupOut], tags=["lookup"], **scoped("lookup"))
def lookup_hash_post(request: Request, body: LookupIn, who: Caller) -> One[LookupOut]:
    """As ``GET /lookup``, with the hash variants in a JSON body."""
    try:
        result = lookups(request).by_hash(body.signal_type, body.values, body.banks)
    except LookupFailed as exc:
        raise ApiError(400, "bad_signal", str(exc)) from exc
    return One(data=_lookup_out(get_app(request), result, Viewer.of(who)))


@router.post("/lookup/file", response_model=One[FileLookupOut], tags=["lookup"], **scoped("lookup"))
async def lookup_file(
    request: Request,
    who: Caller,
    file: Annotated[UploadFile, File(description="hashed here, never stored")],
    bank: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> One[FileLookupOut]:
    """Hash a file and look it up. Platform keys may only look up hashes, not send files."""
    if who.platform_key is not None:
        raise ApiError(403, "forbidden", "platform keys look up hashes, not files")
    app = get_app(request)
    path = await save_upload(file, _upload_dir(app), app.settings.max_file_bytes)
    try:
        kind, results, errors = await run_in_threadpool(lookups(request).by_file, path, bank)
    except (LookupFailed, ValueError, OSError) as exc:
        raise ApiError(400, "unreadable_file", str(exc)[:500]) from exc
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    return One(
        data=FileLookupOut(
            kind=kind,
            results=[_lookup_out(app, r, Viewer.of(who)) for r in results],
            errors=errors,
        )
    )


# -- banks ----------------------------------------------------------------------------------
def _bank_out(info: bank_ops.BankInfo) -> BankOut:
    b = info.bank
    return BankOut(
        id=b.id,
        name=b.name,
        description=b.description,
        allow_list=b.allow_list,
        enabled=b.enabled,
        version=b.version,
        thresholds={k: int(v) for k, v in (b.thresholds or {}).items()},
        labels=dict(b.labels or {}),
        entries=info.entries,
        entries_by_type=info.by_type,
        created_at=b.created_at,
    )


@router.get("/banks", response_model=Page[BankOut], tags=["banks"], **scoped("read"))
def list_banks(request: Request) -> Page[BankOut]:
    """Every bank and allow-list with entry counts (one page: banks are few)."""
    return Page(
        data=[_bank_out(i) for i in bank_ops.list_banks(get_app(request))], next_cursor=None
    )


@router.post(
    "/banks", response_model=One[BankOut], status_code=201, tags=["banks"], **scoped("banks:write")
)
def create_bank(request: Request, body: BankIn, who: Caller) -> One[BankOut]:
    app = get_app(request)
    try:
        bank_ops.create_bank(
            app,
            body.name,
            description=body.description,
            allow_list=body.allow_list,
            thresholds=body.thresholds,
            labels=body.labels,
            actor=_submitter(who),
        )
    except bank_ops.BankError as exc:
        raise ApiError(400, "bad_bank", str(exc)) from exc
    return get_bank(request, body.name)


@router.get("/banks/{name}", response_model=One[BankOut], tags=["banks"], **scoped("read"))
def get_bank(request: Request, name: BankName) -> One[BankOut]:
    for info in bank_ops.list_banks(get_app(request)):
        if info.bank.name == name:
            return One(data=_bank_out(info))
    raise ApiError(404, "not_found", "no such bank")


@router.get(
    "/banks/{name}/entries", response_model=Page[EntryOut], tags=["banks"], **scoped("read")
)
def list_entries(
    request: Request,
    name: BankName,
    limit: Limit = 100,
    cursor: Cursor = None,
    signal_type: Annotated[str | None, Query(max_length=64, pattern=SAFE)] = None,
    include_removed: bool = False,
) -> Page[EntryOut]:
    """A bank's entries in id order, filtered by signal type."""
    app = get_app(request)
    after = decode_cursor(cursor)
    with app.db.session() as session:
        bank = session.scalar(select(Bank).where(Bank.name == name))
        if bank is None:
            raise ApiError(404, "not_found", "no such bank")
        query = (
            select(BankEntry)
            .where(BankEntry.bank_id == bank.id)
            .order_by(BankEntry.id)
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(BankEntry.id > after)
        if signal_type is not None:
            query = query.where(BankEntry.signal_type == signal_type)
        if not include_removed:
            query = query.where(BankEntry.removed_at.is_(None))
        rows = list(session.scalars(query))
    page, nxt = page_of(rows, limit, lambda e: e.id)
    return Page(
        data=[
            EntryOut(
                id=e.id,
                bank=bank.name,
                signal_type=e.signal_type,
                value=e.value,
                labels=dict(e.labels or {}),
                external_id=e.external_id,
                status=e.status,
                added_at=e.added_at,
                removed_at=e.removed_at,
                match_count=e.match_count,
            )
            for e in page
        ],
        next_cursor=nxt,
    )


@router.post(
    "/banks/{name}/entries",
    response_model=One[EntriesAdded],
    tags=["banks"],
    **scoped("banks:write"),
)
def add_entries(
    request: Request, name: BankName, body: EntriesIn, who: Caller
) -> One[EntriesAdded]:
    """Add entries (idempotent: an entry already present counts as a duplicate)."""
    rows = [
        BankRow(f"entry {i + 1}", e.signal_type, e.value, e.external_id, dict(e.labels))
        for i, e in enumerate(body.entries)
    ]
    try:
        report = bank_ops.add_entries(get_app(request), name, rows, actor=_submitter(who))
    except bank_ops.BankError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return One(data=EntriesAdded(**report.to_dict()))


@router.delete(
    "/banks/{name}/entries/{entry_id}",
    response_model=One[EntryOut],
    tags=["banks"],
    **scoped("banks:write"),
)
def remove_entry(request: Request, name: BankName, entry_id: Id, who: Caller) -> One[EntryOut]:
    app = get_app(request)
    with app.db.session() as session:
        found = session.execute(
            select(BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(BankEntry.id == entry_id, Bank.name == name)
        ).first()
    if found is None:
        raise ApiError(404, "not_found", f"no entry {entry_id} in that bank")
    try:
        e = bank_ops.remove_entry(app, entry_id, actor=_submitter(who))
    except bank_ops.BankError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return One(
        data=EntryOut(
            id=e.id,
            bank=name,
            signal_type=e.signal_type,
            value=e.value,
            labels=dict(e.labels or {}),
            external_id=e.external_id,
            status=e.status,
            added_at=e.added_at,
            removed_at=e.removed_at,
            match_count=e.match_count,
        )
    )


# -- clusters -------------------------------------------------------------------------------
def _cluster_summaries(app: App, ids: list[int], viewer: Viewer) -> dict[int, dict[str, Any]]:
    """Counts over the sightings the viewer may see (others' copies are not counted)."""
    with app.db.session() as session:
        seen = sighting_filter(session, viewer)
        rows = session.execute(
            select(
                Content.cluster_id,
                func.count(func.distinct(Content.id)),
                func.count(Sighting.id),
                func.min(Sighting.seen_at),
                func.max(Sighting.seen_at),
                func.count(Sighting.removed_at),
                func.count(Sighting.reupload_of_id),
            )
            .join(Sighting, Sighting.content_id == Content.id)
            .where(Content.cluster_id.in_(ids), seen)
            .group_by(Content.cluster_id)
        ).all()
        platforms: dict[int, set[str]] = {}
        for cid, key in session.execute(
            select(Content.cluster_id, Sighting.platform_key)
            .join(Sighting, Sighting.content_id == Content.id)
            .where(Content.cluster_id.in_(ids), seen)
            .distinct()
        ):
            if cid is not None and key:
                platforms.setdefault(cid, set()).add(key)
    return {
        r[0]: {
            "contents": r[1],
            "sightings": r[2],
            "first_seen": r[3],
            "last_seen": r[4],
            "removed": r[5],
            "reuploads": r[6],
            "platforms": sorted(platforms.get(r[0], set())),
        }
        for r in rows
        if r[0] is not None
    }


def _cluster_out(c: Cluster, s: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c.id,
        "known": c.known,
        "size": c.size,
        "created_at": c.created_at,
        "contents": s.get("contents", 0),
        "sightings": s.get("sightings", 0),
        "platforms": s.get("platforms", []),
        "first_seen": s.get("first_seen"),
        "last_seen": s.get("last_seen"),
        "removed": s.get("removed", 0),
        "reuploads": s.get("reuploads", 0),
    }


@router.get("/clusters", response_model=Page[ClusterOut], tags=["clusters"], **scoped("read"))
def list_clusters(
    request: Request,
    who: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    known: bool | None = None,
) -> Page[ClusterOut]:
    """Clusters (pieces of material), newest first; ``known`` filters bank-known material."""
    app = get_app(request)
    after = decode_cursor(cursor)
    query = select(Cluster).order_by(Cluster.id.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(Cluster.id < after)
    if known is not None:
        query = query.where(Cluster.known.is_(known))
    viewer = Viewer.of(who)
    with app.db.session() as session:
        query = query.where(Cluster.id.in_(visible_cluster_ids(session, viewer)))
        rows = list(session.scalars(query))
    page, nxt = page_of(rows, limit, lambda c: c.id)
    stats = _cluster_summaries(app, [c.id for c in page], viewer)
    return Page(
        data=[ClusterOut(**_cluster_out(c, stats.get(c.id, {}))) for c in page], next_cursor=nxt
    )


@router.get(
    "/clusters/{cluster_id}", response_model=One[ClusterDetail], tags=["clusters"], **scoped("read")
)
def get_cluster(request: Request, cluster_id: Id, who: Caller) -> One[ClusterDetail]:
    """One piece of material: its copies across platforms in time order."""
    app = get_app(request)
    viewer = Viewer.of(who)
    with app.db.session() as session:
        cluster = session.get(Cluster, cluster_id)
        if cluster is None or not can_see_cluster(session, viewer, cluster_id):
            raise ApiError(404, "not_found", f"no cluster {cluster_id}")
        sightings = list(
            session.scalars(
                select(Sighting)
                .join(Content, Content.id == Sighting.content_id)
                .where(Content.cluster_id == cluster_id, sighting_filter(session, viewer))
                .order_by(Sighting.seen_at, Sighting.id)
                .limit(5000)
            )
        )
    stats = _cluster_summaries(app, [cluster_id], viewer).get(cluster_id, {})
    return One(
        data=ClusterDetail(
            **_cluster_out(cluster, stats),
            timeline=[_sighting_out(s, cluster_id) for s in sightings],
        )
    )


# -- figures --------------------------------------------------------------------------------
@router.get("/figures", response_model=Page[FigureOut], tags=["figures"], **scoped("figures"))
def list_figures(request: Request, who: Caller) -> Page[FigureOut]:
    """The dashboard's figures as tables (the same numbers as the charts and CSVs), counted
    over the sightings the key's agency may see."""
    from takedown.web.figures import all_figures

    figures = all_figures(get_app(request), Viewer.of(who))
    return Page(
        data=[
            FigureOut(name=f.name, title=f.title, columns=f.columns, rows=f.rows) for f in figures
        ],
        next_cursor=None,
    )
