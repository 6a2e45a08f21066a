"""Login brute-force protection for the workspace (docs/security.md, "Login throttling").

Failed logins are rows in ``login_failure`` (so the limit holds across processes and workers
sharing the database). Before a password is even checked:

* an **account** with ``PER_ACCOUNT`` failures in the last ``WINDOW`` is refused (429 with
  ``Retry-After``) — whatever address the attempts come from;
* an **address** with ``PER_ADDRESS`` failures in the last ``WINDOW`` is refused — whatever
  usernames it tries (password spraying).

A successful login clears the account's failures. Every failure, refusal and success is an
audit event with an actor (``login:<username>@<address>``). The address is the peer uvicorn
reports, i.e. the client's when ``serve --trusted-proxies`` names the proxy (docs/operations.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select

from takedown.app import App
from takedown.store import audit
from takedown.store.models import LoginFailure

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 10
PER_ADDRESS = 50


def actor_of(username: str, address: str) -> str:
    return f"login:{username[:100]}@{address[:64]}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def retry_after(app: App, username: str, address: str) -> int | None:
    """Seconds until this account and address may try again, or None if they may now."""
    now = datetime.now(UTC)
    since = now - WINDOW
    waits = []
    with app.db.session() as session:
        for column, value, limit in (
            (LoginFailure.username, username[:200], PER_ACCOUNT),
            (LoginFailure.address, address[:64], PER_ADDRESS),
        ):
            times = list(
                session.scalars(
                    select(LoginFailure.failed_at)
                    .where(column == value, LoginFailure.failed_at > since)
                    .order_by(LoginFailure.failed_at.desc())
                    .limit(limit)
                )
            )
            if len(times) >= limit:  # free again when the oldest of the last `limit` expires
                waits.append(_aware(times[-1]) + WINDOW - now)
        if waits:
            with audit.acting_as(actor_of(username, address)):
                audit.record(session.connection(), "login.throttled", f"user:{username[:80]}")
    if not waits:
        return None
    return max(1, int(max(waits).total_seconds()) + 1)


def failed(app: App, username: str, address: str) -> None:
    now = datetime.now(UTC)
    with app.db.session() as session, audit.acting_as(actor_of(username, address)):
        session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - WINDOW))
        session.execute(
            insert(LoginFailure).values(
                username=username[:200], address=address[:64], failed_at=now
            )
        )
        audit.record(session.connection(), "login.failed", f"user:{username[:80]}")


def succeeded(app: App, username: str, address: str) -> None:
    with app.db.session() as session, audit.acting_as(actor_of(username, address)):
        session.execute(delete(LoginFailure).where(LoginFailure.username == username[:200]))
        audit.record(session.connection(), "login", f"user:{username[:80]}")


def recent_failures(app: App, username: str | None = None, address: str | None = None) -> int:
    since = datetime.now(UTC) - WINDOW
    with app.db.session() as session:
        query = select(func.count()).where(LoginFailure.failed_at > since)
        if username is not None or address is not None:
            query = query.where(
                or_(LoginFailure.username == username, LoginFailure.address == address)
            )
        return int(session.scalar(query) or 0)


__all__ = ["PER_ACCOUNT", "PER_ADDRESS", "WINDOW", "LoginFailure", "failed", "retry_after"]
