"""Figures of referrals: removal rates and times per platform, addressee or language.

Time to removal = ``sighting.removed_at`` − the time the sighting's first referral was sent
(``referral.sent_at``). A sighting removed before the referral went out counts as removed in
0 s. Only sent referrals count ("referred"); drafts do not. Percentiles use linear
interpolation between closest ranks (``statistics.quantiles(..., method="inclusive")``).
Shares within 1 h / 24 h / 7 d are of all referred sightings, not of the removed ones.
An order missed its deadline when it was removed after it, or is still not removed (nor
paused) with its deadline past.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from takedown.app import App
from takedown.referrals.machine import ORDER
from takedown.referrals.models import Referral, ReferralItem
from takedown.store.models import Sighting, utcnow

GROUPINGS = ("platform", "addressee", "language")
WITHIN = (("1h", 3600.0), ("24h", 86400.0), ("7d", 7 * 86400.0))


@dataclass
class Group:
    key: str
    referred: int = 0
    removed: int = 0
    times: list[float] = field(default_factory=list)
    orders: int = 0
    orders_missed: int = 0
    still_live: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, live_limit: int | None = None) -> dict[str, Any]:
        times = sorted(self.times)
        out: dict[str, Any] = {
            "key": self.key,
            "referred": self.referred,
            "removed": self.removed,
            "share_removed": _share(self.removed, self.referred),
            "median_seconds": _quantile(times, 0.5),
            "p90_seconds": _quantile(times, 0.9),
        }
        for name, limit in WITHIN:
            out[f"share_within_{name}"] = _share(sum(t <= limit for t in times), self.referred)
        out["orders"] = self.orders
        out["orders_missed_deadline"] = self.orders_missed
        out["still_live"] = len(self.still_live)
        live = sorted(self.still_live, key=lambda r: -r["age_seconds"])
        out["still_live_items"] = live if live_limit is None else live[:live_limit]
        return out


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    # inclusive linear interpolation (same as statistics.quantiles(method="inclusive"))
    pos = q * (len(values) - 1)
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


def compute(app: App, by: str = "platform", now: datetime | None = None) -> list[Group]:
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}")
    now = now or utcnow()
    groups: dict[str, Group] = {}

    def group(key: str | None) -> Group:
        name = key or "(none)"
        if name not in groups:
            groups[name] = Group(name)
        return groups[name]

    with app.db.session() as session:
        first = (
            select(ReferralItem.sighting_id, func.min(Referral.sent_at).label("sent_at"))
            .join(Referral, Referral.id == ReferralItem.referral_id)
            .where(Referral.sent_at.is_not(None))
            .group_by(ReferralItem.sighting_id)
            .subquery()
        )
        # the addressee of the first sent referral of each sighting
        rows = session.execute(
            select(
                Sighting.id,
                Sighting.url,
                Sighting.platform_key,
                Sighting.language,
                Sighting.removed_at,
                first.c.sent_at,
                Referral.addressee_key,
            )
            .join(first, first.c.sighting_id == Sighting.id)
            .join(ReferralItem, ReferralItem.sighting_id == Sighting.id)
            .join(
                Referral,
                (Referral.id == ReferralItem.referral_id) & (Referral.sent_at == first.c.sent_at),
            )
        )
        seen: set[int] = set()
        for sid, url, platform, language, removed_at, sent_at, addressee in rows:
            if sid in seen:
                continue
            seen.add(sid)
            key = {"platform": platform, "addressee": addressee, "language": language}[by]
            g = group(key)
            g.referred += 1
            if removed_at is not None:
                g.removed += 1
                g.times.append(max((removed_at - sent_at).total_seconds(), 0.0))
            else:
                g.still_live.append(
                    {
                        "sighting_id": sid,
                        "url": url,
                        "referred_at": sent_at.isoformat(),
                        "age_seconds": max((now - sent_at).total_seconds(), 0.0),
                    }
                )
        orders = session.execute(
            select(
                Referral.id,
                Referral.addressee_key,
                Referral.state,
                Referral.deadline,
                Referral.deadline_met,
            ).where(Referral.kind == ORDER, Referral.sent_at.is_not(None))
        ).all()
        order_keys: dict[int, set[str]] = defaultdict(set)
        if by != "addressee":
            column = Sighting.platform_key if by == "platform" else Sighting.language
            for rid, value in session.execute(
                select(ReferralItem.referral_id, column)
                .join(Sighting, Sighting.id == ReferralItem.sighting_id)
                .join(Referral, Referral.id == ReferralItem.referral_id)
                .where(Referral.kind == ORDER)
            ):
                order_keys[rid].add(value or "(none)")
        for rid, addressee, state, deadline, met in orders:
            missed = met is False or (
                met is None
                and state in ("sent", "received")
                and deadline is not None
                and deadline < now
            )
            for key in [addressee] if by == "addressee" else sorted(order_keys[rid]):
                g = group(key)
                g.orders += 1
                g.orders_missed += int(missed)
    return sorted(groups.values(), key=lambda g: (-g.referred, g.key))


def figures(
    app: App, by: str = "platform", now: datetime | None = None, live_limit: int | None = 50
) -> dict[str, Any]:
    groups = compute(app, by, now)
    total = Group("(all)")
    for g in groups:
        total.referred += g.referred
        total.removed += g.removed
        total.times += g.times
        total.orders += g.orders
        total.orders_missed += g.orders_missed
        total.still_live += g.still_live
    result: dict[str, Any] = {
        "by": by,
        "groups": [g.as_dict(live_limit) for g in groups],
        "total": total.as_dict(live_limit),
    }
    if by != "addressee":  # an order with items on two platforms counts once in the total
        addressees = compute(app, "addressee", now)
        result["total"]["orders"] = sum(g.orders for g in addressees)
        result["total"]["orders_missed_deadline"] = sum(g.orders_missed for g in addressees)
    return result
