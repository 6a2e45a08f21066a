"""Store check results and keep ``Sighting.removed_at`` consistent.

Rule: ``removed_at`` is the earliest trustworthy removal time. A "removed" check sets it if
it is empty, or moves it earlier; an earlier time already set (by a platform confirmation or
an operator) is kept. A later "live" check after a removal is recorded with
``reinstated=True`` and never erases ``removed_at`` or earlier checks: history stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.store.models import Sighting, utcnow
from takedown.verify.checker import CheckResult
from takedown.verify.models import VerifyCheck

# backoff between checks of a sighting not yet removed: 1 h, 6 h, 24 h, then daily
SCHEDULE = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))


def record_check(
    session: Session, sighting: Sighting, result: CheckResult, at: datetime | None = None
) -> VerifyCheck:
    at = at or utcnow()
    reinstated = result.outcome == "live" and sighting.removed_at is not None
    check = VerifyCheck(
        sighting_id=sighting.id,
        checked_at=at,
        vantage=result.vantage,
        outcome=result.outcome,
        http_status=result.http_status,
        reason=result.reason[:2000],
        final_url=result.final_url,
        elapsed=result.elapsed,
        reinstated=reinstated,
    )
    session.add(check)
    if result.outcome == "removed" and (sighting.removed_at is None or at < sighting.removed_at):
        sighting.removed_at = at
        sighting.removal_source = "check"
    session.flush()
    return check


def due_sightings(
    session: Session, now: datetime | None = None, platform: str | None = None
) -> list[Sighting]:
    """Sightings with a URL, not removed, whose next check (per SCHEDULE) is due."""
    now = now or utcnow()
    query = select(Sighting).where(Sighting.removed_at.is_(None), Sighting.url.is_not(None))
    if platform:
        query = query.where(Sighting.platform_key == platform)
    due = []
    for sighting in session.scalars(query.order_by(Sighting.id)):
        count, last = session.execute(
            select(func.count(VerifyCheck.id), func.max(VerifyCheck.checked_at)).where(
                VerifyCheck.sighting_id == sighting.id
            )
        ).one()
        if last is None:
            due.append(sighting)
            continue
        interval = SCHEDULE[min(count - 1, len(SCHEDULE) - 1)]
        if last + interval <= now:
            due.append(sighting)
    return due


__all__ = ["SCHEDULE", "due_sightings", "record_check"]
