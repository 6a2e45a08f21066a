"""HMA-compatible lookup (``/api/hma/m/lookup``) vs ``/api/v1/lookup``, same server, same run.

    .venv/bin/python bench/hma_api.py [--entries 200000] [--seconds 10] [--concurrency 8]
                                      [--rounds 2] [--quick] [--json]

Builds a PDQ bank of synthetic hashes (``bench/api.py``'s builder) on the embedded default
(SQLite), starts ``takedown serve``'s app under uvicorn in its own process and loads it from
this process on loopback (httpx, ``--concurrency`` keep-alive connections, API key on every
request). The two routes are measured in alternating rounds (v1, HMA, v1, HMA …) so that
drifting load on the machine hits both alike; the ratio printed is HMA requests/s over v1's.
Both answer the same lookup through the same shared matcher: the difference is the answer's
shape (HMA's matches by bank vs v1's bank matches with labels, bank metadata and evidence).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from api import build, free_port, percentiles

ROUTES = {
    "v1": ("/api/v1/lookup", "value"),
    "hma": ("/api/hma/m/lookup", "signal"),
}


async def load(
    url: str, key: str, route: str, queries: list[str], seconds: float, concurrency: int
) -> dict[str, Any]:
    import httpx

    path, param = ROUTES[route]
    out: list[float] = []
    bad: list[int] = []

    async def worker(http: httpx.AsyncClient, offset: int, end: float) -> None:
        i = offset
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            response = await http.get(
                path,
                params={"signal_type": "pdq", param: queries[i % len(queries)]},
                headers={"Authorization": f"Bearer {key}"},
            )
            out.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                bad.append(response.status_code)
            i += concurrency

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        start = time.perf_counter()
        end = start + seconds
        await asyncio.gather(*(worker(http, k, end) for k in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"requests": len(out), "elapsed": elapsed, "errors": len(bad), "ms": out}


def serve(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "--factory", "takedown.api.app:app_from_env",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            "--no-access-log",
        ],
        env={**os.environ, "TAKEDOWN_DATA": str(data)},
    )  # fmt: skip
    return server, f"http://127.0.0.1:{port}"


def warm(url: str, key: str, query: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 300
    for route, (path, param) in ROUTES.items():
        while True:
            try:
                got = httpx.get(
                    f"{url}{path}",
                    params={"signal_type": "pdq", param: query},
                    headers={"X-API-Key": key},
                    timeout=600,
                )
                got.raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        print(f"warm: {route} answered", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per route per round")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="20k entries, 3 s, 2 rounds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.seconds, args.rounds = 20_000, 3.0, 2
    load_before = os.getloadavg()[0]
    totals: dict[str, dict[str, Any]] = {
        r: {"requests": 0, "elapsed": 0.0, "errors": 0, "ms": []} for r in ROUTES
    }
    with tempfile.TemporaryDirectory(prefix="takedown-bench-hma-") as folder:
        data = Path(folder) / "data"
        queries, key = build(data, args.entries)
        server, url = serve(data)
        try:
            warm(url, key, queries[0], server)
            for _ in range(args.rounds):
                for route in ROUTES:
                    got = asyncio.run(
                        load(url, key, route, queries, args.seconds, args.concurrency)
                    )
                    for field in ("requests", "elapsed", "errors"):
                        totals[route][field] += got[field]
                    totals[route]["ms"].extend(got["ms"])
        finally:
            server.terminate()
            server.wait(timeout=30)
    out: dict[str, Any] = {
        "entries": args.entries,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "load_1min": [load_before, os.getloadavg()[0]],
    }
    for route, got in totals.items():
        out[route] = {
            "requests": got["requests"],
            "per_s": got["requests"] / got["elapsed"],
            "errors": got["errors"],
            **percentiles(got["ms"]),
        }
    out["ratio_hma_over_v1"] = out["hma"]["per_s"] / out["v1"]["per_s"]
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"PDQ bank: {args.entries:,} entries; {args.concurrency} connections; {args.rounds} rounds"
    )
    print(f"load average (1 min) before / after: {load_before:.2f} / {out['load_1min'][1]:.2f}")
    for route in ROUTES:
        r = out[route]
        print(
            f"{route:>4}: {r['per_s']:.0f} req/s  p50 {r['p50_ms']:.2f} ms  "
            f"p99 {r['p99_ms']:.2f} ms  errors {r['errors']}"
        )
    print(f"ratio HMA / v1 (requests/s): {out['ratio_hma_over_v1']:.2f}")


if __name__ == "__main__":
    main()
