"""``/api/v1/referrals``: the agency side (list, read, send) and the platform side (answer).

Mounted by :mod:`takedown.api.extensions`. A key bound to a platform sees and answers only the
referrals addressed to that platform; an agency key with ``referrals:respond`` may record an
answer that came by email or telephone (source ``operator``). Duplicated answers are harmless:
the state machine reports them as ``duplicate`` and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from takedown.access.visibility import Viewer, referral_filter, visible_ids
from takedown.api.auth import Principal
from takedown.api.common import ApiError, Caller, decode_cursor, get_app, page_of, scoped
from takedown.api.schemas import CheckedIn
from takedown.api.v1 import SAFE, Cursor, Limit, One, Page
from takedown.app import App
from takedown.referrals.machine import RESPONSES, IllegalTransition
from takedown.referrals.models import Referral, ReferralEvent, ReferralItem
from takedown.referrals.respond import ITEM_STATUSES, BadItem, ItemAnswer, UnknownReference, record

router = APIRouter(prefix="/api/v1", tags=["referrals"])

Reference = Annotated[str, Path(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
StateFilter = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")]
Text200 = Annotated[str | None, Query(max_length=200, pattern=SAFE)]


class ReferralOut(BaseModel):
    reference: str
    kind: str
    state: str
    addressee: str
    addressee_name: str
    addressee_kind: str
    items: int
    basis: str | None
    created_at: datetime
    sent_at: datetime | None
    received_at: datetime | None
    deadline: datetime | None
    deadline_met: bool | None
    removed_at: datetime | None
    scrutiny: str | None
    reason: str | None


class ItemOut(BaseModel):
    item_id: str = Field(description="the sighting id, as platforms quote it in answers")
    url: str | None
    canonical_url: str | None
    sha256: str | None
    labels: dict[str, Any] | None
    status: str | None
    status_at: datetime | None


class EventOut(BaseModel):
    event: str
    from_state: str | None
    to_state: str
    at: datetime
    recorded_at: datetime
    source: str
    reason: str | None


class ReferralDetail(ReferralOut):
    item_list: list[ItemOut]
    events: list[EventOut]


class ItemAnswerIn(CheckedIn):
    item_id: str = Field(max_length=32, pattern=r"^[0-9]+$")
    status: str = Field(max_length=32, pattern=r"^[a-z_]+$")
    at: datetime | None = None


class AnswerIn(CheckedIn):
    status: str = Field(max_length=32, pattern=r"^[a-z_]+$", description="; ".join(RESPONSES))
    at: datetime | None = Field(default=None, description="when it happened (default: now)")
    reason: str | None = Field(default=None, max_length=4000)
    items: list[ItemAnswerIn] = Field(default_factory=list, max_length=10_000)


class AnswerOut(BaseModel):
    reference: str
    status: str
    from_state: str
    to_state: str
    duplicate: bool
    items: list[dict[str, Any]]


class BlockedOut(BaseModel):
    reference: str
    item_id: str
    message: str = Field(description="deconfliction hit: contact <agency> (never a reason)")


class SendOut(BaseModel):
    queued: int
    sent: int
    failed: int
    blocked: list[BlockedOut] | None = Field(
        default=None,
        description="referrals held back by another agency's hold (present only when any)",
    )
    job_id: int | None = Field(
        default=None,
        description="on PostgreSQL the sending runs as this job (`takedown jobs`): `sent` and "
        "`failed` are then 0 and the referrals' states tell the outcome",
    )


def _with_conflict(kwargs: dict[str, Any]) -> dict[str, Any]:
    responses = dict(kwargs["responses"])
    responses[409] = {"description": "The answer is not possible in the referral's state."}
    return {**kwargs, "responses": responses}


def _out(r: Referral, items: int) -> dict[str, Any]:
    return {
        "reference": r.reference,
        "kind": r.kind,
        "state": r.state,
        "addressee": r.addressee_key,
        "addressee_name": r.addressee_name,
        "addressee_kind": r.addressee_kind,
        "items": items,
        "basis": r.basis,
        "created_at": r.created_at,
        "sent_at": r.sent_at,
        "received_at": r.received_at,
        "deadline": r.deadline,
        "deadline_met": r.deadline_met,
        "removed_at": r.removed_at,
        "scrutiny": r.scrutiny,
        "reason": r.reason,
    }


def _visible(session: Session, query: Any, who: Principal) -> Any:
    """A platform's key sees only its own referrals; an agency's key those with an item it
    may see (see :mod:`takedown.access.visibility`)."""
    return query.where(referral_filter(session, Viewer.of(who)))


def _item_filter(session: Session, who: Principal) -> Any:
    """Items shown: all of a platform's own referral; an agency's visible sightings only."""
    if who.platform_key is not None:
        return ReferralItem.id.is_not(None)
    return ReferralItem.sighting_id.in_(visible_ids(session, Viewer.of(who)))


def _listing(
    app: App, who: Principal, limit: int, cursor: str | None, state: str | None, to: str | None
) -> Page[ReferralOut]:
    after = decode_cursor(cursor)
    with app.db.session() as session:
        query = (
            _visible(session, select(Referral), who).order_by(Referral.id.desc()).limit(limit + 1)
        )
        if after is not None:
            query = query.where(Referral.id < after)
        if state is not None:
            query = query.where(Referral.state == state)
        if to is not None:
            query = query.where(Referral.addressee_key == to)
        rows = list(session.scalars(query))
        counts = dict(
            session.execute(
                select(ReferralItem.referral_id, func.count())
                .where(
                    ReferralItem.referral_id.in_([r.id for r in rows]), _item_filter(session, who)
                )
                .group_by(ReferralItem.referral_id)
            ).all()
        )
        page, nxt = page_of(rows, limit, lambda r: r.id)
        data = [ReferralOut(**_out(r, counts.get(r.id, 0))) for r in page]
    return Page(data=data, next_cursor=nxt)


@router.get("/referrals", response_model=Page[ReferralOut], **scoped("referrals"))
def list_referrals(
    request: Request,
    who: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    state: StateFilter = None,
    addressee: Text200 = None,
) -> Page[ReferralOut]:
    """Referrals and removal orders, newest first, filtered by state and addressee."""
    return _listing(get_app(request), who, limit, cursor, state, addressee)


@router.get("/platform/referrals", response_model=Page[ReferralOut], **scoped("referrals:respond"))
def platform_referrals(
    request: Request,
    who: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    state: StateFilter = None,
) -> Page[ReferralOut]:
    """The platform side: the referrals addressed to the calling key's platform."""
    if who.platform_key is None:
        raise ApiError(403, "forbidden", "this route is for keys bound to a platform")
    return _listing(get_app(request), who, limit, cursor, state, None)


def _detail(app: App, who: Principal, reference: str) -> ReferralDetail:
    with app.db.session() as session:
        referral = session.scalar(
            _visible(session, select(Referral), who).where(Referral.reference == reference)
        )
        if referral is None:
            raise ApiError(404, "not_found", f"no referral {reference!r}")
        items = list(
            session.scalars(
                select(ReferralItem)
                .where(ReferralItem.referral_id == referral.id, _item_filter(session, who))
                .order_by(ReferralItem.id)
            )
        )
        events = list(
            session.scalars(
                select(ReferralEvent)
                .where(ReferralEvent.referral_id == referral.id)
                .order_by(ReferralEvent.id)
            )
        )
        return ReferralDetail(
            **_out(referral, len(items)),
            item_list=[
                ItemOut(
                    item_id=str(i.sighting_id),
                    url=i.url,
                    canonical_url=i.canonical_url,
                    sha256=i.sha256,
                    labels=i.labels,
                    status=i.status,
                    status_at=i.status_at,
                )
                for i in items
            ],
            events=[
                EventOut(
                    event=e.event,
                    from_state=e.from_state,
                    to_state=e.to_state,
                    at=e.at,
                    recorded_at=e.recorded_at,
                    source=e.source,
                    reason=e.reason,
                )
                for e in events
            ],
        )


@router.get("/referrals/{reference}", response_model=One[ReferralDetail], **scoped("referrals"))
def get_referral(request: Request, who: Caller, reference: Reference) -> One[ReferralDetail]:
    """One referral with its items and every state transition."""
    return One(data=_detail(get_app(request), who, reference))


@router.get(
    "/platform/referrals/{reference}",
    response_model=One[ReferralDetail],
    **scoped("referrals:respond"),
)
def get_platform_referral(
    request: Request, who: Caller, reference: Reference
) -> One[ReferralDetail]:
    """The platform side: one referral addressed to the calling key's platform."""
    if who.platform_key is None:
        raise ApiError(403, "forbidden", "this route is for keys bound to a platform")
    return One(data=_detail(get_app(request), who, reference))


def _answer(app: App, who: Principal, reference: str, body: AnswerIn) -> AnswerOut:
    now = datetime.now(UTC)
    at = (body.at or now).astimezone(UTC)
    if body.status not in RESPONSES:
        raise ApiError(422, "invalid_request", f"status must be one of {', '.join(RESPONSES)}")
    answers = []
    for item in body.items:
        if item.status not in ITEM_STATUSES:
            raise ApiError(
                422, "invalid_request", f"item status must be one of {', '.join(ITEM_STATUSES)}"
            )
        answers.append(ItemAnswer(item.item_id, item.status, (item.at or at).astimezone(UTC)))
    source = "api" if who.platform_key is not None else "operator"
    with app.db.session() as session:
        referral = session.scalar(
            _visible(session, select(Referral), who).where(Referral.reference == reference)
        )
        if referral is None:
            raise ApiError(404, "not_found", f"no referral {reference!r}")
        try:
            result = record(
                session,
                reference,
                body.status,
                at,
                reason=body.reason,
                source=source,
                items=answers,
            )
        except (UnknownReference, BadItem) as exc:
            raise ApiError(400, "bad_answer", str(exc)) from exc
        except IllegalTransition as exc:
            raise ApiError(409, "illegal_transition", str(exc)) from exc
        outcome = result.outcome
        return AnswerOut(
            reference=reference,
            status=body.status,
            from_state=outcome.from_state,
            to_state=outcome.to_state,
            duplicate=outcome.duplicate,
            items=result.items,
        )


@router.post(
    "/referrals/{reference}/answer",
    response_model=One[AnswerOut],
    **_with_conflict(scoped("referrals:respond")),
)
def answer_referral(
    request: Request, who: Caller, reference: Reference, body: AnswerIn
) -> One[AnswerOut]:
    """Answer a referral: acknowledged, removed, rejected (with reason), impossible, ...

    A platform key answers only its own referrals; an agency key records an answer received
    by another way. Repeating an answer is harmless (``duplicate: true``)."""
    return One(data=_answer(get_app(request), who, reference, body))


def _sendable(app: App, who: Principal) -> tuple[list[str], list[BlockedOut]]:
    """The caller's unsent referrals, minus those touching another agency's hold (each
    such attempt is a hit its owner is told of; the caller learns only whom to contact)."""
    from takedown.ops.hold_checks import check_referral

    ready: list[str] = []
    blocked: list[BlockedOut] = []
    with app.db.session() as session:
        # an agency sends only referrals all of whose items it may see: a referral drafted by
        # the operator that also holds another agency's items is the operator's to send
        foreign = select(ReferralItem.referral_id).where(
            ReferralItem.sighting_id.not_in(visible_ids(session, Viewer.of(who)))
        )
        unsent = list(
            session.scalars(
                _visible(session, select(Referral), who)
                .where(Referral.state.in_(("drafted", "issued")), Referral.id.not_in(foreign))
                .order_by(Referral.id)
            )
        )
        for referral in unsent:
            held = check_referral(
                session, referral.id, agency_id=who.agency_id, actor=f"api-key:{who.key_id}"
            )
            if held:
                blocked += [
                    BlockedOut(reference=referral.reference, item_id=str(sid), message=b.message)
                    for sid, b in sorted(held.items())
                ]
            else:
                ready.append(referral.reference)
    return ready, blocked


@router.post(
    "/referrals/send",
    response_model=One[SendOut],
    response_model_exclude_none=True,
    **scoped("referrals"),
)
async def send_referrals(request: Request, who: Caller) -> One[SendOut]:
    """Queue the caller's unsent referrals and send what is due now, through each addressee's
    channel (on PostgreSQL a ``referrals.send`` job sends them: its id is ``job_id``). A
    referral touching another agency's deconfliction hold is not queued: it is listed in
    ``blocked`` with ``deconfliction hit: contact <agency>``.

    A channel that is down leaves its referrals pending (retried with backoff), never lost."""
    from takedown.referrals.outbox import ChannelError, queue, send_due

    app = get_app(request)

    def run() -> SendOut:
        ready, blocked = _sendable(app, who)
        try:
            queued = queue(app, ready) if ready else 0
        except ChannelError as exc:
            raise ApiError(400, "channel", str(exc)) from exc
        if app.queued:  # PostgreSQL: a worker sends; the request does not wait for it
            job = app.jobs.submit("referrals.send")
            return SendOut(queued=queued, sent=0, failed=0, blocked=blocked or None, job_id=job)
        with app.db.session() as session:
            mine = set(session.scalars(_visible(session, select(Referral.reference), who)))
        report = send_due(app)
        return SendOut(  # counts of the caller's referrals only
            queued=queued,
            sent=sum(1 for r in report.sent if _reference(r) in mine),
            failed=sum(1 for r in report.failed if _reference(r) in mine),
            blocked=blocked or None,
        )

    return One(data=await run_in_threadpool(run))


def _reference(entry: Any) -> str | None:
    found = entry.get("reference") if isinstance(entry, dict) else None
    return found if isinstance(found, str) else None
