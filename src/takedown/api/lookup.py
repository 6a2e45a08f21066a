"""``/api/v1/lookup``: which bank entries (and earlier content) match a hash or a file."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from takedown.api.common import ApiError, Caller, scoped
from takedown.api.schemas import (
    SAFE,
    BankMatch,
    ContentMatch,
    FileLookupOut,
    LookupIn,
    LookupOut,
    One,
)
from takedown.api.scope import Viewer, sighting_filter
from takedown.api.service import LookupService
from takedown.api.uploads import received
from takedown.app import App
from takedown.matching.lookup import LookupFailed, LookupResult
from takedown.store.models import Sighting

router = APIRouter()


def lookups(request: Request) -> LookupService:
    service: LookupService = request.app.state.lookups
    return service


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


def _lookup_out(service: LookupService, result: LookupResult, viewer: Viewer) -> LookupOut:
    meta = service.banks() if result.bank_hits else {}
    visible = _content_urls(service.app, viewer, result)
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
                bank_labels=dict(meta[h.bank].labels) if h.bank in meta else {},
                bank_version=meta[h.bank].version if h.bank in meta else 0,
                evidence=h.evidence,
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
                evidence=h.evidence,
            )
            for h in result.content_hits
            if h.content_id in visible
        ],
    )


def _by_hash(
    service: LookupService,
    viewer: Viewer,
    signal_type: str,
    values: list[str],
    banks: list[str] | None,
) -> One[LookupOut]:
    try:
        result = service.by_hash(signal_type, values, banks)
    except LookupFailed as exc:
        raise ApiError(400, "bad_signal", str(exc)) from exc
    return One(data=_lookup_out(service, result, viewer))


# The lookup routes are ``async`` and hand their work to the thread pool themselves: a plain
# ``def`` route costs two thread hops (FastAPI validates the answer of a sync route in the
# thread pool too), this one.
@router.get("/lookup", response_model=One[LookupOut], tags=["lookup"], **scoped("lookup"))
async def lookup_hash(
    request: Request,
    who: Caller,
    signal_type: Annotated[str, Query(max_length=64, pattern=SAFE, examples=["pdq"])],
    value: Annotated[list[str], Query(min_length=1, max_length=16)],
    bank: Annotated[list[str] | None, Query(max_length=50, description="only these banks")] = None,
) -> One[LookupOut]:
    """Bank entries (and stored content) matching a hash: distances as numbers, labels, bank."""
    values = [v[:8192] for v in value]
    return await run_in_threadpool(
        _by_hash, lookups(request), Viewer.of(who), signal_type, values, bank
    )


@router.post("/lookup", response_model=One[LookupOut], tags=["lookup"], **scoped("lookup"))
async def lookup_hash_post(request: Request, body: LookupIn, who: Caller) -> One[LookupOut]:
    """As ``GET /lookup``, with the hash variants in a JSON body."""
    return await run_in_threadpool(
        _by_hash, lookups(request), Viewer.of(who), body.signal_type, body.values, body.banks
    )


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
    service, viewer = lookups(request), Viewer.of(who)

    def hash_and_look(path: FsPath) -> FileLookupOut:
        try:
            kind, results, errors, notes = service.by_file(path, bank)
        except (LookupFailed, ValueError, OSError) as exc:
            raise ApiError(400, "unreadable_file", str(exc)[:500]) from exc
        return FileLookupOut(
            kind=kind,
            results=[_lookup_out(service, r, viewer) for r in results],
            errors=errors,
            notes=notes,
        )

    async with received(request, file) as path:
        out = await run_in_threadpool(hash_and_look, path)
    return One(data=out)
