"""Benchmark the removal checker against a local server with realistic latencies.

A local aiohttp server (separate process) answers for many synthetic host names (Host header
routing through the checker's demo host map): 50-300 ms per answer, 5 % of hosts slow
(1-2 s), 10 % of items 404. The checker runs all URLs with a per-host limit; the baseline is a
naive sequential loop (one check at a time, same checker code) run on a sample and
extrapolated to the full count. Peak RSS of the checking process is sampled over time.

    .venv/bin/python bench/verify.py [--quick] [--urls N] [--hosts N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import socket
import threading
import time

import psutil
from aiohttp import web

from takedown.verify.checker import Checker, CheckerConfig


def _latency(host: str, path: str) -> float:
    h = int(hashlib.sha256(host.encode()).hexdigest()[:8], 16)
    p = int(hashlib.sha256(path.encode()).hexdigest()[:8], 16)
    if h % 20 == 0:
        return 1.0 + (p % 1000) / 1000
    return 0.05 + (p % 250) / 1000


async def _handle(request: web.Request) -> web.Response:
    await asyncio.sleep(_latency(request.host, request.path))
    if request.path.endswith("0"):
        return web.Response(status=404)
    return web.Response(text=f"<html><title>{request.path}</title>" + "x" * 2000 + "</html>")


def _serve(port: int) -> None:
    app = web.Application()
    app.router.add_get("/{tail:.*}", _handle)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, backlog=4096)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _concurrent(config: CheckerConfig, urls: list[str]) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    async with Checker(config) as checker:
        results = await checker.check_many(urls)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return time.perf_counter() - start, counts


async def _sequential(config: CheckerConfig, urls: list[str]) -> float:
    start = time.perf_counter()
    async with Checker(config) as checker:
        for url in urls:
            await checker.check(url)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--sample", type=int, default=100)
    args = parser.parse_args()
    if args.quick:
        args.urls, args.hosts, args.sample = 1000, 100, 30
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    config = CheckerConfig(
        host_map={"*.bench": ("127.0.0.1", port)},
        per_host_concurrency=2,
        timeout=10.0,
        soft404_probe=False,
        vantage="bench",
    )
    urls = [f"http://h{i % args.hosts}.bench/item/{i}" for i in range(args.urls)]
    proc = psutil.Process()
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        t0 = time.perf_counter()
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, proc.memory_info().rss))
            stop.wait(0.25)

    try:
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        elapsed, counts = asyncio.run(_concurrent(config, urls))
        stop.set()
        sampler.join()
        seq_sample = urls[: args.sample]
        seq = asyncio.run(_sequential(config, seq_sample))
    finally:
        server.terminate()
        server.join()
    rate = args.urls / elapsed
    seq_rate = len(seq_sample) / seq
    rss = [r for _, r in samples]
    quarter = max(1, len(rss) // 4)
    print(f"urls {args.urls} on {args.hosts} hosts, per-host concurrency 2, 50-300 ms latency")
    print(f"outcomes {counts}")
    print(f"concurrent: {elapsed:.1f} s, {rate:.0f} checks/s")
    print(
        f"sequential baseline: {len(seq_sample)} URLs in {seq:.1f} s, {seq_rate:.1f} checks/s "
        f"(extrapolated to {args.urls}: {args.urls / seq_rate:.0f} s)"
    )
    print(f"speed-up vs sequential: {rate / seq_rate:.0f}x")
    print(
        f"RSS MiB: start {rss[0] / 2**20:.0f}, peak {max(rss) / 2**20:.0f}, "
        f"first-quarter max {max(rss[:quarter]) / 2**20:.0f}, "
        f"last-quarter max {max(rss[-quarter:]) / 2**20:.0f} ({len(rss)} samples)"
    )


if __name__ == "__main__":
    main()
