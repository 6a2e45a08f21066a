"""Matching tasks against a keypoint bank: the process's registry kept across tasks.

    .venv/bin/python bench/index_lifecycle.py [--entries 2000] [--tasks 40]
                                              [--baseline-src DIR] [--json]

Builds a SQLite store with ``--entries`` keypoint bank entries and ``--tasks`` images (a random
PDQ hash, so that PDQ is unsure and the keypoint stage runs, and a keypoint value: synthetic
56-descriptor signatures of the real format), then runs the ``match.contents`` task once per
image, as a worker does, and reports tasks/s and how many times the keypoint indexes were
built. With ``--baseline-src`` (e.g. the main branch's ``src`` folder from
``git archive main src``), the same run in a subprocess on that code, in the same run, and
the ratio of the two rates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def run(entries: int, tasks: int) -> dict[str, Any]:
    from takedown.app import App
    from takedown.config import Settings
    from takedown.jobs import InProcessRunner
    from takedown.matching import banks
    from takedown.matching.formats import BankRow
    from takedown.matching.matcher import match_task  # registers match.contents
    from takedown.robust.features import KEEP, WORK_SIDE, Signature, encode
    from takedown.store.models import Content, Signal

    rng = np.random.default_rng(7)
    assert match_task is not None

    def value() -> str:
        return encode(
            Signature(
                WORK_SIDE,
                WORK_SIDE,
                rng.uniform(0, WORK_SIDE, size=(KEEP, 2)).astype(np.float32),
                rng.integers(0, 256, size=(KEEP, 32), dtype=np.uint8),
            )
        )

    with tempfile.TemporaryDirectory() as folder:
        app = App(Settings(data=Path(folder) / "data"))
        banks.create_bank(app, "partner")
        banks.add_entries(
            app, "partner", [BankRow(f"e{i}", "keypoints", value()) for i in range(entries)]
        )
        ids = []
        with app.db.session() as session:
            for i in range(tasks):
                content = Content(
                    sha256=f"{i:064x}", md5=f"{i:032x}", size=1, kind="image", media_type="x"
                )
                session.add(content)
                session.flush()
                pdq = bytes(rng.integers(0, 256, size=32, dtype=np.uint8)).hex()
                session.add(Signal(content_id=content.id, signal_type="pdq", value=pdq))
                session.add(Signal(content_id=content.id, signal_type="keypoints", value=value()))
                ids.append(content.id)
        runner = InProcessRunner(app)
        started = time.perf_counter()
        for content_id in ids:
            runner.submit("match.contents", content_ids=[content_id])
        seconds = time.perf_counter() - started
        builds: int | None = None
        try:
            from takedown.matching.registry import Registry

            stage = Registry.shared(app, refresh=False).stage_for("keypoints")
            builds = None if stage is None else stage.builds
        except ImportError:
            builds = None  # the baseline code has no registry: it builds per task
        app.close()
    return {
        "entries": entries,
        "tasks": tasks,
        "seconds": round(seconds, 2),
        "tasks_per_s": round(tasks / seconds, 2),
        "keypoint_index_builds": builds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--baseline-src", type=Path)
    parser.add_argument("--only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    here = run(args.entries, args.tasks)
    if args.only:
        print(json.dumps(here))
        return
    out: dict[str, Any] = {"this": here}
    if args.baseline_src is not None:
        env = dict(os.environ, PYTHONPATH=str(args.baseline_src.resolve()))
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        command = [sys.executable, __file__, "--only", "--entries", str(args.entries)]
        done = subprocess.run(
            [*command, "--tasks", str(args.tasks)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        out["baseline"] = json.loads(done.stdout.strip().splitlines()[-1])
        out["ratio"] = round(here["tasks_per_s"] / out["baseline"]["tasks_per_s"], 2)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for name in ("this", "baseline"):
        if name in out:
            r = out[name]
            print(
                f"{name:<9} {r['tasks']} tasks, {r['entries']} keypoint bank entries: "
                f"{r['tasks_per_s']} tasks/s, keypoint index builds "
                f"{r['keypoint_index_builds'] or 'per task (no registry)'}"
            )
    if "ratio" in out:
        print(f"ratio this / baseline: {out['ratio']}")


if __name__ == "__main__":
    main()
