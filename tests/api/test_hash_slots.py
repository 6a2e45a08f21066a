"""A bounded number of file-hashing requests at once (issue #20: no concurrency cap on
expensive routes): when every slot is taken, /lookup/file and uploads answer 503 with
Retry-After at once; a slot freed is usable again."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image

from takedown.api.app import create_app
from takedown.api.auth import SCOPES, create_key
from takedown.app import App


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_hashing_routes_refuse_when_every_slot_is_taken(sqlite_app: App) -> None:
    sqlite_app.settings.hash_concurrency = 2
    api = create_app(sqlite_app)
    key = {"X-API-Key": create_key(sqlite_app, "slots", list(SCOPES), agency="IRU").secret}
    files = {"file": ("a.png", _png(), "image/png")}
    slots = api.state.hash_slots
    assert slots.size == 2
    with TestClient(api) as client:
        with slots.slot(), slots.slot():  # two hashing requests in flight
            for path, data in (
                ("/api/v1/lookup/file", {}),
                ("/api/v1/sightings/upload", {"url": "https://video.example/1"}),
            ):
                busy = client.post(path, files=files, data=data, headers=key)
                assert busy.status_code == 503, busy.text
                assert busy.headers["retry-after"] == "5"
                assert busy.json()["error"]["code"] == "busy"
        assert slots.busy == 0
        done = client.post("/api/v1/lookup/file", files=files, headers=key)
        assert done.status_code == 200, done.text
    assert slots.busy == 0
