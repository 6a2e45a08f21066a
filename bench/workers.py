"""Hashing + matching of mixed items through 1, 2, 4 worker processes on PostgreSQL.

    .venv/bin/python bench/workers.py [--items 20000] [--workers 1,2,4] [--quick] [--json]

In one run, on the same generated items (images, short videos, texts, and URL-only sightings):
(1) the in-process runner (what the embedded default does) on a fresh PostgreSQL database;
(2) for each worker count, a fresh database, the items ingested, N ``takedown worker``
processes started and, once they are all registered, every item's jobs enqueued; timed until
all content is hashed and matched. Prints content items/s and the ratio to the in-process
runner. With 2+ workers one worker is killed with SIGKILL when about half the content is
hashed; the others recover its job (stalled-job recovery). Then: items lost (content not
hashed and matched once the queue is idle) and items processed twice (hashing or matching
committed more than once for one item, counted by a trigger this benchmark installs).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from takedown.app import App
from takedown.config import Settings
from takedown.evidence.ingest import Ingestor
from takedown.matching.pipeline import process_new_content
from takedown.store.db import make_engine, migrate

PG_ADMIN = os.environ.get(
    "TAKEDOWN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TAKEDOWN = shutil.which("takedown", path=str(Path(sys.executable).parent)) or "takedown"
WORDS = [
    "statement",
    "bulletin",
    "release",
    "fighters",
    "province",
    "city",
    "attack",
    "claim",
    "video",
    "message",
]

LEDGER = """
CREATE TABLE bench_ledger (content_id integer, what text);
CREATE FUNCTION bench_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.signals_state = 'pending' AND NEW.signals_state <> 'pending' THEN
    INSERT INTO bench_ledger VALUES (NEW.id, 'hash');
  END IF;
  IF NEW.matched_at IS DISTINCT FROM OLD.matched_at AND NEW.matched_at IS NOT NULL THEN
    INSERT INTO bench_ledger VALUES (NEW.id, 'match');
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER bench_note AFTER UPDATE ON content FOR EACH ROW EXECUTE FUNCTION bench_note();
"""


def generate(folder: Path, items: int, seed: int = 5) -> dict[str, int]:
    """A CSV of mixed items: 55 % images, 1 % videos, 29 % texts, 15 % URLs alone."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["url,seen_at,reporter,language,content"]
    counts = {"image": 0, "video": 0, "text": 0, "url": 0}
    for i in range(items):
        roll = rng.random()
        url = f"https://justpaste.it/b{i}"
        name = ""
        if roll < 0.55:
            pixels = nprng.integers(0, 255, size=(24, 32, 3), dtype=np.uint8)
            image = Image.fromarray(pixels).resize((256, 192), Image.Resampling.BILINEAR)
            name = f"i{i}.png"
            image.save(folder / name)
            counts["image"] += 1
        elif roll < 0.56:
            name = f"v{i}.mp4"
            _video(folder / name, nprng)
            counts["video"] += 1
        elif roll < 0.85:
            name = f"t{i}.txt"
            words = [rng.choice(WORDS) for _ in range(120)]
            (folder / name).write_text(f"item {i} " + " ".join(words), encoding="utf-8")
            counts["text"] += 1
        else:
            counts["url"] += 1
        rows.append(f"{url},2026-04-26T10:00:00Z,bench,en,{name}")
    (folder / "items.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return counts


def _video(path: Path, nprng: np.random.Generator) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=5)
        stream.width, stream.height = 128, 96
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        stream.time_base = Fraction(1, 5)
        base = nprng.integers(0, 255, size=(12, 16, 3), dtype=np.uint8)
        for i in range(10):
            frame_img = Image.fromarray(np.roll(base, i, axis=1)).resize((128, 96))
            frame = av.VideoFrame.from_ndarray(np.asarray(frame_img), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


class _Database:
    def __init__(self) -> None:
        self.name = f"takedown_bench_workers_{secrets.token_hex(4)}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.url = make_url(PG_ADMIN).set(database=self.name).render_as_string(False)
        engine = make_engine(self.url)
        migrate(engine)
        with engine.begin() as conn:
            conn.connection.driver_connection.execute(LEDGER)  # type: ignore[union-attr]
        engine.dispose()

    def drop(self) -> None:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def _scalar(app: App, sql: str) -> int:
    with app.db.engine.connect() as conn:
        return int(conn.scalar(text(sql)) or 0)


def _finished(app: App) -> int:
    return _scalar(
        app,
        "SELECT count(*) FROM content WHERE signals_state <> 'pending' AND matched_at IS NOT NULL",
    )


def _ledger(app: App) -> dict[str, int]:
    with app.db.engine.connect() as conn:
        twice = conn.execute(
            text(
                "SELECT what, count(*) FROM (SELECT content_id, what FROM bench_ledger "
                "GROUP BY 1, 2 HAVING count(*) > 1) d GROUP BY 1"
            )
        ).all()
    return {what: int(n) for what, n in twice}


def _ingest(app: App, csv: Path) -> list[int]:
    """Store the items without enqueueing anything (queued intake would enqueue the hashing
    in its own transaction; the run submits it once the workers are up, to time only them)."""
    if not app.queued:
        return list(Ingestor(app).ingest(csv).new_content_ids)
    store_only = App(app.settings.replace(jobs="inprocess"))
    try:
        return list(Ingestor(store_only).ingest(csv).new_content_ids)
    finally:
        store_only.close()


def run_inprocess(csv: Path, data: Path) -> dict[str, Any]:
    db = _Database()
    app = App(Settings(data=data, database_url=db.url, jobs="inprocess"))
    try:
        ids = _ingest(app, csv)
        start = time.perf_counter()
        process_new_content(app, ids)
        elapsed = time.perf_counter() - start
        return {
            "content": len(ids),
            "seconds": round(elapsed, 2),
            "items_per_s": round(len(ids) / elapsed, 1),
            "finished": _finished(app),
        }
    finally:
        app.close()
        db.drop()


def run_workers(csv: Path, data: Path, workers: int, kill: bool) -> dict[str, Any]:
    db = _Database()
    app = App(Settings(data=data, database_url=db.url, jobs="queue"))
    env = {**os.environ, "TAKEDOWN_DATA": str(data), "TAKEDOWN_DATABASE_URL": db.url}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ids = _ingest(app, csv)
        for _ in range(workers):
            procs.append(
                subprocess.Popen(
                    [TAKEDOWN, "worker", "--heartbeat", "1", "--stalled-after", "5"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        while _scalar(app, "SELECT count(*) FROM procrastinate_workers") < workers:
            time.sleep(0.2)
        start = time.perf_counter()
        process_new_content(app, ids)
        killed = None
        while _finished(app) < len(ids):
            if kill and killed is None and workers > 1:
                hashed = _scalar(app, "SELECT count(*) FROM content WHERE signals_state<>'pending'")
                if hashed >= len(ids) // 2:
                    killed = procs[0]
                    killed.send_signal(signal.SIGKILL)
                    killed.wait()
            if time.perf_counter() - start > 7200:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
        busy = "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        while _scalar(app, busy):
            time.sleep(0.2)
        twice = _ledger(app)
        return {
            "workers": workers,
            "killed_one": killed is not None,
            "content": len(ids),
            "seconds": round(elapsed, 2),
            "items_per_s": round(len(ids) / elapsed, 1),
            "lost": len(ids) - _finished(app),
            "hashed_twice": twice.get("hash", 0),
            "matched_twice": twice.get("match", 0),
            "failed_jobs": _scalar(
                app, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"
            ),
        }
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
        app.close()
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--quick", action="store_true", help="600 items")
    parser.add_argument("--no-kill", action="store_true", help="do not SIGKILL a worker")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    items = 600 if args.quick else args.items
    with tempfile.TemporaryDirectory(prefix="takedown-bench-workers-") as tmp:
        folder = Path(tmp) / "items"
        counts = generate(folder, items)
        base = run_inprocess(folder / "items.csv", Path(tmp) / "data-inprocess")
        runs = []
        for n in (int(x) for x in args.workers.split(",")):
            result = run_workers(
                folder / "items.csv", Path(tmp) / f"data-{n}", n, kill=not args.no_kill
            )
            result["ratio_to_inprocess"] = round(result["items_per_s"] / base["items_per_s"], 2)
            runs.append(result)
            if not args.json:
                print(json.dumps(result), flush=True)
    report = {"items": items, "mix": counts, "inprocess": base, "workers": runs}
    print(json.dumps(report, indent=None if not args.json else 2))


if __name__ == "__main__":
    main()
