"""``/api/v1/lookup``: which bank entries (and earlier content) match a hash or a file."""

from __future__ import annotations

import asyncio
import contextvars
import json
import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path as FsPath
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, FastAPI, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from takedown.access.banks import may_read
from takedown.api.auth import Principal
from takedown.api.common import ApiError, Caller, scoped
from takedown.api.lean import lean_route
from takedown.api.schemas import (
    SAFE,
    FileLookupOut,
    LookupIn,
    LookupOut,
    One,
)
from takedown.api.scope import Viewer, sighting_filter
from takedown.api.service import BankMeta, LookupService
from takedown.api.uploads import received
from takedown.app import App
from takedown.matching.lookup import LookupFailed, LookupResult
from takedown.store.models import Sighting

router = APIRouter()
T = TypeVar("T")
#: The threads the hash lookups run in. The lookup itself is serialised by the service's lock,
#: so a few threads suffice; a plain executor hop costs far less than anyio's
#: ``run_in_threadpool`` (capacity limiter, cancel scope, worker-thread queue), which was a
#: tenth of the server's CPU per request (bench/api.py).
LOOKUP_THREADS = 4
_pool = ThreadPoolExecutor(LOOKUP_THREADS, thread_name_prefix="takedown-lookup")


async def _in_pool(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the lookup threads, with this request's context (the audit actor)."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_pool, context.run, fn, *args)


#: hashes one batch request may carry (each with up to 16 variants, as ``POST /lookup``)
BATCH_MAX = 1000


Variants = Annotated[
    list[Annotated[str, Field(max_length=8192)]], Field(min_length=1, max_length=16)
]


class LookupBatchIn(BaseModel):
    signal_type: str = Field(max_length=64, pattern=SAFE, examples=["pdq"])
    hashes: list[Variants] = Field(
        min_length=1,
        max_length=BATCH_MAX,
        description="one list of variants per hash looked up (a single value: a list of one)",
    )
    banks: list[Annotated[str, Field(max_length=200)]] | None = Field(default=None, max_length=50)


class LookupBatchOut(BaseModel):
    results: list[LookupOut] = Field(description="one per hash, in the order sent")


class ReadyOut(BaseModel):
    ready: bool
    loaded: bool
    signals_behind: int | None = Field(description="signals stored since the index was built")
    bank_changes_behind: int | None
    checked_seconds_ago: float | None = None


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


def _lookup_out(
    service: LookupService,
    result: LookupResult,
    viewer: Viewer,
    meta: dict[str, BankMeta] | None = None,
) -> dict[str, Any]:
    """One answer as plain data, in the shape of :class:`LookupOut` (the hot routes send it
    without building and re-validating pydantic models). ``meta``: the banks' metadata when
    the caller has it already."""
    if meta is None:
        meta = service.banks() if result.bank_hits else {}
    visible = _content_urls(service.app, viewer, result)
    bank_matches = []
    for h in result.bank_hits:
        bank = meta.get(h.bank)
        # a private bank's hits reach its owner only (an unknown bank: left out)
        if bank is None or not may_read(viewer, bank.owner_agency_id, bank.sharing):
            continue
        bank_matches.append(
            {
                "bank": h.bank,
                "allow_list": h.allow_list,
                "entry_id": h.entry_id,
                "signal_type": h.signal_type,
                "value": h.value,
                "distance": h.distance,
                "labels": h.labels,
                "status": h.status,
                "bank_description": bank.description,
                "bank_labels": dict(bank.labels),
                "bank_version": bank.version,
                "evidence": h.evidence,
            }
        )
    return {
        "signal_type": result.signal_type,
        "value": result.value,
        "bank_matches": bank_matches,
        "content_matches": [
            {
                "content_id": h.content_id,
                "sha256": h.sha256,
                "signal_type": h.signal_type,
                "distance": h.distance,
                "name": h.name,
                "urls": visible[h.content_id],
                "evidence": h.evidence,
            }
            for h in result.content_hits
            if h.content_id in visible
        ],
    }


def _plain(value: Any) -> Any:
    """numpy scalars and arrays (evidence of robust matches) as JSON values."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _clean(value: Any) -> Any:
    """``value`` with what JSON cannot carry replaced: NaN and infinities by null (as pydantic
    writes them), lone surrogates by U+FFFD, other objects by their text."""
    if isinstance(value, dict):
        return {str(_clean(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, bool | int | None):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        return _clean(_plain(value))
    except TypeError:
        return str(value)


def _answer(data: Any) -> Response:
    """``{"data": data}`` as JSON, written here: the lookup routes skip FastAPI's build and
    re-validation of the response model (tests/api/test_lookup_answer.py keeps the two the
    same). Plain ``json.dumps``; values it cannot write (a NaN or an odd value in an
    evidence, a lone surrogate) are cleaned first, only then."""
    try:
        body = json.dumps(
            {"data": data}, ensure_ascii=False, allow_nan=False, default=_plain
        ).encode()
    except (TypeError, ValueError):  # UnicodeEncodeError (a lone surrogate) is a ValueError
        body = json.dumps({"data": _clean(data)}, ensure_ascii=False, allow_nan=False).encode()
    return Response(body, media_type="application/json")


def _by_hash(
    service: LookupService,
    viewer: Viewer,
    signal_type: str,
    values: list[str],
    banks: list[str] | None,
) -> dict[str, Any]:
    try:
        result = service.by_hash(signal_type, values, banks)
    except LookupFailed as exc:
        raise ApiError(400, "bad_signal", str(exc)) from exc
    # the banks' metadata is read here even without a bank hit: once read, later lookups can
    # run on the event loop (LookupService.by_hash_now)
    return _lookup_out(service, result, viewer, service.banks())


# The hot lookup routes are ``async``: a warm lookup runs on the event loop, any other in the
# lookup threads in one hop (the lookup, the answer and its JSON); they return the JSON
# themselves, so FastAPI neither builds nor re-validates the response model (which stays
# declared, for the OpenAPI schema).
async def lookup_hash(
    request: Request,
    who: Caller,
    signal_type: Annotated[str, Query(max_length=64, pattern=SAFE, examples=["pdq"])],
    value: Annotated[list[str], Query(min_length=1, max_length=16)],
    bank: Annotated[list[str] | None, Query(max_length=50, description="only these banks")] = None,
) -> Response:
    """Bank entries (and stored content) matching a hash: distances as numbers, labels, bank."""
    values = [v[:8192] for v in value]
    return await _look_up(lookups(request), Viewer.of(who), signal_type, values, bank)


async def _look_up(
    service: LookupService,
    viewer: Viewer,
    signal_type: str,
    values: list[str],
    banks: list[str] | None,
) -> Response:
    """A warm lookup runs here, on the event loop: it costs less CPU (0.2-0.4 ms) than the
    hand-off to a thread and back, and a thread hop under load put p99 latency past 100 ms
    (bench/api.py). What may take longer goes to the lookup threads: a lookup while another
    holds the index, or when the index is not loaded or due to catch up with the store
    (:meth:`LookupService.by_hash_now`), and reading the sightings of content hits."""
    try:
        now = service.by_hash_now(signal_type, values, banks)
    except LookupFailed as exc:
        raise ApiError(400, "bad_signal", str(exc)) from exc
    if now is None:
        return await _in_pool(
            lambda: _answer(_by_hash(service, viewer, signal_type, values, banks))
        )
    result, meta = now
    if result.content_hits:
        return await _in_pool(_answer_of, service, result, viewer, meta)
    return _answer_of(service, result, viewer, meta)


def _answer_of(
    service: LookupService, result: LookupResult, viewer: Viewer, meta: dict[str, BankMeta]
) -> Response:
    return _answer(_lookup_out(service, result, viewer, meta))


#: the declared ``pattern`` of ``signal_type`` (no control characters), matched as pydantic does
_SAFE = re.compile(SAFE)


async def _lean_lookup_hash(request: Request, who: Principal) -> Response | None:
    """``lookup_hash`` for a valid request, without FastAPI's parameter handling (see
    :mod:`takedown.api.lean`); None when a parameter is outside the declared limits, so the
    full handler answers with its usual error."""
    query = request.query_params
    types = query.getlist("signal_type")
    value = query.getlist("value")
    bank = query.getlist("bank") or None
    if not types or not 1 <= len(value) <= 16 or (bank is not None and len(bank) > 50):
        return None
    signal_type = types[-1]  # as FastAPI takes a repeated single-valued parameter
    if len(signal_type) > 64 or _SAFE.fullmatch(signal_type) is None:
        return None
    values = [v[:8192] for v in value]
    return await _look_up(lookups(request), Viewer.of(who), signal_type, values, bank)


def add_hot_routes(api: FastAPI) -> None:
    """``GET /api/v1/lookup`` on the application itself, ahead of every other route: FastAPI
    matches a request against included routers twice over (the router, then its routes), a
    tenth of a millisecond on the hottest route; a route of the application's own is tried
    first, once. It is declared like every other API route (scope mark, OpenAPI schema)."""
    api.router.add_api_route(
        "/api/v1/lookup",
        lookup_hash,
        methods=["GET"],
        response_model=One[LookupOut],
        tags=["lookup"],
        route_class_override=lean_route(_lean_lookup_hash, "lookup"),
        **scoped("lookup"),
    )


@router.post("/lookup", response_model=One[LookupOut], tags=["lookup"], **scoped("lookup"))
async def lookup_hash_post(request: Request, body: LookupIn, who: Caller) -> Response:
    """As ``GET /lookup``, with the hash variants in a JSON body."""
    return await _look_up(
        lookups(request), Viewer.of(who), body.signal_type, body.values, body.banks
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
        return FileLookupOut.model_validate(
            {
                "kind": kind,
                "results": [_lookup_out(service, r, viewer) for r in results],
                "errors": errors,
                "notes": notes,
            }
        )

    async with received(request, file) as path:
        out = await run_in_threadpool(hash_and_look, path)
    return One(data=out)


def _batch(service: LookupService, viewer: Viewer, body: LookupBatchIn) -> Response:
    results = [
        _by_hash(service, viewer, body.signal_type, values, body.banks) for values in body.hashes
    ]
    return _answer({"results": results})


@router.post(
    "/lookup/batch", response_model=One[LookupBatchOut], tags=["lookup"], **scoped("lookup")
)
async def lookup_batch(request: Request, body: LookupBatchIn, who: Caller) -> Response:
    """Many hashes of one signal type in one request (up to 1,000): one answer per hash."""
    return await _in_pool(_batch, lookups(request), Viewer.of(who), body)


@router.get("/lookup/ready", response_model=One[ReadyOut], tags=["lookup"], **scoped("lookup"))
async def lookup_ready(request: Request, who: Caller) -> One[ReadyOut]:
    """Whether this process's matching index is loaded, and how many stored signals and bank
    changes it has not taken in yet (it catches up on the next lookup)."""
    state = await run_in_threadpool(lookups(request).readiness)
    return One(data=ReadyOut(**state))
