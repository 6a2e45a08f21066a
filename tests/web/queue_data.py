"""Test data for the queue: many URL-only open sightings inserted in one go, a short WebM."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from sqlalchemy import insert, select

from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.matching.pipeline import process_new_content
from takedown.store.models import Sighting
from tests.api.seed import REPORTER


def add_open_items(
    app: App,
    count: int,
    *,
    prefix: str = "bulk",
    operation: str | None = None,
    language: str | None = "en",
    platform: str = "example",
) -> list[int]:
    """``count`` URL-only sightings of the seeded reporter (its agency sees them), one a
    minute; their ids, oldest first."""
    base = datetime(2026, 11, 20, tzinfo=UTC)
    rows = [
        {
            "natural_key": f"{prefix}-{i}",
            "url": f"https://{platform}.test/{prefix}/{i}",
            "canonical_url": f"https://{platform}.test/{prefix}/{i}",
            "host": f"{platform}.test",
            "registrable_domain": f"{platform}.test",
            "platform_key": platform,
            "seen_at": base + timedelta(minutes=i),
            "reporter": REPORTER,
            "language": language,
            "operation": operation,
            "notes": f"synthetic lead {prefix} {i}",
            "extra": {"views": str(i % 1000)},
        }
        for i in range(count)
    ]
    with app.db.session() as session:
        for start in range(0, count, 1000):
            session.execute(insert(Sighting), rows[start : start + 1000])
        ids = list(
            session.scalars(
                select(Sighting.id)
                .where(Sighting.natural_key.like(f"{prefix}-%"))
                .order_by(Sighting.id)
            )
        )
    return ids


def make_webm(path: Path, seconds: float = 2.0, fps: int = 10) -> Path:
    """A short synthetic VP8 clip (moving shapes): Chromium plays WebM without extra codecs."""
    rng = np.random.default_rng(5)
    with av.open(str(path), "w") as out:
        stream = cast(av.VideoStream, out.add_stream("libvpx", rate=fps))
        stream.width, stream.height = 160, 120
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        colours = rng.integers(0, 256, (4, 3), dtype=np.uint8)
        for i in range(round(seconds * fps)):
            frame = np.zeros((120, 160, 3), dtype=np.uint8)
            frame[:, :] = colours[i % 4]
            frame[20:60, (i * 6) % 120 : (i * 6) % 120 + 40] = 255 - colours[i % 4]
            video = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video.pts = i
            for packet in stream.encode(video):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def ingest_video(app: App, folder: Path) -> int:
    """One sighting of a WebM clip; its id."""
    folder.mkdir(parents=True, exist_ok=True)
    make_webm(folder / "clip.webm", seconds=6.0)
    row = {
        "url": "https://video.test/v/1",
        "content": "clip.webm",
        "seen_at": "2026-11-30T10:00:00+00:00",
    }
    (folder / "items.jsonl").write_text(json.dumps(row) + "\n")
    report = Ingestor(app).ingest(folder / "items.jsonl", "jsonl", reporter=REPORTER)
    assert not report.rejected, report.rejected
    process_new_content(app, report.new_content_ids)
    with app.db.session() as session:
        found = session.scalar(select(Sighting.id).where(Sighting.url == "https://video.test/v/1"))
    assert found is not None
    return found
