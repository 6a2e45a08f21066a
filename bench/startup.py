"""Start-up time of the command line against a bare interpreter, in the same run.

    .venv/bin/python bench/startup.py [--runs 15] [--data DIR]

Prints the median wall time of ``python -c pass``, ``takedown --help``, ``takedown --help`` of
a group and a light database command (``agency list --json`` on a fresh data folder), each
with its ratio to the bare interpreter. With ``--data DIR`` (a folder the demo ran in) it also
times ``export stix`` and ``export misp`` of the demo's two operations and of everything.

Byte-code caching is left on for the child processes (a warm-up run writes the ``.pyc``
files), as on a user's machine; PYTHONDONTWRITEBYTECODE=1 would time the compiler instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, env=ENV, capture_output=True, check=True)  # warm-up: .pyc, disk cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=ENV, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--data", type=Path, help="A data folder the demo ran in.")
    args = parser.parse_args()
    takedown = str(BIN / "takedown")
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("takedown --help", [takedown, "--help"]),
            ("takedown infra --help", [takedown, "infra", "--help"]),
            ("takedown agency list --json", [takedown, "--data", tmp, "agency", "list", "--json"]),
        ]
        base = None
        for name, cmd in cases:
            seconds = wall(cmd, args.runs)
            base = base or seconds
            print(f"{name:<32} {seconds * 1000:8.0f} ms  {seconds / base:6.1f}x python -c pass")
    if args.data is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("stix", "misp"):
            for operation in ("Synthetic Action Day", "Synthetic Outlet Takedown", None):
                out = Path(tmp) / f"export.{kind}.json"
                cmd = [takedown, "--data", str(args.data), "export", kind, "--out", str(out)]
                if operation:
                    cmd += ["--operation", operation]
                seconds = wall(cmd, max(1, args.runs // 5))
                label = operation or "everything"
                size = out.stat().st_size / 1024
                print(f"export {kind} {label:<28} {seconds:6.2f} s  {size:8.0f} KiB")


if __name__ == "__main__":
    main()
