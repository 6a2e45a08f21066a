"""Helpers of the ops tests: agencies with reporter aliases, sightings through the real ingest
path, referrals moved through the real state machines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.api.auth import SCOPES, create_key
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


class World:
    """A test client and one API key per agency (Alpha, Bravo, Charlie: every scope) plus a
    read-only Alpha key (``reader``)."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def call(self, who: str, method: str, url: str, **kwargs: Any) -> Any:
        return self.client.request(
            method, url, headers={"Authorization": f"Bearer {self.keys[who]}"}, **kwargs
        )


@pytest.fixture
def world(app: App) -> Iterator[World]:
    make_agencies(app, "Alpha", "Bravo", "Charlie")
    keys = {
        name: create_key(app, name, sorted(SCOPES), agency=name).secret
        for name in ("Alpha", "Bravo", "Charlie")
    }
    keys["reader"] = create_key(app, "reader", ["read"], agency="Alpha").secret
    with TestClient(create_app(app)) as client:
        yield World(client, keys)
