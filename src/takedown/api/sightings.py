"""``/api/v1/sightings`` and ``/api/v1/content``: list, read and submit (URL, file, batch)."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from takedown.api.auth import Principal
from takedown.api.common import ApiError, Caller, decode_cursor, get_app, page_of, scoped
from takedown.api.schemas import (
    SAFE,
    ContentOut,
    Cursor,
    Id,
    Limit,
    One,
    Page,
    SightingOut,
    SignalOut,
    SubmitIn,
    SubmitResult,
    Text200,
)
from takedown.api.scope import Viewer, can_see_content, co_reporters, sighting_filter
from takedown.api.service import ingest_file, submit_records
from takedown.api.uploads import submit_upload, submitter
from takedown.app import App
from takedown.store.models import Content, Sighting, Signal

router = APIRouter()


def sighting_out(
    s: Sighting, cluster_id: int | None, others: list[str] | None = None
) -> SightingOut:
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
        also_reported_by=others or [],
    )


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
        viewer = Viewer.of(who)
        query = query.where(sighting_filter(session, viewer))
        rows = [(r[0], r[1]) for r in session.execute(query)]
        page, nxt = page_of(rows, limit, lambda r: r[0].id)
        others = co_reporters(session, viewer, [s.id for s, _c in page])
    return Page(data=[sighting_out(s, c, others.get(s.id)) for s, c in page], next_cursor=nxt)


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
        others = co_reporters(session, Viewer.of(who), [sighting_id]) if row else {}
    if row is None:
        raise ApiError(404, "not_found", f"no sighting {sighting_id}")
    return One(data=sighting_out(row[0], row[1], others.get(sighting_id)))


def allowed_operation(app: App, who: Principal, operation: str | None) -> None:
    """Refuse filing under an operation of the action-day board that the caller's agency does
    not take part in (404, as if it did not exist); a free-text operation label is kept."""
    if operation is None:
        return
    from takedown.ops.agencies import operations_of
    from takedown.ops.models import OpsOperation

    with app.db.session() as session:
        if session.scalar(select(OpsOperation.id).where(OpsOperation.name == operation)) is None:
            return
        if who.agency_id is not None and operation in operations_of(session, who.agency_id):
            return
    raise ApiError(404, "not_found", f"no operation {operation!r}")


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
    allowed_operation(get_app(request), who, body.operation)
    if body.seen_at is not None:
        record["seen_at"] = body.seen_at.isoformat()
    try:
        result = submit_records(
            get_app(request), [record], reporter=submitter(who), operation=body.operation
        )
    except ValueError as exc:  # refused by intake (e.g. a closed operation)
        raise ApiError(400, "bad_submission", str(exc)) from exc
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
    await run_in_threadpool(allowed_operation, app, who, operation)
    record = {"url": url, "seen_at": seen_at, "language": language, "notes": notes}

    def ingest(path: FsPath) -> dict[str, Any]:
        return submit_records(
            app, [record], reporter=submitter(who), operation=operation, files={"0": path}
        )

    return await submit_upload(request, file, ingest, refusal="bad_submission")


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
    await run_in_threadpool(allowed_operation, app, who, operation)

    def ingest(path: FsPath) -> dict[str, Any]:
        return ingest_file(app, path, format, reporter=submitter(who), operation=operation)

    return await submit_upload(
        request, file, ingest, refusal="unreadable_batch", suffixes=(".csv", ".jsonl", ".txt")
    )


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
