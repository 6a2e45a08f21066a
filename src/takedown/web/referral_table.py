"""The referrals page's figures: per addressee (pending, overdue, answered, removed share,
median time from sending to removal) and one page of the referral list."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from takedown.api.scope import Viewer, referral_filter, visible_ids
from takedown.app import App
from takedown.referrals.board import OPEN, UNSENT
from takedown.referrals.models import Referral, ReferralItem
from takedown.store.models import Sighting

PER_PAGE = 100


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def removals(app: App, viewer: Viewer) -> dict[str, tuple[int, int, list[float]]]:
    """Per addressee: items referred, items removed since, seconds from sending to removal."""
    out: dict[str, tuple[int, int, list[float]]] = {}
    with app.db.session() as session:
        rows = session.execute(
            select(Referral.addressee_key, Referral.sent_at, Sighting.removed_at)
            .join(ReferralItem, ReferralItem.referral_id == Referral.id)
            .join(Sighting, Sighting.id == ReferralItem.sighting_id)
            .where(
                referral_filter(session, viewer),
                ReferralItem.sighting_id.in_(visible_ids(session, viewer)),
            )
        ).all()
    for key, sent, removed in rows:
        items, gone, times = out.get(key, (0, 0, []))
        if removed is not None:
            gone += 1
            if sent is not None:
                times.append(max(0.0, (_aware(removed) - _aware(sent)).total_seconds()))
        out[key] = (items + 1, gone, times)
    return out


def addressee_rows(
    rows: list[dict[str, Any]], removed: dict[str, tuple[int, int, list[float]]], now: datetime
) -> list[dict[str, Any]]:
    """Per addressee, worst first (overdue, then lowest removed share)."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        row = out.setdefault(
            r["addressee"],
            {
                "key": r["addressee"],
                "addressee": r["addressee_name"],
                "referrals": 0,
                "pending": 0,
                "overdue": 0,
                "answered": 0,
            },
        )
        row["referrals"] += 1
        if r["state"] in UNSENT or r["state"] in OPEN:
            row["pending"] += 1
        else:
            row["answered"] += 1
        deadline = r["deadline"]
        if deadline is not None and _aware(deadline) < now and r["state"] in ("sent", "received"):
            row["overdue"] += 1
    for key, row in out.items():
        items, gone, times = removed.get(key, (0, 0, []))
        row["items"] = items
        row["removed"] = gone
        row["share"] = gone / items if items else None
        row["median"] = statistics.median(times) if times else None
    return sorted(
        out.values(),
        key=lambda r: (-r["overdue"], r["share"] if r["share"] is not None else 2.0, r["key"]),
    )
