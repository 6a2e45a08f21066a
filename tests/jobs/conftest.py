"""Real workers (``takedown worker`` subprocesses) against the real local PostgreSQL."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from takedown.app import App
from takedown.config import Settings
from takedown.demo.media import outlets, poster
from takedown.store.models import Content

TAKEDOWN = shutil.which("takedown", path=str(Path(sys.executable).parent)) or "takedown"


@pytest.fixture
def queue_app(postgres_url: str, tmp_path: Path) -> Iterator[App]:
    """An app on PostgreSQL whose tasks are queued (as in production), on an empty store."""
    from tests.conftest import _truncate

    _truncate(postgres_url)
    application = App(Settings(data=tmp_path / "data", database_url=postgres_url, jobs="queue"))
    yield application
    application.close()


def worker_env(app: App, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TAKEDOWN_DATA": str(app.settings.data),
        "TAKEDOWN_DATABASE_URL": app.settings.resolved_database_url,
        "TAKEDOWN_JOBS": "queue",
        "COLUMNS": "200",
        **extra,
    }


def takedown(
    app: App, *args: str, ok: bool = True, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [TAKEDOWN, *args],
        capture_output=True,
        text=True,
        env=worker_env(app, **env),
        timeout=timeout,
        check=False,
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    files: list[IO[str]] = []

    def start(app: App, *args: str, **env: str) -> subprocess.Popen[str]:
        log = tmp_path / f"worker-{len(started)}.log"
        files.append(log.open("w"))
        proc = subprocess.Popen(
            [TAKEDOWN, "worker", "-v", "--heartbeat", "0.5", "--stalled-after", "3", *args],
            stdout=files[-1],
            stderr=subprocess.STDOUT,
            text=True,
            env=worker_env(app, **env),
        )
        proc.log = log  # type: ignore[attr-defined]
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for file in files:
        file.close()


def write_items(folder: Path, images: int, texts: int) -> Path:
    """A CSV list of synthetic posters and short texts (distinct content each)."""
    folder.mkdir(parents=True, exist_ok=True)
    outlet = outlets(random.Random(1), ("en",))[0]
    rows = ["url,seen_at,reporter,language,content"]
    for i in range(images):
        poster(random.Random(i), outlet, i).save(folder / f"p{i}.png")
        rows.append(f"https://justpaste.it/p{i},2026-04-26T10:00:00Z,ana,en,p{i}.png")
    for i in range(texts):
        (folder / f"t{i}.txt").write_text(f"bulletin {i}: " + "words of a statement " * 30)
        rows.append(f"https://t.me/chan/{i},2026-04-26T10:00:00Z,ana,en,t{i}.txt")
    (folder / "list.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder / "list.csv"


def content_states(app: App) -> dict[str, int]:
    with app.db.session() as session:
        rows = session.execute(
            select(Content.signals_state, Content.matched_at.is_not(None), func.count()).group_by(
                Content.signals_state, Content.matched_at.is_not(None)
            )
        ).all()
    out: dict[str, int] = {}
    for state, matched, n in rows:
        key = f"{state}{'+matched' if matched else ''}"
        out[key] = out.get(key, 0) + n
    return out


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
