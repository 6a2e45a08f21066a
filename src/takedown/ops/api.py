"""``/api/v1/operations`` and ``/api/v1/holds``: action days and deconfliction holds over HTTP.

Mounted by :mod:`takedown.api.app`. Keys carry scopes, not roles; the ops actions map onto
them (``ACTIONS``): reading operations and one's own holds needs ``read``, an operation's
report ``figures``, and placing or lifting holds and creating, joining or closing operations
``referrals`` (the agency's referral desk). Platform keys can hold none of these.

Scoping is the workspace's: a key sees the operations its agency takes part in (any other is
answered 404, as if it did not exist) and the holds its agency owns, with their reasons. No
route shows another agency's hold: a referral touching it reports only
``deconfliction hit: contact <agency>`` (see :mod:`takedown.referrals.api`). The lead agency
(the creator) adds participants and closes the operation; a closed operation refuses every
change and every intake filed under its name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.access.holds import MAX_PDQ, NARROW_PDQ
from takedown.api.auth import Principal
from takedown.api.common import ApiError, Caller, get_app, scoped
from takedown.api.models import ApiAgency
from takedown.api.schemas import CheckedIn
from takedown.api.v1 import SAFE, Id, One, Page
from takedown.ops.agencies import OpsError
from takedown.ops.models import OpsHold, OpsOperation, OpsOperationAgency

router = APIRouter(prefix="/api/v1", tags=["operations"])

#: ops action -> the key scope it needs (keys have no role; see the module docstring)
ACTIONS = {
    "read": "read",
    "report": "figures",
    "hold": "referrals",
    "operate": "referrals",
    "complain": "referrals",  # record a complaint received, decide it (takedown.ops.complaints_api)
}


def _scoped(action: str, *, conflict: bool = False) -> dict[str, Any]:
    kwargs = scoped(ACTIONS[action])
    if conflict:
        responses = dict(kwargs["responses"])
        responses[409] = {"description": "Refused in the current state (closed, lifted...)."}
        kwargs = {**kwargs, "responses": responses}
    return kwargs


# -- bodies and answers -------------------------------------------------------------------------
class OperationOut(BaseModel):
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    lead: str | None
    participants: list[str]
    targets: dict[str, Any]
    closed_at: datetime | None
    final_digest: str | None = Field(description="SHA-256 of the frozen board, once closed")


class OperationIn(CheckedIn):
    name: str = Field(min_length=1, max_length=200, pattern=SAFE)
    starts_at: datetime = Field(description="with a time zone")
    ends_at: datetime = Field(description="with a time zone; at most 31 days after the start")
    agencies: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="other participating agencies; the caller's agency leads",
    )
    outlets: list[str] = Field(default_factory=list, max_length=1000)
    labels: list[str] = Field(default_factory=list, max_length=1000)


class JoinIn(CheckedIn):
    agency: str = Field(min_length=1, max_length=200, pattern=SAFE)


class HoldOut(BaseModel):
    id: int
    agency: str
    kind: str
    value: str
    max_distance: int | None = Field(description="PDQ holds: largest Hamming distance matched")
    reason: str
    state: str = Field(description="active | lifted | expired")
    created_at: datetime
    created_by: str | None
    expires_at: datetime
    expired_at: datetime | None
    lifted_at: datetime | None
    lifted_by: str | None


class HoldIn(CheckedIn):
    kind: str = Field(pattern=r"^(url|domain|signal|label)$")
    value: str = Field(min_length=1, max_length=4000)
    reason: str = Field(min_length=1, max_length=4000, description="shown to your agency only")
    days: float | None = Field(default=None, gt=0, le=366, description="expire after (days)")
    expires_at: datetime | None = Field(default=None, description="or expire at (time zone)")
    max_distance: int | None = Field(
        default=None,
        ge=0,
        le=MAX_PDQ,
        description=f"pdq signal holds only (default 31; over {NARROW_PDQ}: a wide hold, "
        "which API keys cannot place)",
    )


# -- helpers ------------------------------------------------------------------------------------
def _actor(who: Principal) -> str:
    return f"api-key:{who.key_id}"


def _agency(session: Session, who: Principal) -> ApiAgency:
    agency = session.get(ApiAgency, who.agency_id) if who.agency_id is not None else None
    if agency is None:
        raise ApiError(403, "forbidden", "this route is for keys of an agency")
    return agency


def _member(session: Session, who: Principal, operation_id: int) -> OpsOperation:
    """The operation if the caller's agency takes part in it; 404 otherwise."""
    found = None
    if who.agency_id is not None:
        found = session.scalar(
            select(OpsOperation)
            .join(OpsOperationAgency, OpsOperationAgency.operation_id == OpsOperation.id)
            .where(OpsOperation.id == operation_id, OpsOperationAgency.agency_id == who.agency_id)
        )
    if found is None:
        raise ApiError(404, "not_found", f"no operation {operation_id}")
    return found


def _lead(session: Session, who: Principal, operation: OpsOperation) -> None:
    if operation.lead_agency_id != who.agency_id:
        lead = session.get(ApiAgency, operation.lead_agency_id or 0)
        name = lead.name if lead is not None else "the lead agency"
        raise ApiError(403, "forbidden", f"only the lead agency ({name}) may do this")


def _operation_out(session: Session, op: OpsOperation) -> OperationOut:
    from takedown.ops.operations import participants

    lead = session.get(ApiAgency, op.lead_agency_id) if op.lead_agency_id else None
    return OperationOut(
        id=op.id,
        name=op.name,
        starts_at=op.starts_at,
        ends_at=op.ends_at,
        lead=lead.name if lead is not None else None,
        participants=participants(session, op),
        targets=op.targets or {},
        closed_at=op.closed_at,
        final_digest=op.final_digest,
    )


def _utc(value: datetime | None) -> datetime | None:
    """A zoned time in UTC; a naive one is passed on (and refused by the workflow)."""
    return value.astimezone(UTC) if value is not None and value.tzinfo else value


def _refused(exc: OpsError) -> ApiError:
    text = str(exc)
    if "closed" in text or "already" in text or "exists" in text:
        return ApiError(409, "conflict", text)
    return ApiError(400, "refused", text)


# -- operations ---------------------------------------------------------------------------------
@router.get("/operations", response_model=Page[OperationOut], **_scoped("read"))
def list_operations(request: Request, who: Caller) -> Page[OperationOut]:
    """The operations the caller's agency takes part in, by start."""
    with get_app(request).db.session() as session:
        if who.agency_id is None:
            return Page(data=[], next_cursor=None)
        rows = session.scalars(
            select(OpsOperation)
            .join(OpsOperationAgency, OpsOperationAgency.operation_id == OpsOperation.id)
            .where(OpsOperationAgency.agency_id == who.agency_id)
            .order_by(OpsOperation.starts_at, OpsOperation.id)
        )
        return Page(data=[_operation_out(session, op) for op in rows], next_cursor=None)


@router.post(
    "/operations",
    response_model=One[OperationOut],
    status_code=201,
    **_scoped("operate", conflict=True),
)
def create_operation(request: Request, who: Caller, body: OperationIn) -> One[OperationOut]:
    """Create an operation led by the caller's agency, with the other ``agencies``."""
    from takedown.ops.operations import create_operation as create

    with get_app(request).db.session() as session:
        own = _agency(session, who)
        agencies = [own.name] + [a for a in body.agencies if a.strip() != own.name]
        try:
            row = create(
                session,
                body.name,
                starts_at=_utc(body.starts_at) or body.starts_at,
                ends_at=_utc(body.ends_at) or body.ends_at,
                agencies=agencies,
                outlets=body.outlets,
                labels=body.labels,
                actor=_actor(who),
            )
        except OpsError as exc:
            session.rollback()
            raise _refused(exc) from exc
        return One(data=_operation_out(session, row))


@router.get("/operations/{operation_id}", response_model=One[OperationOut], **_scoped("read"))
def get_operation(request: Request, who: Caller, operation_id: Id) -> One[OperationOut]:
    """One operation of the caller's agency."""
    with get_app(request).db.session() as session:
        return One(data=_operation_out(session, _member(session, who, operation_id)))


@router.get(
    "/operations/{operation_id}/board", response_model=One[dict[str, Any]], **_scoped("read")
)
def get_board(request: Request, who: Caller, operation_id: Id) -> One[dict[str, Any]]:
    """The live board (found / items / unique material / referred / removed, by platform,
    language and agency; assignments); a closed operation's frozen board."""
    from takedown.ops.operations import board

    with get_app(request).db.session() as session:
        operation = _member(session, who, operation_id)
        return One(data=board(session, operation.name))


@router.post(
    "/operations/{operation_id}/agencies",
    response_model=One[OperationOut],
    **_scoped("operate", conflict=True),
)
def join_operation(
    request: Request, who: Caller, operation_id: Id, body: JoinIn
) -> One[OperationOut]:
    """The lead agency adds a participant (it then sees the operation's sightings)."""
    from takedown.ops.operations import join_operation as join

    with get_app(request).db.session() as session:
        operation = _member(session, who, operation_id)
        _lead(session, who, operation)
        try:
            join(session, operation.name, body.agency)
        except OpsError as exc:
            session.rollback()
            raise _refused(exc) from exc
        return One(data=_operation_out(session, operation))


@router.post(
    "/operations/{operation_id}/close",
    response_model=One[OperationOut],
    **_scoped("operate", conflict=True),
)
def close_operation(request: Request, who: Caller, operation_id: Id) -> One[OperationOut]:
    """The lead agency closes the operation: its board is frozen with a SHA-256, and every
    later change or intake under its name is refused."""
    from takedown.ops.operations import close_operation as close

    with get_app(request).db.session() as session:
        operation = _member(session, who, operation_id)
        _lead(session, who, operation)
        try:
            row = close(session, operation.name, actor=_actor(who))
        except OpsError as exc:
            session.rollback()
            raise _refused(exc) from exc
        return One(data=_operation_out(session, row))


@router.get(
    "/operations/{operation_id}/report", response_model=One[dict[str, Any]], **_scoped("report")
)
def operation_report(request: Request, who: Caller, operation_id: Id) -> One[dict[str, Any]]:
    """The operation report as JSON (the figures ``takedown report operation`` renders)."""
    from takedown.ops.reports import operation_report as build

    with get_app(request).db.session() as session:
        operation = _member(session, who, operation_id)
        return One(data=build(session, operation.name))


# -- holds --------------------------------------------------------------------------------------
def _hold_out(hold: OpsHold, agency: str) -> HoldOut:
    from takedown.ops.holds import hold_view

    return HoldOut(**hold_view(hold, agency, owner=True))


@router.get("/holds", response_model=Page[HoldOut], **_scoped("read"))
def list_holds(
    request: Request,
    who: Caller,
    all_states: Annotated[bool, Query(alias="all", description="also lifted, expired")] = False,
) -> Page[HoldOut]:
    """The caller's agency's holds, with their reasons (no other agency's, ever)."""
    from takedown.ops.holds import list_holds as listing

    with get_app(request).db.session() as session:
        own = _agency(session, who)
        rows = listing(session, own.name, all_states=all_states)
        return Page(data=[HoldOut(**r) for r in rows], next_cursor=None)


@router.post("/holds", response_model=One[HoldOut], status_code=201, **_scoped("hold"))
def create_hold(request: Request, who: Caller, body: HoldIn) -> One[HoldOut]:
    """Place a hold ("do not refer") for the caller's agency; give ``days`` or
    ``expires_at``. Other agencies referring the material learn only whom to contact. A key
    places narrow holds only: a whole platform's domain, a label or a PDQ radius over 31
    needs a coordinator in the workspace (403)."""
    from takedown.ops.holds import HoldTooWide, add_hold

    if (body.days is None) == (body.expires_at is None):
        raise ApiError(400, "refused", "give exactly one of days, expires_at")
    with get_app(request).db.session() as session:
        own = _agency(session, who)
        try:
            row = add_hold(
                session,
                agency=own.name,
                kind=body.kind,
                value=body.value,
                reason=body.reason,
                days=body.days,
                expires_at=_utc(body.expires_at),
                max_distance=body.max_distance,
                actor=_actor(who),
                may_hold_wide=False,  # keys have no role: wide holds are a coordinator's
            )
        except HoldTooWide as exc:
            session.rollback()
            raise ApiError(403, "forbidden", str(exc)) from exc
        except OpsError as exc:
            session.rollback()
            raise ApiError(400, "refused", str(exc)) from exc
        return One(data=_hold_out(row, own.name))


@router.post("/holds/{hold_id}/lift", response_model=One[HoldOut], **_scoped("hold", conflict=True))
def lift_hold(request: Request, who: Caller, hold_id: Id) -> One[HoldOut]:
    """Lift one of the caller's agency's holds (recorded with who and when). Any other
    agency's hold is answered 404."""
    from takedown.ops.holds import lift_hold as lift

    with get_app(request).db.session() as session:
        own = _agency(session, who)
        hold = session.get(OpsHold, hold_id)
        if hold is None or hold.agency_id != own.id:
            raise ApiError(404, "not_found", f"no hold {hold_id}")
        if hold.lifted_at is not None:
            raise ApiError(409, "conflict", f"hold {hold_id} was lifted already")
        try:
            row = lift(session, hold_id, agency=own.name, actor=_actor(who))
        except OpsError as exc:
            session.rollback()
            raise ApiError(404, "not_found", f"no hold {hold_id}") from exc
        return One(data=_hold_out(row, own.name))
