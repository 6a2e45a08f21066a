"""Per-host limits shared through PostgreSQL hold across checkers that share nothing else."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import text

from takedown.jobs.politeness import SharedHostGate
from takedown.store.db import make_engine
from takedown.verify.checker import Checker, CheckerConfig


class _Server:
    """A loopback site that records how many requests it serves at once and when each starts."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.starts: list[float] = []
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        self.active += 1
        self.peak = max(self.peak, self.active)
        self.starts.append(time.monotonic())
        await asyncio.sleep(0.5)
        self.active -= 1
        return web.Response(text="<html>an item that is still online, described</html>")

    async def _main(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> _Server:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Any]:
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM host_lease"))
        conn.execute(text("DELETE FROM host_pace"))
    yield engine
    engine.dispose()


def _worker(port: int, gate: SharedHostGate | None, count: int, errors: list[str]) -> None:
    config = CheckerConfig(
        host_map={"*.test": ("127.0.0.1", port)},
        per_host_concurrency=2,
        retries=0,
        soft404_probe=False,
        timeout=20.0,
        host_gate=gate,
    )

    async def go() -> None:
        async with Checker(config) as checker:
            results = await checker.check_many([f"http://site.test/item/{i}" for i in range(count)])
        errors.extend(r.reason for r in results if r.outcome != "live")

    asyncio.run(go())


def _two_workers(port: int, make_gate: Any) -> list[str]:
    errors: list[str] = []
    threads = [
        threading.Thread(target=_worker, args=(port, make_gate(), 6, errors)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_two_workers_without_shared_limits_exceed_the_per_host_limit() -> None:
    with _Server() as server:
        assert _two_workers(server.port, lambda: None) == []
    assert server.peak > 2  # each process keeps its own 2: the site sees up to 4


def test_shared_limits_hold_concurrency_across_workers(pg_engine: Any) -> None:
    def gate() -> SharedHostGate:
        return SharedHostGate(pg_engine, concurrency=2, interval=0)

    with _Server() as server:
        assert _two_workers(server.port, gate) == []
    assert server.peak <= 2 and len(server.starts) == 12
    with pg_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM host_lease")) == 0  # all given back


def test_one_pace_per_host_whoever_asks(pg_engine: Any) -> None:
    gates = [SharedHostGate(pg_engine, concurrency=2, interval=0.25) for _ in range(2)]
    starts = sorted(gates[i % 2].reserve("paced.test")[0] for i in range(8))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.25 for gap in gaps), gaps  # database times, not wall-clock timing
    other = gates[0].reserve("other.test")[0]
    assert other < starts[-1]  # another host has its own pace


def test_a_lease_left_by_a_killed_worker_expires(pg_engine: Any) -> None:
    with pg_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO host_lease (host, slot, holder, expires_at) "
                "VALUES ('dead.test', 0, 'killed', NOW() - INTERVAL '1 second'), "
                "('dead.test', 1, 'alive', NOW() + INTERVAL '1 hour')"
            )
        )
    gate = SharedHostGate(pg_engine, concurrency=2, interval=0)
    assert gate._take("dead.test") == 0  # the expired slot, not the live one
    assert gate._take("dead.test") is None
