"""The review queue page at 10,000 open items: server time and page weight.

    .venv/bin/python bench/queue_page.py [--items 10000] [--repeat 7] [--database-url URL]
                                         [--analyze] [--quick] [--json]

Builds a store (embedded SQLite by default; ``--database-url`` for an empty PostgreSQL
database, migrated here; ``--analyze`` then gathers its statistics) with ``--items`` open
URL-only sightings of one agency, a fifth of them carrying content that matches a bank entry
(so the score's match queries have work) and a tenth re-uploads; then asks the workspace, in
process (FastAPI TestClient, logged in as a user of that agency), for: the first page, a
middle page, the last page, the "new leads" and "known material" tabs, a search and a filter,
25 items a page; and, as the baseline measured in the same run, ``/holds`` (the workspace
layout and one small query): ratios are page median / baseline median. Server time is the
request's wall time in process (no network), median and worst of ``--repeat``; page weight
is the HTML plus the page's CSS and script (media are fetched separately, blurred, on
demand). CPU time (this process: the app and the test client) is printed beside the wall
time: on a shared, loaded machine it says more about the page's own cost than the wall time
does; on PostgreSQL the database server's time is in the wall time only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def build(data: Path, items: int, database_url: str | None, analyze: bool = False) -> Any:
    from sqlalchemy import insert, select

    from takedown.api.auth import create_user
    from takedown.app import App
    from takedown.config import Settings
    from takedown.matching.banks import create_bank
    from takedown.ops.agencies import add_reporter, create_agency
    from takedown.store.models import BankEntry, Content, Match, Sighting

    if database_url:  # an empty database: create the schema (``takedown db upgrade``)
        from takedown.store.db import make_engine, migrate

        engine = make_engine(database_url)
        migrate(engine)
        engine.dispose()
    app = App(Settings(data=data, database_url=database_url))
    with app.db.session() as session:
        agency = create_agency(session, "Bench IRU")
        add_reporter(session, agency, "bench")
    create_user(app, "analyst", "bench password", agency="Bench IRU")
    bank = create_bank(app, "bench", description="synthetic bank")
    base = datetime(2026, 11, 1, tzinfo=UTC)
    with app.db.session() as session:
        session.execute(
            insert(BankEntry),
            [
                {
                    "bank_id": bank.id,
                    "signal_type": "pdq",
                    "value": f"{i:064x}",
                    "labels": {"outlet": f"Outlet {i % 7}", "severity": "high"},
                    "status": "active",
                }
                for i in range(100)
            ],
        )
        entries = list(session.scalars(select(BankEntry.id).order_by(BankEntry.id)))
        matched = items // 5
        session.execute(
            insert(Content),
            [
                {
                    "sha256": f"{i:064x}",
                    "md5": f"{i:032x}",
                    "size": 1000,
                    "kind": "image",
                    "media_type": "image/png",
                }
                for i in range(matched)
            ],
        )
        contents = list(session.scalars(select(Content.id).order_by(Content.id)))
        rows = [
            {
                "natural_key": f"bench-{i}",
                "url": f"https://platform{i % 9}.test/post/{i}",
                "platform_key": f"platform{i % 9}",
                "seen_at": base + timedelta(seconds=30 * i),
                "reporter": "bench",
                "language": ("ar", "en", "fr", "ps", "ru")[i % 5],
                "operation": "Action day" if i % 2 else None,
                "notes": f"synthetic lead {i}",
                "extra": {"views": str(i * 7 % 100_000)},
                "content_id": contents[i] if i < matched else None,
            }
            for i in range(items)
        ]
        for start in range(0, items, 5000):
            session.execute(insert(Sighting), rows[start : start + 5000])
        first = session.scalar(select(Sighting.id).order_by(Sighting.id))
        assert first is not None
        session.execute(
            insert(Match),
            [
                {
                    "key": f"bench-{cid}",
                    "content_id": cid,
                    "signal_type": "pdq",
                    "bank_entry_id": entries[n % len(entries)],
                    "distance": n % 30,
                    "state": "active",
                }
                for n, cid in enumerate(contents)
            ],
        )
        reuploads = [{"id": first + i, "reupload_of_id": first} for i in range(1, items, 10)]
        from sqlalchemy import update

        session.execute(update(Sighting), reuploads)
    if database_url and analyze:  # statistics, as autovacuum would gather them
        from sqlalchemy import text

        with app.db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return app


def measure(app: Any, repeat: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from tests.web.conftest import log_in

    from takedown.api.app import create_app

    cases: dict[str, dict[str, Any]] = {
        "baseline /holds": {},  # the workspace layout and one small query: the baseline
        "first page": {},
        "middle page": {"page": 200},
        "last page": {"page": 10**6},
        "new leads": {"tab": "new"},
        "known material": {"tab": "known"},
        "re-uploads": {"tab": "reupload"},
        "decided": {"tab": "decided"},
        "search": {"q": "post/12"},
        "filter": {"operation": "Action day", "language": "ar", "sort": "newest"},
    }
    out: dict[str, Any] = {}
    with TestClient(create_app(app)) as client:
        log_in(client, "analyst", "bench password")
        assets = sum(
            len(client.get(path).content)
            for path in ("/static/takedown.css", "/static/takedown.js")
        )
        client.get("/queue")  # warm up
        client.get("/holds")
        for name, params in cases.items():
            times = []
            cpu = []
            size = 0
            for _ in range(repeat):
                started = time.perf_counter()
                used = time.process_time()
                path = "/holds" if name.startswith("baseline") else "/queue"
                response = client.get(path, params=params)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
                assert response.status_code == 200, response.text[:200]
                size = len(response.content)
            out[name] = {
                "median_ms": round(statistics.median(times), 1),
                "worst_ms": round(max(times), 1),
                "cpu_ms": round(statistics.median(cpu), 1),
                "html_kb": round(size / 1024, 1),
                "page_kb": round((size + assets) / 1024, 1),
            }
    base = out["baseline /holds"]["median_ms"]
    for r in out.values():
        r["ratio"] = round(r["median_ms"] / max(base, 0.1), 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="1,000 items, 3 repeats")
    parser.add_argument(
        "--analyze", action="store_true", help="PostgreSQL: ANALYZE after building the store"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.items, args.repeat = 1000, 3
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        app = build(Path(folder) / "data", args.items, args.database_url, args.analyze)
        built = time.perf_counter() - started
        results = measure(app, args.repeat)
        app.close()
    load = os.getloadavg()[0]
    report = {"items": args.items, "build_s": round(built, 1), "load": load, "pages": results}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.items:,} open items (built in {built:.1f} s), 25 a page, load {load:.1f}")
        for name, r in results.items():
            print(
                f"  {name:16} median {r['median_ms']:7.1f} ms {r['ratio']:5.1f}x"
                f"  worst {r['worst_ms']:7.1f} ms"
                f"  CPU {r['cpu_ms']:7.1f} ms"
                f"  HTML {r['html_kb']:6.1f} KB  page {r['page_kb']:6.1f} KB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
