"""The outbox: queued deliveries, sent at least once, never lost.

Each (referral, channel) pair has one ``referral_delivery`` row with a delivery key that stays
the same across retries (webhook ``Idempotency-Key``, email ``Message-ID``, package folder), so
receivers can drop duplicates. A send happens in three steps, each its own transaction:

1. claim: the row goes ``pending -> sending`` (attempts + 1, claimed_at = now);
2. deliver, outside any transaction;
3. record: ``sending -> sent`` (and the referral ``-> sent``), or back to ``pending`` with the
   error and the next attempt time (exponential backoff, capped).

A process killed between 1 and 3 leaves the row ``sending``; once its lease
(``TAKEDOWN_REFERRAL_LEASE`` seconds) has passed it is sent again with the same key. That is
the one window where a receiver may see a delivery twice: at-least-once delivery with
idempotency keys, never zero times.

``referrals.send`` is the task that works the outbox (queued on PostgreSQL: any number of send
jobs, duplicated or retried after a crash, never send a delivery twice: each claim is a
compare-and-set on the delivery row, a ``sent`` row is never claimed again, and a row left
``sending`` by a killed worker waits for its lease before it is retried with the same key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.jobs import task
from takedown.plugins import referral_channels
from takedown.referrals.channels.base import Channel, DeliveryError, Envelope
from takedown.referrals.machine import ORDER, ORDER_DEADLINE, apply
from takedown.referrals.models import Referral, ReferralDelivery, ReferralItem
from takedown.store.models import utcnow

AUTO_ORDER = ("webhook", "email", "file")


class ChannelError(ValueError):
    """An unknown channel, or one that cannot carry a referral."""


@dataclass
class SendReport:
    sent: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)


def delivery_key(referral: Referral, channel: str) -> str:
    digest = hashlib.sha256(f"{referral.reference}|{channel}".encode()).hexdigest()[:24]
    return f"{referral.reference}-{channel}-{digest}"


def envelope(
    app: App, session: Session, referral: Referral, key: str, now: datetime | None = None
) -> Envelope:
    items = session.scalars(
        select(ReferralItem)
        .where(ReferralItem.referral_id == referral.id)
        .order_by(ReferralItem.id)
    )
    deadline = referral.deadline
    if referral.kind == ORDER and deadline is None and now is not None:
        deadline = now + ORDER_DEADLINE
    return Envelope(
        reference=referral.reference,
        kind=referral.kind,
        issued_at=referral.created_at,
        deadline=deadline,
        basis=referral.basis,
        addressee_kind=referral.addressee_kind,
        addressee_key=referral.addressee_key,
        addressee_name=referral.addressee_name,
        contact=dict(referral.contact or {}),
        delivery_key=key,
        callback_url=app.settings.referral_callback_url,
        items=[
            {
                "item_id": str(item.sighting_id),
                "url": item.url,
                "canonical_url": item.canonical_url,
                "sha256": item.sha256,
                "labels": list((item.labels or {}).get("labels", [])),
            }
            for item in items
        ],
    )


def choose_channel(app: App, session: Session, referral: Referral, wanted: str | None) -> str:
    channels = referral_channels()
    if wanted:
        if wanted not in channels:
            raise ChannelError(f"unknown channel {wanted!r}; known: {', '.join(sorted(channels))}")
        return wanted
    probe = envelope(app, session, referral, "probe")
    for name in (*AUTO_ORDER, *sorted(set(channels) - set(AUTO_ORDER))):
        channel = channels.get(name)
        if channel is not None and channel.unavailable(app, probe) is None:
            return name
    raise ChannelError(f"{referral.reference}: no channel can carry it")


def queue(app: App, references: list[str] | None = None, channel: str | None = None) -> int:
    """Queues a delivery for every unsent referral (or those named) without one."""
    count = 0
    with app.db.session() as session:
        query = select(Referral).where(Referral.state.in_(("drafted", "issued")))
        if references is not None:
            query = query.where(Referral.reference.in_(references))
        for referral in session.scalars(query.order_by(Referral.id)):
            name = choose_channel(app, session, referral, channel)
            exists = session.scalar(
                select(ReferralDelivery.id).where(
                    ReferralDelivery.referral_id == referral.id, ReferralDelivery.channel == name
                )
            )
            if exists is None:
                session.add(
                    ReferralDelivery(
                        referral_id=referral.id,
                        channel=name,
                        delivery_key=delivery_key(referral, name),
                        state="pending",
                        next_attempt_at=utcnow(),
                    )
                )
                count += 1
    return count


def backoff(app: App, attempts: int) -> timedelta:
    s = app.settings
    seconds = min(s.referral_backoff * (2 ** max(attempts - 1, 0)), s.referral_backoff_max)
    return timedelta(seconds=seconds)


def _claim(app: App, now: datetime, skip: set[int]) -> tuple[int, str, Envelope] | None:
    lease = timedelta(seconds=app.settings.referral_lease)
    with app.db.session() as session:
        due = or_(
            (ReferralDelivery.state == "pending") & (ReferralDelivery.next_attempt_at <= now),
            (ReferralDelivery.state == "sending") & (ReferralDelivery.claimed_at <= now - lease),
        )
        query = select(ReferralDelivery).where(due).order_by(ReferralDelivery.id).limit(1)
        if skip:
            query = query.where(ReferralDelivery.id.not_in(skip))
        row = session.scalar(query)
        if row is None:
            return None
        # Compare-and-set, so two senders never claim one row.
        claimed = session.execute(
            update(ReferralDelivery)
            .where(ReferralDelivery.id == row.id, ReferralDelivery.state == row.state)
            .where(ReferralDelivery.attempts == row.attempts)
            .values(state="sending", attempts=row.attempts + 1, claimed_at=now)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            skip.add(row.id)
            return _claim(app, now, skip) if len(skip) < 1000 else None
        referral = session.get(Referral, row.referral_id)
        assert referral is not None
        return (
            row.id,
            row.channel,
            envelope(
                app, session, referral, row.delivery_key, now if row.channel == "webhook" else None
            ),
        )


def send_due(app: App, *, limit: int | None = None) -> SendReport:
    """Delivers every due delivery once (failures are rescheduled, never dropped)."""
    report = SendReport()
    channels = referral_channels()
    skip: set[int] = set()
    while limit is None or len(report.sent) + len(report.failed) < limit:
        now = utcnow()
        claimed = _claim(app, now, skip)
        if claimed is None:
            break
        delivery_id, name, env = claimed
        skip.add(delivery_id)
        held = _held(app, env.reference)
        if held is not None:  # a hold placed after drafting: never sent while it stands
            _failed(app, delivery_id, held)
            report.failed.append({"reference": env.reference, "channel": name, "error": held})
            continue
        channel: Channel | None = channels.get(name)
        try:
            if channel is None:
                raise DeliveryError(f"channel {name!r} is not installed")
            receipt = channel.deliver(app, env)
        except DeliveryError as exc:
            _failed(app, delivery_id, str(exc))
            report.failed.append({"reference": env.reference, "channel": name, "error": str(exc)})
            continue
        except Exception as exc:  # a plugin's bug must not lose the delivery either
            error = f"{type(exc).__name__}: {exc}"
            _failed(app, delivery_id, error)
            report.failed.append({"reference": env.reference, "channel": name, "error": error})
            continue
        _sent(app, delivery_id, receipt, now)
        report.sent.append({"reference": env.reference, "channel": name, "receipt": receipt})
    return report


def _held(app: App, reference: str) -> str | None:
    """ "deconfliction hit: contact <agency>" when a hold blocks an item of the referral (the
    hold's owner is told of the hit; its reason is never part of the message)."""
    from takedown.ops.agencies import ReporterMap
    from takedown.ops.hold_checks import check_referral

    with app.db.session() as session:
        referral = session.scalar(select(Referral).where(Referral.reference == reference))
        if referral is None:
            return None
        agency = ReporterMap.load(session).agency_of(referral.created_by)
        blocked = check_referral(session, referral.id, agency_id=agency, actor=referral.created_by)
        return next(iter(blocked.values())).message if blocked else None


def _failed(app: App, delivery_id: int, error: str) -> None:
    with app.db.session() as session:
        row = session.get(ReferralDelivery, delivery_id)
        assert row is not None
        row.state = "pending"
        row.last_error = error[:2000]
        row.next_attempt_at = utcnow() + backoff(app, row.attempts)


def _sent(app: App, delivery_id: int, receipt: str, attempted_at: datetime) -> None:
    with app.db.session() as session:
        row = session.get(ReferralDelivery, delivery_id)
        assert row is not None
        now = utcnow()
        row.state, row.sent_at, row.receipt, row.last_error = "sent", now, receipt[:500], None
        referral = session.get(Referral, row.referral_id)
        assert referral is not None
        if referral.state in ("drafted", "issued"):
            apply(
                session,
                referral,
                "send",
                at=attempted_at,
                source="sender",
                detail={"channel": row.channel, "delivery_key": row.delivery_key},
            )
            if referral.kind == ORDER and row.channel == "webhook":
                # A 2xx answer to the signed delivery is the authenticated receipt; the
                # deadline sent in the body ran from the attempt.
                apply(
                    session,
                    referral,
                    "received",
                    at=attempted_at,
                    source="sender",
                    reason="webhook delivery accepted",
                )


@task("referrals.send")
def send_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """Deliver every due delivery of the outbox (at most ``limit`` when given)."""
    limit = args.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"limit must be a positive integer, not {limit!r}")
    report = send_due(app, limit=limit)
    return {"sent": report.sent, "failed": report.failed}
