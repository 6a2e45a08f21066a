"""Helpers of the ops tests: agencies with reporter aliases, sightings through the real ingest
path, referrals moved through the real state machines."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.ops.agencies import create_agency


def make_agencies(app: App, *names: str) -> None:
    with app.db.session() as session:
        for name in names:
            create_agency(session, name, [f"unit-{name.lower()}"])


def ingest(
    app: App,
    folder: Path,
    records: Iterable[dict[str, Any]],
    *,
    operation: str | None = None,
    name: str = "items",
) -> None:
    source = folder / f"{name}.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = Ingestor(app).ingest(source, "jsonl", operation=operation)
    assert report.ok and not report.rejected, report.rejected


def record(
    url: str, reporter: str, language: str = "en", seen: datetime | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"url": url, "reporter": reporter, "language": language}
    if seen is not None:
        out["seen_at"] = seen.isoformat()
    return out
