"""An HMA-compatible HTTP API under ``/api/hma``, beside ``/api/v1``.

A platform whose clients speak Meta's Hasher-Matcher-Actioner 2.0 (``OpenMediaMatch``) can point
them at ``https://<takedown>/api/hma``: the routes, parameter names and answer shapes are HMA's
(``/h/hash``, ``/m/lookup``, ``/m/raw_lookup``, ``/m/compare``, ``/m/index/status``,
``/c/banks``, ``/c/bank/<name>``, ``/c/bank/<name>/signal``, ``/c/bank/<name>/content``,
``/status``), signal types are pytx's names (``pdq``, ``video_md5``, ``vpdq`` …) and a
``bank_content_id`` is a Takedown bank entry id. Unlike HMA, every route needs a Takedown API key
(the same check as ``/api/v1``: ``Authorization: Bearer`` or ``X-API-Key``), hashing by URL is
refused as HMA refuses it without its hasher role (Takedown fetches nothing on request), and
errors come in Takedown's ``{"error": {"code", "message"}}`` shape. The routes stay out of
Takedown's OpenAPI document (HMA publishes its own); ``docs/api.md`` lists them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path as FsPath
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Query, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from takedown.access.banks import BankRefused
from takedown.access.visibility import Viewer
from takedown.api import hma_service as svc
from takedown.api.common import ApiError, Caller, get_app, scoped
from takedown.api.lookup import lookups
from takedown.api.uploads import received, submitter
from takedown.matching import banks as bank_ops

router = APIRouter(prefix="/api/hma", include_in_schema=False)
#: HMA's bank names (``[A-Z_][A-Z0-9_]*``), required of banks created through this API.
HMA_BANK_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
URL_REFUSED = "Hashing is disabled, missing role: Takedown fetches nothing by URL; POST the file"
Signal = Annotated[str, Query(max_length=1_000_000)]
SignalType = Annotated[str, Query(max_length=64)]
Banks = Annotated[str | None, Query(max_length=10_000, description="comma-separated bank names")]


def _banks(param: str | None) -> set[str] | None:
    return {b for b in param.split(",") if b} if param else None


def _refuse_url(url: str | None) -> None:
    if url:
        raise ApiError(403, "forbidden", URL_REFUSED)


# -- status -----------------------------------------------------------------------------------
@router.get("/status", **scoped("lookup"))
def status(request: Request, who: Caller) -> PlainTextResponse:
    """``I-AM-ALIVE`` once the matching indexes answer, as HMA's ``/status``."""
    ready, stale = svc.index_state(lookups(request))
    if not ready:
        return PlainTextResponse("INDEX-NOT-LOADED", status_code=503)
    if stale:
        return PlainTextResponse("INDEX-STALE", status_code=503)
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/status/live", **scoped("lookup"))
def status_live(who: Caller) -> PlainTextResponse:
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/status/ready", **scoped("lookup"))
def status_ready(request: Request, who: Caller) -> PlainTextResponse:
    ready, _stale = svc.index_state(lookups(request))
    return PlainTextResponse("I-AM-ALIVE" if ready else "INDEX-NOT-LOADED", 200 if ready else 503)


# -- hashing ----------------------------------------------------------------------------------
@router.get("/h/hash", **scoped("lookup"))
def hash_get(who: Caller, url: Annotated[str | None, Query(max_length=8192)] = None) -> None:
    _refuse_url(url)
    raise ApiError(400, "invalid_request", "POST the file (multipart) to hash it")


@contextlib.asynccontextmanager
async def _one_file(request: Request) -> AsyncIterator[FsPath]:
    """The one uploaded file (HMA's ``photo`` / ``video`` / any field) as a private file."""
    async with request.form() as form:
        files = [v for v in form.values() if isinstance(v, StarletteUpload)]
        if len(files) != 1:
            raise ApiError(400, "invalid_request", "send exactly one file (photo or video field)")
        async with received(request, cast(UploadFile, files[0])) as path:
            yield path


@router.post("/h/hash", **scoped("lookup"))
async def hash_post(
    request: Request, who: Caller, types: Annotated[str | None, Query(max_length=500)] = None
) -> dict[str, str]:
    """Signals of the uploaded file by pytx name (``{"pdq": "<hex>", ...}``)."""
    if who.platform_key is not None:
        raise ApiError(403, "forbidden", "platform keys look up hashes, not files")
    wanted = _banks(types)
    async with _one_file(request) as path:
        return await run_in_threadpool(svc.hashes_of_file, path, wanted)


# -- matching ---------------------------------------------------------------------------------
@router.get("/m/raw_lookup", **scoped("lookup"))
async def raw_lookup(
    request: Request,
    who: Caller,
    signal_type: SignalType,
    signal: Signal,
    include_distance: bool = False,
    banks: Banks = None,
) -> dict[str, Any]:
    readable = svc.readable_banks(get_app(request), Viewer.of(who))
    hits = await run_in_threadpool(
        svc.lookup_hits, lookups(request), signal_type, signal, _banks(banks), False, readable
    )
    if include_distance:
        return {
            "matches": [{"bank_content_id": h.entry_id, "distance": str(h.distance)} for h in hits]
        }
    return {"matches": [h.entry_id for h in hits]}


@router.get("/m/lookup", **scoped("lookup"))
async def lookup_get(
    request: Request,
    who: Caller,
    signal_type: Annotated[str | None, Query(max_length=64)] = None,
    signal: Annotated[str | None, Query(max_length=1_000_000)] = None,
    url: Annotated[str | None, Query(max_length=8192)] = None,
    banks: Banks = None,
    bypass_coinflip: bool = False,
    seed: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Matches by bank name: ``{"BANK": [{"bank_content_id": 1, "distance": "4"}]}``."""
    _refuse_url(url)
    if not signal or not signal_type:
        raise ApiError(
            400, "invalid_request", "Either url or both signal and signal_type are required"
        )
    readable = svc.readable_banks(get_app(request), Viewer.of(who))
    hits = await run_in_threadpool(
        svc.lookup_hits, lookups(request), signal_type, signal, _banks(banks), True, readable
    )
    return svc.by_bank(hits)


@router.post("/m/lookup", **scoped("lookup"))
async def lookup_post(request: Request, who: Caller, banks: Banks = None) -> dict[str, Any]:
    """Hash the uploaded file and look each signal up: ``{"pdq": {"BANK": [...]}, ...}``."""
    if who.platform_key is not None:
        raise ApiError(403, "forbidden", "platform keys look up hashes, not files")
    service, wanted = lookups(request), _banks(banks)
    readable = svc.readable_banks(get_app(request), Viewer.of(who))

    def work(path: FsPath) -> dict[str, Any]:
        return {
            name: svc.by_bank(svc.lookup_hits(service, name, value, wanted, True, readable))
            for name, value in svc.hashes_of_file(path, None).items()
        }

    async with _one_file(request) as path:
        return await run_in_threadpool(work, path)


@router.post("/m/compare", **scoped("lookup"))
def compare(who: Caller, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """``{"pdq": [a, b]}`` -> ``{"pdq": [true, {"distance": 9}]}``."""
    return svc.compare(body)


@router.get("/m/index/status", **scoped("lookup"))
def index_status(
    request: Request, who: Caller, signal_type: SignalType | None = None
) -> dict[str, Any]:
    return svc.index_status(get_app(request), signal_type)


# -- curation ---------------------------------------------------------------------------------
@router.get("/c/banks", **scoped("read"))
def banks_index(request: Request, who: Caller) -> list[dict[str, Any]]:
    app = get_app(request)
    readable = svc.readable_banks(app, Viewer.of(who))
    return [svc.bank_config(i.bank) for i in bank_ops.list_banks(app) if i.bank.name in readable]


@router.post("/c/banks", **scoped("banks:write"))
def bank_create(
    request: Request, who: Caller, body: Annotated[dict[str, Any], Body()]
) -> JSONResponse:
    name = body.get("name")
    if not isinstance(name, str) or not HMA_BANK_NAME.fullmatch(name) or len(name) > 200:
        raise ApiError(400, "invalid_request", "Field `name` must match /^[A-Z_][A-Z0-9_]*$/")
    enabled = svc.enabled_of(body)
    try:
        bank = bank_ops.create_bank(
            get_app(request), name, actor=submitter(who), owner_agency_id=who.agency_id
        )
        if not enabled:
            bank = bank_ops.set_enabled(
                get_app(request), name, False, submitter(who), viewer=Viewer.of(who)
            )
    except bank_ops.BankError as exc:
        raise ApiError(403, "forbidden", "Bank already exists") from exc
    return JSONResponse(svc.bank_config(bank), status_code=201)


@router.get("/c/bank/{bank_name}", **scoped("read"))
def bank_show(request: Request, who: Caller, bank_name: str) -> dict[str, Any]:
    return svc.bank_config(svc.bank_or_404(get_app(request), bank_name, Viewer.of(who)))


@router.put("/c/bank/{bank_name}", **scoped("banks:write"))
def bank_update(
    request: Request, who: Caller, bank_name: str, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    app, actor, viewer = get_app(request), submitter(who), Viewer.of(who)
    bank = svc.bank_or_404(app, bank_name, viewer)
    try:
        if "name" in body:
            new = body["name"]
            if not isinstance(new, str) or not HMA_BANK_NAME.fullmatch(new):
                raise ApiError(400, "invalid_request", "bank names must match /^[A-Z_][A-Z0-9_]*$/")
            bank = bank_ops.rename_bank(app, bank_name, new, actor, viewer=viewer)
        if "enabled" in body or "enabled_ratio" in body:
            bank = bank_ops.set_enabled(app, bank.name, svc.enabled_of(body), actor, viewer=viewer)
    except BankRefused as exc:
        raise ApiError(403, "forbidden", str(exc)) from exc
    except bank_ops.BankError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from exc
    return svc.bank_config(bank)


@router.delete("/c/bank/{bank_name}", **scoped("banks:write"))
def bank_delete(request: Request, who: Caller, bank_name: str) -> dict[str, str]:
    """HMA deletes the bank; Takedown keeps it for its history, disabled and emptied. A bank
    the caller cannot read (none, or another agency's private one) is 404, where HMA answers
    "Done" for a bank that does not exist."""
    app, viewer = get_app(request), Viewer.of(who)
    svc.bank_or_404(app, bank_name, viewer)
    try:
        bank_ops.retire_bank(app, bank_name, submitter(who), viewer=viewer)
    except BankRefused as exc:
        raise ApiError(403, "forbidden", str(exc)) from exc
    return {"message": "Done"}


@router.post("/c/bank/{bank_name}/signal", **scoped("banks:write"))
def bank_add_signals(
    request: Request, who: Caller, bank_name: str, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """``{"pdq": "<hex>", ...}`` -> ``{"id": <entry id>, "signals": {...}}``."""
    app = get_app(request)
    svc.bank_or_404(app, bank_name, Viewer.of(who))
    return svc.add_signals(app, bank_name, body, submitter(who), Viewer.of(who))


@router.post("/c/bank/{bank_name}/content", **scoped("banks:write"))
async def bank_add_file(
    request: Request,
    who: Caller,
    bank_name: str,
    url: Annotated[str | None, Query(max_length=8192)] = None,
) -> dict[str, Any]:
    _refuse_url(url)
    if who.platform_key is not None:
        raise ApiError(403, "forbidden", "platform keys look up hashes, not files")
    app = get_app(request)
    svc.bank_or_404(app, bank_name, Viewer.of(who))

    def work(path: FsPath) -> dict[str, Any]:
        return svc.add_signals(
            app, bank_name, svc.hashes_of_file(path, None), submitter(who), Viewer.of(who)
        )

    async with _one_file(request) as path:
        return await run_in_threadpool(work, path)


@router.delete("/c/bank/{bank_name}/content/{content_id}", **scoped("banks:write"))
def bank_delete_content(
    request: Request, who: Caller, bank_name: str, content_id: int
) -> dict[str, int]:
    app = get_app(request)
    svc.bank_or_404(app, bank_name, Viewer.of(who))
    return {
        "deleted": svc.remove_content(app, bank_name, content_id, submitter(who), Viewer.of(who))
    }
