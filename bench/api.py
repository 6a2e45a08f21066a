"""Match lookup over HTTP vs in-process, on a PDQ bank of 1M entries (--quick: 50k).

    .venv/bin/python bench/api.py [--entries 1000000] [--seconds 20] [--concurrency 8]
                                  [--workers 1,2] [--batch 100] [--quick] [--json]
                                  [--load auto|wrk|httpx]
                                  [--profile PATH]

Builds a bank of synthetic PDQ hashes on the embedded default (SQLite), then measures:

* in-process: ``LookupService.by_hash`` (the same code the route calls), one thread;
* HTTP: ``takedown serve``'s app under uvicorn in its own process, loaded from a second
  process on loopback (``--concurrency`` connections, keep-alive, API-key auth on every
  request): requests/s, p50 and p99 latency. The single-lookup load comes from ``wrk`` when
  it is installed (``apt install wrk``; ``--load wrk|httpx`` to choose): a Python client costs
  about as much CPU per request as the server and, on a 2-core machine, takes it from the
  server; the batch run uses httpx;
* CPU time (user + system) per request of the server process and per in-process lookup:
  a cost that other load on the machine disturbs far less than requests/s;
* resident memory of the server process after the run;
* the machine's 1-minute load average before and after (the figures are only comparable
  between runs at similar load).

* the batch route (``POST /lookup/batch``, ``--batch`` hashes per request, same connections):
  hashes/s, CPU per hash, and its ratio to the in-process rate.

Queries: half near a bank entry (0-20 bits flipped, a match), half random (no match).
Ratios printed: HTTP requests/s over in-process lookups/s (per core: over the in-process rate
times the cores the server processes may use), and the CPU ratio: in-process CPU per lookup
over server CPU per request, which is what the per-core ratio would be on an idle machine.
``--profile PATH`` runs the one-process server under cProfile (main thread only: the lookups
themselves run in threads; for those, a sampling profiler such as py-spy with ``--gil``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def flip(rng: np.random.Generator, rows: np.ndarray, most: int) -> np.ndarray:
    out = rows.copy()
    counts = rng.integers(0, most + 1, size=len(out))
    for k in range(most):
        chosen = np.nonzero(counts > k)[0]
        bit = rng.integers(0, 256, size=len(chosen))
        out[chosen, bit // 8] ^= (1 << (bit % 8)).astype(np.uint8)
    return out


def to_hex(rows: np.ndarray) -> list[str]:
    return [bytes(r).hex() for r in rows]


def build(data: Path, n: int, seed: int = 7) -> tuple[list[str], str]:
    from sqlalchemy import insert

    from takedown.api.auth import create_key
    from takedown.app import App
    from takedown.config import Settings
    from takedown.matching.banks import create_bank
    from takedown.store.models import BankEntry

    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 256, (max(1, n // 10), 32), dtype=np.uint8)
    values = flip(rng, np.repeat(bases, 10, axis=0)[:n], 20)
    app = App(Settings(data=data))
    bank = create_bank(app, "bench", description="synthetic PDQ bank")
    hexes = sorted(set(to_hex(values)))
    with app.db.engine.begin() as conn:
        for start in range(0, len(hexes), 50_000):
            conn.execute(
                insert(BankEntry),
                [
                    {
                        "bank_id": bank.id,
                        "signal_type": "pdq",
                        "value": v,
                        "labels": {"outlet": "synthetic"},
                        "status": "active",
                    }
                    for v in hexes[start : start + 50_000]
                ],
            )
    key = create_key(app, "bench", ["lookup"], agency="bench").secret
    near = flip(rng, values[rng.integers(0, len(values), size=500)], 20)
    far = rng.integers(0, 256, (500, 32), dtype=np.uint8)
    queries = [q for pair in zip(to_hex(near), to_hex(far), strict=True) for q in pair]
    app.close()
    return queries, key


def percentiles(ms: list[float]) -> dict[str, float]:
    arr = np.asarray(ms)
    return {"p50_ms": float(np.percentile(arr, 50)), "p99_ms": float(np.percentile(arr, 99))}


def in_process(data: Path, queries: list[str], seconds: float) -> dict[str, Any]:
    from takedown.api.service import LookupService
    from takedown.app import App
    from takedown.config import Settings

    app = App(Settings(data=data))
    service = LookupService(app)
    start = time.perf_counter()
    service.warm()
    build_s = time.perf_counter() - start
    for q in queries[:20]:  # first lookups load lazily built stages and compile kernels
        service.by_hash("pdq", [q], None)
    times: list[float] = []
    matched = 0
    cpu_start = time.process_time()
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        q = queries[i % len(queries)]
        t0 = time.perf_counter()
        result = service.by_hash("pdq", [q], None)
        times.append((time.perf_counter() - t0) * 1000)
        matched += bool(result.bank_hits)
        i += 1
    cpu = time.process_time() - cpu_start
    app.close()
    total = sum(times) / 1000
    return {
        "lookups": len(times),
        "per_s": len(times) / total,
        "matched_share": matched / len(times),
        "index_build_s": build_s,
        "cpu_ms_per_lookup": cpu * 1000 / max(1, len(times)),
        **percentiles(times),
    }


def client(
    url: str, key: str, queries: list[str], seconds: float, concurrency: int, batch: int = 0
) -> None:
    """Runs in the second process: prints one JSON line with latencies. ``batch``: that many
    hashes per ``POST /lookup/batch`` request instead of one ``GET /lookup`` each."""
    import asyncio

    import httpx

    async def worker(
        http: httpx.AsyncClient, offset: int, end: float, out: list[float], bad: list[int]
    ) -> None:
        i = offset
        while time.perf_counter() < end:
            auth = {"Authorization": f"Bearer {key}"}
            t0 = time.perf_counter()
            if batch:
                start = (i * batch) % len(queries)
                chunk = (queries[start:] + queries)[:batch]
                response = await http.post(
                    "/api/v1/lookup/batch",
                    json={"signal_type": "pdq", "hashes": [[q] for q in chunk]},
                    headers=auth,
                )
            else:
                response = await http.get(
                    "/api/v1/lookup",
                    params={"signal_type": "pdq", "value": queries[i % len(queries)]},
                    headers=auth,
                )
            out.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                bad.append(response.status_code)
            i += concurrency

    async def main() -> dict[str, Any]:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
            out: list[float] = []
            bad: list[int] = []
            start = time.perf_counter()
            end = start + seconds
            await asyncio.gather(*(worker(http, k, end, out, bad) for k in range(concurrency)))
            elapsed = time.perf_counter() - start
        return {
            "requests": len(out),
            "hashes": len(out) * max(1, batch),
            "elapsed": elapsed,
            "errors": len(bad),
            "ms": out,
        }

    print(json.dumps(asyncio.run(main())))


WRK_SCRIPT = """
local queries = {%(queries)s}
local i = %(offset)d
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/lookup?signal_type=pdq&value=" .. queries[(i %% #queries) + 1],
                    {["Authorization"] = "Bearer %(key)s"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\": %%d, \\"elapsed\\": %%f, \\"errors\\": %%d, "
    .. "\\"p50_ms\\": %%f, \\"p99_ms\\": %%f}\\n",
    summary.requests, summary.duration / 1e6,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk_client(
    url: str, key: str, queries: list[str], seconds: float, concurrency: int
) -> dict[str, Any]:
    """The single-lookup load from ``wrk`` (C, one thread): a Python client spends about as
    much CPU per request as the server, and on a 2-core machine it takes that from the
    server. Non-2xx answers count as errors; latency percentiles are wrk's."""
    lua = WRK_SCRIPT % {
        "queries": ", ".join(f'"{q}"' for q in queries),
        "offset": 0,
        "key": key,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(lua)
    try:
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s"]
        done = subprocess.run(
            [*command, "-s", handle.name, url], capture_output=True, text=True, check=True
        )
    finally:
        os.unlink(handle.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRKJSON "))
    out: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
    out["hashes"] = out["requests"]
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def over_http(
    data: Path,
    queries: list[str],
    key: str,
    seconds: float,
    concurrency: int,
    workers: int = 1,
    profile: str | None = None,
    batch: int = 0,
    use_wrk: bool = False,
) -> dict[str, Any]:
    import httpx
    import psutil  # type: ignore[import-untyped]

    port = free_port()
    env = {**os.environ, "TAKEDOWN_DATA": str(data)}
    # --profile: the (single) server process runs under cProfile, written out when it stops
    profiler = ["-m", "cProfile", "-o", profile] if profile and workers == 1 else []
    server = subprocess.Popen(
        [
            sys.executable,
            *profiler,
            "-m",
            "uvicorn",
            "--factory",
            "takedown.api.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
            "--timeout-worker-healthcheck",
            "300",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                warm = httpx.get(
                    f"{url}/api/v1/lookup",
                    params={"signal_type": "pdq", "value": queries[0]},
                    headers={"X-API-Key": key},
                    timeout=600,
                )
                warm.raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        proc = psutil.Process(server.pid)
        if workers > 1:  # every worker process answers (and loads the index) before timing
            for _ in range(workers * 8):
                httpx.get(
                    f"{url}/api/v1/lookup",
                    params={"signal_type": "pdq", "value": queries[0]},
                    headers={"X-API-Key": key},
                    timeout=600,
                )

        def tree() -> list[Any]:
            return [proc, *proc.children(recursive=True)]

        def cpu_now() -> float:
            return float(sum(sum(p.cpu_times()[:2]) for p in tree()))

        def load(size: int) -> dict[str, Any]:
            if size == 0 and use_wrk:
                return wrk_client(url, key, queries, seconds, concurrency)
            payload = json.dumps({"url": url, "key": key, "queries": queries})
            command = [sys.executable, __file__, "--client", "--seconds", str(seconds)]
            command += ["--concurrency", str(concurrency), "--batch", str(size)]
            done = subprocess.run(
                command, input=payload, capture_output=True, text=True, check=True
            )
            out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            out.update(percentiles(out.pop("ms")))
            return out

        cpu_before = cpu_now()
        result = load(0)
        cpu = cpu_now() - cpu_before
        rss = sum(p.memory_info().rss for p in tree())
        batched: dict[str, Any] | None = None
        if batch:
            cpu_before = cpu_now()
            many = load(batch)
            batch_cpu = cpu_now() - cpu_before
            batched = {
                "hashes_per_request": batch,
                "requests": many["requests"],
                "hashes_per_s": many["hashes"] / many["elapsed"],
                "errors": many["errors"],
                "server_cpu_ms_per_hash": batch_cpu * 1000 / max(1, many["hashes"]),
                "p50_ms": many["p50_ms"],
                "p99_ms": many["p99_ms"],
            }
    finally:
        # SIGINT: uvicorn re-raises the signal it stopped on, and only SIGINT's default
        # (KeyboardInterrupt) lets cProfile write its file
        server.send_signal(signal.SIGINT if profiler else signal.SIGTERM)
        server.wait(timeout=60)
    return {
        "requests": result["requests"],
        "per_s": result["requests"] / result["elapsed"],
        "errors": result["errors"],
        "concurrency": concurrency,
        "workers": workers,
        "server_rss_mib": rss / 2**20,
        # CPU seconds the server spent per request (user + system): less sensitive to other
        # load on the machine than requests/s
        "server_cpu_ms_per_request": cpu * 1000 / max(1, result["requests"]),
        "client": "wrk" if use_wrk else "httpx",
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "batch": batched,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="50k entries, 5 s per run")
    parser.add_argument("--workers", default="1", help="uvicorn worker counts, e.g. 1,2")
    parser.add_argument(
        "--batch",
        type=int,
        default=100,
        help="hashes per POST /lookup/batch request in the batch run (0: no batch run)",
    )
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="client of the single-lookup run: wrk (C; apt install wrk) or httpx (Python); "
        "auto: wrk when installed",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--profile", metavar="PATH", help="cProfile the one-process server into PATH (pstats)"
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        spec = json.loads(sys.stdin.read())
        client(
            spec["url"], spec["key"], spec["queries"], args.seconds, args.concurrency, args.batch
        )
        return
    if args.quick:
        args.entries, args.seconds = 50_000, 5.0
    use_wrk = args.load == "wrk" or (args.load == "auto" and shutil.which("wrk") is not None)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="takedown-bench-api-") as folder:
        data = Path(folder) / "data"
        t0 = time.perf_counter()
        queries, key = build(data, args.entries)
        built = time.perf_counter() - t0
        local = in_process(data, queries, args.seconds)
        remotes = [
            over_http(
                data,
                queries,
                key,
                args.seconds,
                args.concurrency,
                int(n),
                args.profile,
                max(0, min(args.batch, 1000)),
                use_wrk,
            )
            for n in args.workers.split(",")
        ]
    for remote in remotes:
        remote["ratio_http_over_in_process"] = remote["per_s"] / local["per_s"]
        # per core: against the in-process rate times the cores the server may use
        cores = min(remote["workers"], os.cpu_count() or 1)
        remote["ratio_per_core"] = remote["per_s"] / (local["per_s"] * cores)
        remote["cpu_ratio"] = local["cpu_ms_per_lookup"] / remote["server_cpu_ms_per_request"]
        if remote["batch"]:
            remote["batch"]["cpu_ratio"] = (
                local["cpu_ms_per_lookup"] / remote["batch"]["server_cpu_ms_per_hash"]
            )
            remote["batch"]["ratio_per_core"] = remote["batch"]["hashes_per_s"] / (
                local["per_s"] * cores
            )
    out = {
        "entries": args.entries,
        "load_1min": [load_before, os.getloadavg()[0]],  # the machine's load around the run
        "bank_load_s": built,
        "in_process": local,
        "http": remotes,
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"PDQ bank: {args.entries:,} entries (loaded in {built:.1f} s)")
    print(f"load average (1 min) before / after: {load_before:.2f} / {out['load_1min'][1]:.2f}")
    print(
        f"in-process lookup: {local['per_s']:.0f}/s  p50 {local['p50_ms']:.2f} ms  "
        f"p99 {local['p99_ms']:.2f} ms  (index build {local['index_build_s']:.1f} s, "
        f"{local['matched_share']:.0%} matched)"
    )
    for remote in remotes:
        print(
            f"HTTP lookup ({remote['client']}), {remote['workers']} server process(es), "
            f"{remote['concurrency']} connections: {remote['per_s']:.0f} req/s  p50 {remote['p50_ms']:.2f} ms  "
            f"p99 {remote['p99_ms']:.2f} ms  errors {remote['errors']}; CPU per request "
            f"{remote['server_cpu_ms_per_request']:.2f} ms (in-process lookup "
            f"{local['cpu_ms_per_lookup']:.2f} ms); RSS {remote['server_rss_mib']:.0f} MiB; "
            f"ratio {remote['ratio_http_over_in_process']:.2f}, per core "
            f"{remote['ratio_per_core']:.2f}, CPU ratio {remote['cpu_ratio']:.2f}"
        )
        if remote["batch"]:
            many = remote["batch"]
            print(
                f"  batch, {many['hashes_per_request']} hashes per request: "
                f"{many['hashes_per_s']:.0f} hashes/s  p50 {many['p50_ms']:.1f} ms  p99 "
                f"{many['p99_ms']:.1f} ms per request  errors {many['errors']}; CPU per hash "
                f"{many['server_cpu_ms_per_hash']:.2f} ms; per core {many['ratio_per_core']:.2f} "
                f"of in-process, CPU ratio {many['cpu_ratio']:.2f}"
            )


if __name__ == "__main__":
    main()
