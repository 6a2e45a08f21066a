"""The infrastructure pages on demo-sized data: server time of the first load and warm.

    .venv/bin/python bench/infra_page.py [--data DIR] [--repeat 5] [--json]

Without ``--data`` it builds the small demo (``takedown demo --size small``, which imports the
outlet network) in a temporary data folder first. Each page is then measured in a fresh
Python process, as a just-started server would serve it: the app is created, a bench analyst
logs in (so the login's own cost is not counted), and the page is asked for once (first
load: lazy imports, caches and the database's cold pages included) and ``--repeat`` more
times (warm, median). Pages: ``/infra``, the outlet page of the outlet with the most domains,
and that outlet's graph (``/infra/picture.svg``, which the browser fetches with the page).
Baseline, measured the same way in the same run: ``/holds`` with no hold (a page that renders
the workspace layout and runs one small query). Each page is measured in ``--processes``
fresh processes (medians). Ratios are page / baseline, first and warm, wall and CPU.
Server time is the request's wall time in process (FastAPI TestClient, no network); the
process's CPU time is printed beside it (on a shared, loaded machine it is the steadier one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "bench-infra", "bench infra password"


def build_demo(data: Path) -> float:
    started = time.perf_counter()
    env = {**os.environ, "TAKEDOWN_DATA": str(data)}
    env.pop("TAKEDOWN_DATABASE_URL", None)
    subprocess.run(
        [str(Path(sys.executable).parent / "takedown"), "demo", "--size", "small", "--json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def prepare(data: Path) -> str:
    """A bench analyst in the demo's first agency; the outlet with the most domains."""
    from sqlalchemy import func, select

    from takedown.api.models import ApiAgency as Agency
    from takedown.api.models import ApiUser
    from takedown.app import App
    from takedown.config import Settings
    from takedown.infra.models import InfraOutlet, InfraOutletDomain
    from takedown.ops.agencies import create_user

    app = App(Settings(data=data))
    with app.db.session() as session:
        outlet = session.scalar(
            select(InfraOutlet.name)
            .join(InfraOutletDomain, InfraOutletDomain.outlet_id == InfraOutlet.id)
            .group_by(InfraOutlet.name)
            .order_by(func.count().desc(), InfraOutlet.name)
            .limit(1)
        )
        if outlet is None:
            raise SystemExit(f"{data}: no outlet (build the demo first)")
        agency = session.scalar(select(Agency.name).order_by(Agency.id).limit(1))
        if not session.scalar(select(ApiUser.id).where(ApiUser.username == USER)):
            create_user(session, USER, PASSWORD, agency=agency, role="analyst")
    app.close()
    return outlet


def child(data: Path, path: str, repeat: int) -> dict[str, Any]:
    """One fresh process: log in, then time the first and ``repeat`` warm requests of path."""
    sys.path.insert(0, str(ROOT))
    from fastapi.testclient import TestClient
    from tests.web.conftest import log_in

    from takedown.api.app import create_app
    from takedown.app import App
    from takedown.config import Settings

    app = App(Settings(data=data))
    times: list[float] = []
    cpu: list[float] = []
    size = 0
    with TestClient(create_app(app)) as client:
        log_in(client, USER, PASSWORD)
        for _ in range(repeat + 1):
            started = time.perf_counter()
            used = time.process_time()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
            size = len(response.content)
    app.close()
    return {
        "first_ms": round(times[0], 1),
        "first_cpu_ms": round(cpu[0], 1),
        "warm_ms": round(statistics.median(times[1:]), 1),
        "warm_cpu_ms": round(statistics.median(cpu[1:]), 1),
        "kb": round(size / 1024, 1),
    }


def measure(data: Path, path: str, repeat: int, processes: int) -> dict[str, Any]:
    """Medians over ``processes`` fresh processes."""
    runs = []
    for _ in range(processes):
        command = [sys.executable, __file__, "--child", path, "--data", str(data)]
        out = subprocess.run(
            [*command, "--repeat", str(repeat)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        key: round(statistics.median(r[key] for r in runs), 1) if key != "kb" else runs[0][key]
        for key in runs[0]
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="a data folder holding the demo")
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per process")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per page")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.data, args.child, args.repeat)))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        data = args.data or Path(folder) / "data"
        built = build_demo(data) if args.data is None else 0.0
        outlet = prepare(data)
        from urllib.parse import quote

        pages = {
            "baseline /holds": "/holds",
            "/infra": "/infra",
            "outlet page": f"/infra/{quote(outlet, safe='')}",
            "outlet graph": f"/infra/picture.svg?outlet={quote(outlet, safe='')}",
        }
        results = {
            name: measure(data, path, args.repeat, args.processes) for name, path in pages.items()
        }
    base = results["baseline /holds"]
    for r in results.values():
        for key in ("first_ms", "first_cpu_ms", "warm_ms", "warm_cpu_ms"):
            r[key.replace("_ms", "_ratio")] = round(r[key] / max(base[key], 0.1), 2)
    load = os.getloadavg()[0]
    report = {"outlet": outlet, "demo_build_s": round(built, 1), "load": load, "pages": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"demo data (built in {built:.0f} s), outlet {outlet!r}, load {load:.1f}")
    for name, r in results.items():
        print(
            f"  {name:16} first {r['first_ms']:7.1f} ms {r['first_ratio']:5.1f}x"
            f" (CPU {r['first_cpu_ms']:6.1f} ms {r['first_cpu_ratio']:4.1f}x)"
            f"  warm {r['warm_ms']:6.1f} ms {r['warm_ratio']:5.1f}x"
            f" (CPU {r['warm_cpu_ms']:6.1f} ms {r['warm_cpu_ratio']:4.1f}x)  {r['kb']:6.1f} KB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
