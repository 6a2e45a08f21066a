"""Ingest throughput against plain executemany, on SQLite and PostgreSQL, and memory vs size.

    .venv/bin/python bench/ingest.py [--rows 100000] [--backends sqlite,postgresql] [--json]

For each backend, in the same run: (1) the full ingest path (JSONL parsing, URL
canonicalisation, platform attribution, natural keys, batched idempotent inserts) over a
JSON Lines file; (2) the same rows, prepared beforehand, inserted with one plain DBAPI
``executemany`` per batch into the same table of an empty database. Prints rows per second for
both and their ratio (target: ingest >= 1/3 of the raw rate), and the process's peak RSS growth
at a fifth of the rows and at all of them (flat = streaming).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from takedown.app import App
from takedown.config import Settings
from takedown.evidence.ingest import Ingestor, natural_key
from takedown.store.db import Database
from takedown.store.models import Sighting
from takedown.urls import canonicalize

PG_ADMIN = os.environ.get(
    "TAKEDOWN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
HOSTS = [
    "https://www.youtube.com/watch?v={id}",
    "https://t.me/channel{n}/{k}",
    "https://justpaste.it/{id}",
    "https://archive.org/details/{id}",
    "https://www.facebook.com/{id}/posts/{k}",
    "https://x.com/user{n}/status/{k}",
    "https://vk.com/wall-{n}_{k}",
    "https://ok.ru/video/{k}",
    "https://mega.nz/file/{id}",
    "https://example-outlet{n}.org/news/{id}.html?utm_source=x",
    "hxxps://files[.]fm/u/{id}",
    "https://bit.ly/{id}",
]
LANGS = ["ar", "en", "fr", "de", "ru", "tr", "ur", "id", "ps"]


def write_jsonl(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 4, 26, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            template = HOSTS[i % len(HOSTS)]
            url = template.format(id=f"{rng.getrandbits(48):012x}", n=rng.randrange(500), k=i)
            record = {
                "url": url,
                "seen_at": (start + timedelta(seconds=rng.randrange(172800))).isoformat(),
                "reporter": f"analyst-{rng.randrange(40)}@unit-{rng.randrange(5)}",
                "language": LANGS[i % len(LANGS)],
                "notes": "synthetic benchmark item",
            }
            out.write(json.dumps(record) + "\n")


class PeakRSS:
    """Samples this process's RSS in a thread; reports the peak above the starting value."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.base) / 2**20


def prepared_rows(path: Path) -> list[dict[str, Any]]:
    """The rows the ingest path would insert, computed outside the timed baseline."""
    rows = []
    now = datetime.now(UTC)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            rec = json.loads(line)
            canon = canonicalize(rec["url"])
            seen = datetime.fromisoformat(rec["seen_at"])
            rows.append(
                {
                    "natural_key": natural_key(canon.url, None, seen, rec["reporter"]),
                    "url": rec["url"],
                    "canonical_url": canon.url,
                    "host": canon.host,
                    "registrable_domain": canon.registrable_domain,
                    "psl_version": canon.psl_version,
                    "account": canon.account,
                    "mixed_script": canon.mixed_script,
                    "platform_key": None,
                    "seen_at": seen,
                    "reporter": rec["reporter"],
                    "language": rec["language"],
                    "notes": rec["notes"],
                    "source_ref": "line",
                    "created_at": now,
                }
            )
    return rows


def raw_executemany(url: str, rows: list[dict[str, Any]], batch: int) -> float:
    db = Database(url)
    cols = list(rows[0])
    names = ", ".join(cols)
    engine = db.engine
    if engine.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in cols)
        values = [
            tuple(r[c].isoformat() if isinstance(r[c], datetime) else r[c] for c in cols)
            for r in rows
        ]
    else:
        marks = ", ".join("%s" for _ in cols)
        values = [tuple(r[c] for c in cols) for r in rows]
    sql = f"INSERT INTO {Sighting.__tablename__} ({names}) VALUES ({marks})"  # noqa: S608
    conn = engine.raw_connection()
    try:
        started = time.perf_counter()
        for i in range(0, len(values), batch):
            cur = conn.cursor()
            cur.executemany(sql, values[i : i + batch])
            conn.commit()
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
        db.dispose()
    return elapsed


def ingest_path(url: str, data: Path, source: Path) -> tuple[float, int, float]:
    app = App(Settings(data=data, database_url=url))
    app.db  # noqa: B018  (migrate before timing)
    app.registry  # noqa: B018
    with PeakRSS() as rss:
        started = time.perf_counter()
        report = Ingestor(app).ingest(source, "jsonl")
        elapsed = time.perf_counter() - started
    app.close()
    if report.rejected or report.error:
        raise SystemExit(f"benchmark input was rejected: {report.rejected[:3]} {report.error}")
    return elapsed, report.created, rss.growth_mib


class Backend:
    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.made: list[str] = []

    def fresh_url(self) -> str:
        if self.name == "sqlite":
            path = self.workdir / f"bench-{secrets.token_hex(4)}.sqlite3"
            return f"sqlite:///{path}"
        db = f"takedown_bench_{secrets.token_hex(4)}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        self.made.append(db)
        return make_url(PG_ADMIN).set(database=db).render_as_string(hide_password=False)

    def cleanup(self) -> None:
        if not self.made:
            return
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="takedown-bench-") as tmp:
        work = Path(tmp)
        small_rows = max(1, args.rows // 5)
        big, small = work / "big.jsonl", work / "small.jsonl"
        write_jsonl(big, args.rows)
        write_jsonl(small, small_rows, seed=8)
        rows = prepared_rows(big)
        for name in args.backends.split(","):
            backend = Backend(name, work)
            try:
                _, _, small_mib = ingest_path(backend.fresh_url(), work / f"{name}-small", small)
                ingest_s, created, big_mib = ingest_path(
                    backend.fresh_url(), work / f"{name}-big", big
                )
                raw_s = raw_executemany(backend.fresh_url(), rows, 2000)
            finally:
                backend.cleanup()
            ingest_rate, raw_rate = created / ingest_s, len(rows) / raw_s
            results.append(
                {
                    "backend": name,
                    "rows": args.rows,
                    "ingest_rows_per_s": round(ingest_rate),
                    "executemany_rows_per_s": round(raw_rate),
                    "ratio": round(ingest_rate / raw_rate, 3),
                    "target_ratio": 0.333,
                    "rss_growth_mib_at_fifth": round(small_mib, 1),
                    "rss_growth_mib_at_all": round(big_mib, 1),
                }
            )
    if args.json:
        json.dump({"benchmark": "ingest", "results": results}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    print(f"ingest of {args.rows} JSON Lines sightings vs plain executemany of the same rows")
    print(
        f"{'backend':<11}{'ingest/s':>10}{'raw/s':>10}{'ratio':>8}  target  RSS growth (1/5 -> all)"
    )
    for r in results:
        ok = "ok" if r["ratio"] >= r["target_ratio"] else "BELOW"
        print(
            f"{r['backend']:<11}{r['ingest_rows_per_s']:>10}{r['executemany_rows_per_s']:>10}"
            f"{r['ratio']:>8.3f}  >=0.333 {ok:<5} "
            f"{r['rss_growth_mib_at_fifth']} MiB -> {r['rss_growth_mib_at_all']} MiB"
        )


if __name__ == "__main__":
    main()
