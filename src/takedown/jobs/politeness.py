"""Polite URL checking across every worker: per-host concurrency and pace held in PostgreSQL.

A checker in one process limits itself with an ``asyncio.Semaphore`` per host; with many
workers on many machines the limit must be shared. Two tables do it (no home-made service):

- ``host_lease``: one row per (host, slot) taken; a check takes a free slot (or one whose lease
  expired: a killed worker never holds a slot for ever) and deletes it when done.
- ``host_pace``: the time the next request to the host may start; each check reserves its
  start by moving it forward by ``interval`` in one atomic statement, then sleeps until then.

Database calls run in a thread so that the event loop keeps serving other hosts.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, text

_TAKE = text(
    """
    INSERT INTO host_lease (host, slot, holder, expires_at)
    VALUES (:host, :slot, :holder, NOW() + make_interval(secs => :lease))
    ON CONFLICT (host, slot) DO UPDATE
        SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
        WHERE host_lease.expires_at < NOW()
    RETURNING slot
    """
)
_GIVE = text("DELETE FROM host_lease WHERE host = :host AND slot = :slot AND holder = :holder")
_PACE = text(
    """
    INSERT INTO host_pace (host, next_at) VALUES (:host, NOW() + make_interval(secs => :gap))
    ON CONFLICT (host) DO UPDATE
        SET next_at = GREATEST(host_pace.next_at, NOW()) + make_interval(secs => :gap)
    RETURNING next_at - make_interval(secs => :gap) AS start_at, NOW() AS now
    """
)


class SharedHostGate:
    """``async with gate(host):`` waits for a shared slot and for the host's pace."""

    def __init__(
        self,
        engine: Engine,
        *,
        concurrency: int,
        interval: float,
        lease: float = 120.0,
        poll: float = 0.05,
    ) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("shared host limits need PostgreSQL")
        self.engine = engine
        self.concurrency = concurrency
        self.interval = interval
        self.lease = lease
        self.poll = poll
        self.holder = secrets.token_hex(8)

    def _take(self, host: str) -> int | None:
        with self.engine.begin() as conn:
            for slot in range(self.concurrency):
                got = conn.execute(
                    _TAKE, {"host": host, "slot": slot, "holder": self.holder, "lease": self.lease}
                ).first()
                if got is not None:
                    return int(got.slot)
        return None

    def _give(self, host: str, slot: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(_GIVE, {"host": host, "slot": slot, "holder": self.holder})

    def reserve(self, host: str) -> tuple[datetime, float]:
        """The start this request is given (database time) and the seconds to wait for it."""
        with self.engine.begin() as conn:
            row = conn.execute(_PACE, {"host": host, "gap": self.interval}).one()
        start: datetime = row.start_at.astimezone(UTC)
        now: datetime = row.now.astimezone(UTC)
        return start, max(0.0, (start - now).total_seconds())

    @asynccontextmanager
    async def __call__(self, host: str) -> AsyncIterator[None]:
        slot = await asyncio.to_thread(self._take, host)
        while slot is None:
            await asyncio.sleep(self.poll)
            slot = await asyncio.to_thread(self._take, host)
        try:
            if self.interval > 0:
                _start, wait = await asyncio.to_thread(self.reserve, host)
                await asyncio.sleep(wait)
            yield
        finally:
            await asyncio.to_thread(self._give, host, slot)
