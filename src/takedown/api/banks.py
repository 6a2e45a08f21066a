"""``/api/v1/banks``: banks and allow-lists, their entries (list, add, remove)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from takedown.access.banks import BankRefused, check_change, may_read
from takedown.access.visibility import Viewer
from takedown.api.auth import Principal
from takedown.api.common import ApiError, Caller, decode_cursor, get_app, page_of, scoped
from takedown.api.models import ApiAgency
from takedown.api.schemas import (
    SAFE,
    BankIn,
    BankName,
    BankOut,
    Cursor,
    EntriesAdded,
    EntriesIn,
    EntryOut,
    Id,
    Limit,
    One,
    Page,
)
from takedown.api.uploads import submitter
from takedown.app import App
from takedown.matching import banks as bank_ops
from takedown.matching.formats import BankRow
from takedown.store.models import Bank, BankEntry

router = APIRouter()


def _entry_out(e: BankEntry, bank: str) -> EntryOut:
    return EntryOut(
        id=e.id,
        bank=bank,
        signal_type=e.signal_type,
        value=e.value,
        labels=dict(e.labels or {}),
        external_id=e.external_id,
        status=e.status,
        added_at=e.added_at,
        removed_at=e.removed_at,
        match_count=e.match_count,
    )


def _bank_out(info: bank_ops.BankInfo, owners: dict[int, str] | None = None) -> BankOut:
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
        owner=(owners or {}).get(b.owner_agency_id) if b.owner_agency_id else None,
        sharing=b.sharing,
    )


def _owners(app: App) -> dict[int, str]:
    with app.db.session() as session:
        return {i: n for i, n in session.execute(select(ApiAgency.id, ApiAgency.name))}


def _readable(app: App, who: Principal) -> list[bank_ops.BankInfo]:
    viewer = Viewer.of(who)
    return [
        i
        for i in bank_ops.list_banks(app)
        if may_read(viewer, i.bank.owner_agency_id, i.bank.sharing)
    ]


def _bank_for_change(app: App, who: Principal, name: str) -> Bank:
    """The bank ``name`` if the caller may change it; 404 if it may not read it, 403 if it
    reads it but another agency (or the operator) owns it."""
    viewer = Viewer.of(who)
    with app.db.session() as session:
        bank = session.scalar(select(Bank).where(Bank.name == name))
        if bank is None or not may_read(viewer, bank.owner_agency_id, bank.sharing):
            raise ApiError(404, "not_found", "no such bank")
        try:
            check_change(viewer, bank)
        except BankRefused as exc:
            raise ApiError(403, "forbidden", str(exc)) from exc
        return bank


@router.get("/banks", response_model=Page[BankOut], tags=["banks"], **scoped("read"))
def list_banks(request: Request, who: Caller) -> Page[BankOut]:
    """Every bank and allow-list the caller may read, with entry counts (one page: banks
    are few): shared banks, and the caller's agency's private ones."""
    app = get_app(request)
    owners = _owners(app)
    return Page(data=[_bank_out(i, owners) for i in _readable(app, who)], next_cursor=None)


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
            actor=submitter(who),
            owner_agency_id=who.agency_id,
            sharing=body.sharing,
        )
    except bank_ops.BankError as exc:
        raise ApiError(400, "bad_bank", str(exc)) from exc
    return get_bank(request, body.name, who)


@router.get("/banks/{name}", response_model=One[BankOut], tags=["banks"], **scoped("read"))
def get_bank(request: Request, name: BankName, who: Caller) -> One[BankOut]:
    app = get_app(request)
    for info in _readable(app, who):
        if info.bank.name == name:
            return One(data=_bank_out(info, _owners(app)))
    raise ApiError(404, "not_found", "no such bank")


@router.get(
    "/banks/{name}/entries", response_model=Page[EntryOut], tags=["banks"], **scoped("read")
)
def list_entries(
    request: Request,
    name: BankName,
    who: Caller,
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
        if bank is None or not may_read(Viewer.of(who), bank.owner_agency_id, bank.sharing):
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
    return Page(data=[_entry_out(e, bank.name) for e in page], next_cursor=nxt)


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
    app = get_app(request)
    _bank_for_change(app, who, name)
    try:
        report = bank_ops.add_entries(app, name, rows, actor=submitter(who), viewer=Viewer.of(who))
    except BankRefused as exc:
        raise ApiError(403, "forbidden", str(exc)) from exc
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
    _bank_for_change(app, who, name)
    with app.db.session() as session:
        found = session.execute(
            select(BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(BankEntry.id == entry_id, Bank.name == name)
        ).first()
    if found is None:
        raise ApiError(404, "not_found", f"no entry {entry_id} in that bank")
    try:
        e = bank_ops.remove_entry(app, entry_id, actor=submitter(who), viewer=Viewer.of(who))
    except BankRefused as exc:
        raise ApiError(403, "forbidden", str(exc)) from exc
    except bank_ops.BankError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return One(data=_entry_out(e, name))
