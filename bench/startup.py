"""Start-up time of the command line against a bare interpreter, in the same run.

    .venv/bin/python bench/startup.py [--runs 15] [--data DIR] [--collector]

Prints the median wall and CPU time of ``python -c pass``, ``takedown --help``, the ``--help``
of groups whose commands use numba (``bank``, ``sightings``, ``text``) and light commands that
open an existing SQLite store (``operation list``, ``referrals list``, ``bank list``,
``sightings``, ``jobs``, ``agency list``, all ``--json``; the store is created and migrated
once before timing, so no run pays for the migrations), each with its ratio to the bare
interpreter. With ``--data DIR`` (a folder the demo ran in) the light commands read that
store instead, and ``export stix`` and ``export misp`` of the demo's two operations and of
everything are timed too. With ``--collector`` each light command is also run, alternately,
through ``main`` with Python's garbage collector on throughout: the script pauses it while the
command starts (``takedown.cli.run``), and this pairs the two on the same machine moment.

Where the time goes: ``.venv/bin/python -X importtime -c "import sys; from takedown.cli import
main; main(sys.argv[1:])" --data DIR operation list --json 2> imports.txt`` (cumulative
microseconds per module, nested by who imported it).

Byte-code caching is left on for the child processes (a warm-up run writes the ``.pyc``
files), as on a user's machine; PYTHONDONTWRITEBYTECODE=1 would time the compiler instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
#: Light commands that open the database (timed against an existing store).
LIGHT = (
    "operation list",
    "referrals list",
    "bank list",
    "sightings",
    "jobs",
    "agency list",
)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system of the child) of ``runs`` runs; the
    CPU time is the steadier figure on a shared, loaded machine."""
    subprocess.run(cmd, env=ENV, capture_output=True, check=True)  # warm-up: .pyc, disk cache
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(cmd, env=ENV, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def paired(store: str, light: str, runs: int) -> None:
    """One light command run by the ``takedown`` script (collector paused while it starts)
    and by ``main`` directly (collector on), alternately, so both see the same machine."""
    script = [str(BIN / "takedown")]
    plain = [sys.executable, "-c", "from takedown.cli import main; main()"]
    args = ["--data", store, *light.split(), "--json"]
    cpu: dict[str, list[float]] = {"paused": [], "on": []}
    for cmd in (script, plain):
        subprocess.run([*cmd, *args], env=ENV, capture_output=True, check=True)  # warm-up
    for _ in range(runs):
        for name, cmd in (("paused", script), ("on", plain)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([*cmd, *args], env=ENV, capture_output=True, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    paused, on = (statistics.median(cpu[k]) * 1000 for k in ("paused", "on"))
    print(
        f"  takedown {light + ' --json':<28} CPU {paused:6.0f} ms paused vs {on:6.0f} ms "
        f"collector on ({paused / on:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--data", type=Path, help="A data folder the demo ran in.")
    parser.add_argument(
        "--collector",
        action="store_true",
        help="also time each light command with the garbage collector on throughout (the "
        "command line's entry point without its start-up pause), alternating with the script",
    )
    args = parser.parse_args()
    takedown = str(BIN / "takedown")
    with tempfile.TemporaryDirectory() as tmp:
        store = str(args.data or tmp)
        # an existing store: created and migrated here, before any timing
        subprocess.run(
            [takedown, "--data", store, "agency", "list"], env=ENV, capture_output=True, check=True
        )
        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("takedown --help", [takedown, "--help"]),
            ("takedown infra --help", [takedown, "infra", "--help"]),
            *(
                (f"takedown {group} --help", [takedown, group, "--help"])
                for group in ("bank", "sightings", "text")
            ),
            *(
                (f"takedown {light} --json", [takedown, "--data", store, *light.split(), "--json"])
                for light in LIGHT
            ),
        ]
        base = base_cpu = 0.0
        for name, cmd in cases:
            seconds, cpu = wall(cmd, args.runs)
            base, base_cpu = base or seconds, base_cpu or cpu
            print(
                f"{name:<36} wall {seconds * 1000:6.0f} ms {seconds / base:5.1f}x   "
                f"CPU {cpu * 1000:6.0f} ms {cpu / base_cpu:5.1f}x  (x: python -c pass)"
            )
        if args.collector:
            print("paired, alternating: the script vs the collector on throughout")
            for light in LIGHT:
                paired(store, light, args.runs)
    if args.data is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("stix", "misp"):
            for operation in ("Synthetic Action Day", "Synthetic Outlet Takedown", None):
                out = Path(tmp) / f"export.{kind}.json"
                cmd = [takedown, "--data", str(args.data), "export", kind, "--out", str(out)]
                if operation:
                    cmd += ["--operation", operation]
                seconds, cpu = wall(cmd, max(1, args.runs // 5))
                label = operation or "everything"
                size = out.stat().st_size / 1024
                print(
                    f"export {kind} {label:<26} wall {seconds:6.2f} s  CPU {cpu:6.2f} s  "
                    f"{size:6.0f} KiB"
                )


if __name__ == "__main__":
    main()
