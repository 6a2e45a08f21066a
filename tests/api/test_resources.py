"""Sightings, content, lookup, banks, clusters: shapes, pagination, filtering, hostile input."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import skimage.data
from fastapi.testclient import TestClient
from PIL import Image

from takedown.api.app import create_app
from takedown.app import App
from takedown.cli.bank_files import rows_of_file
from takedown.config import Settings
from takedown.matching import banks as bank_ops
from takedown.matching.formats import BankRow
from takedown.robust import edits
from tests.api.conftest import KeyMaker, bearer
from tests.api.seed import Seeded, seed


@pytest.fixture
def seeded(app: App, tmp_path: Path) -> Seeded:
    return seed(app, tmp_path / "seed")


def test_lookup_by_hash_gives_distances_labels_and_bank_metadata(
    seeded: Seeded, client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("lookup")
    flipped = f"{int(seeded.pdq, 16) ^ 0b111:064x}"
    response = client.get(
        "/api/v1/lookup", params={"signal_type": "pdq", "value": flipped}, headers=bearer(key)
    )
    assert response.status_code == 200
    hit = response.json()["data"]["bank_matches"][0]
    assert hit["distance"] == 3 and isinstance(hit["distance"], int)
    assert hit["bank"] == "synthetic-bank"
    assert hit["labels"]["outlet"] == "Synthetic Outlet"
    assert hit["bank_description"] == "synthetic test bank" and hit["bank_version"] >= 2
    other = client.get(
        "/api/v1/lookup",
        params={"signal_type": "pdq", "value": flipped, "bank": "another"},
        headers=bearer(key),
    )
    assert other.json()["data"]["bank_matches"] == []
    posted = client.post(
        "/api/v1/lookup",
        json={"signal_type": "pdq", "values": [seeded.pdq], "banks": ["synthetic-bank"]},
        headers=bearer(key),
    )
    assert posted.json()["data"]["bank_matches"][0]["distance"] == 0
    bad = client.get(
        "/api/v1/lookup", params={"signal_type": "pdq", "value": "zz"}, headers=bearer(key)
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_signal"


def test_lookup_by_file_and_platform_key_limits(
    seeded: Seeded, client: TestClient, make_key: KeyMaker
) -> None:
    agency = make_key("lookup")
    files = {"file": ("k.png", seeded.known_image.read_bytes(), "image/png")}
    response = client.post("/api/v1/lookup/file", files=files, headers=bearer(agency))
    assert response.status_code == 200, response.text
    results = {r["signal_type"]: r for r in response.json()["data"]["results"]}
    assert results["pdq"]["bank_matches"][0]["distance"] == 0
    platform = make_key("lookup", platform="telegram")
    assert (
        client.post("/api/v1/lookup/file", files=files, headers=bearer(platform)).status_code == 403
    )
    by_hash = client.get(
        "/api/v1/lookup",
        params={"signal_type": "pdq", "value": seeded.pdq},
        headers=bearer(platform),
    )
    assert by_hash.status_code == 200
    assert client.get("/api/v1/sightings", headers=bearer(platform)).status_code == 403


def test_hostile_file_lookup_is_a_clear_error_or_no_match(
    seeded: Seeded, client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("lookup")
    for data in (b"\x89PNG\r\n\x1a\n" + b"\xff" * 4000, b"GIF89a" + b"\x00" * 10, b"%PDF-1.4\n"):
        response = client.post(
            "/api/v1/lookup/file", files={"file": ("x.png", data)}, headers=bearer(key)
        )
        assert response.status_code in (200, 400), response.text
        assert "data" in response.json() or "error" in response.json()


def test_sightings_cursor_pagination_walks_everything_once(
    seeded: Seeded, client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("read")
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/v1/sightings", params=params, headers=bearer(key)).json()
        seen.extend(s["id"] for s in body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seeded.sighting_ids, reverse=True)
    telegram = client.get(
        "/api/v1/sightings", params={"platform": "telegram"}, headers=bearer(key)
    ).json()["data"]
    assert [s["platform"] for s in telegram] == ["telegram"]
    removed = client.get("/api/v1/sightings", params={"removed": True}, headers=bearer(key))
    assert [s["id"] for s in removed.json()["data"]] == [seeded.sighting_ids[0]]
    bad = client.get("/api/v1/sightings", params={"cursor": "!!nope"}, headers=bearer(key))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_cursor"
    missing = client.get("/api/v1/sightings/999999", headers=bearer(key))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_clusters_show_copies_removal_and_reupload(
    seeded: Seeded, client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("read")
    body = client.get(f"/api/v1/clusters/{seeded.cluster_id}", headers=bearer(key)).json()["data"]
    assert body["known"] is True
    assert body["sightings"] == 3 and body["removed"] == 1 and body["reuploads"] == 1
    assert body["platforms"] == ["telegram", "x"]
    assert [s["id"] for s in body["timeline"]] == seeded.sighting_ids[:3]
    listed = client.get("/api/v1/clusters", params={"known": True}, headers=bearer(key)).json()
    assert [c["id"] for c in listed["data"]] == [seeded.cluster_id]
    content_id = body["timeline"][0]["content_id"]
    content = client.get(f"/api/v1/content/{content_id}", headers=bearer(key)).json()["data"]
    assert {s["signal_type"] for s in content["signals"]} >= {"pdq", "sha256"}
    assert content["sighting_ids"] == seeded.sighting_ids[:3]


def test_banks_create_add_list_remove(client: TestClient, make_key: KeyMaker) -> None:
    writer, reader = make_key("banks:write"), make_key("read")
    created = client.post(
        "/api/v1/banks",
        json={"name": "b1", "description": "d", "thresholds": {"pdq": 20}},
        headers=bearer(writer),
    )
    assert created.status_code == 201 and created.json()["data"]["thresholds"] == {"pdq": 20}
    entries = [
        {"signal_type": "pdq", "value": f"{i:064x}", "labels": {"outlet": "o"}} for i in range(5)
    ]
    entries.append({"signal_type": "pdq", "value": "not hex"})
    added = client.post(
        "/api/v1/banks/b1/entries", json={"entries": entries}, headers=bearer(writer)
    )
    assert added.json()["data"]["added"] == 5 and len(added.json()["data"]["rejected"]) == 1
    page = client.get(
        "/api/v1/banks/b1/entries", params={"limit": 3}, headers=bearer(reader)
    ).json()
    assert len(page["data"]) == 3 and page["next_cursor"]
    rest = client.get(
        "/api/v1/banks/b1/entries", params={"cursor": page["next_cursor"]}, headers=bearer(reader)
    ).json()
    assert len(rest["data"]) == 2 and rest["next_cursor"] is None
    entry_id = page["data"][0]["id"]
    gone = client.delete(f"/api/v1/banks/b1/entries/{entry_id}", headers=bearer(writer))
    assert gone.status_code == 200 and gone.json()["data"]["removed_at"]
    assert client.get("/api/v1/banks/b1", headers=bearer(reader)).json()["data"]["entries"] == 4
    dup = client.post("/api/v1/banks", json={"name": "b1"}, headers=bearer(writer))
    assert dup.status_code == 400 and dup.json()["error"]["code"] == "bad_bank"
    assert client.get("/api/v1/banks/nope", headers=bearer(reader)).status_code == 404


def test_submit_by_url_upload_and_batch(
    app: App, client: TestClient, make_key: KeyMaker, tmp_path: Path
) -> None:
    key = make_key("submit", "read")
    one = client.post(
        "/api/v1/sightings",
        json={"url": "https://x.com/someone/status/42", "seen_at": "2026-11-01T10:00:00Z"},
        headers=bearer(key),
    )
    assert one.status_code == 201, one.text
    sid = one.json()["data"]["sighting_ids"][0]
    got = client.get(f"/api/v1/sightings/{sid}", headers=bearer(key)).json()["data"]
    assert got["platform"] == "x" and got["reporter"].startswith("api-key:")
    empty = client.post("/api/v1/sightings", json={}, headers=bearer(key))
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_record"
    bad_url = client.post(
        "/api/v1/sightings", json={"url": "javascript:alert(1)"}, headers=bearer(key)
    )
    assert bad_url.status_code == 201 and bad_url.json()["data"]["rejected"]
    from tests.api.seed import synthetic_image

    image = synthetic_image(tmp_path / "i.png", 7).read_bytes()
    up = client.post(
        "/api/v1/sightings/upload",
        files={"file": ("i.png", image, "image/png")},
        data={"url": "https://t.me/c/1"},
        headers=bearer(key),
    )
    assert up.status_code == 201 and up.json()["data"]["contents_created"] == 1
    hostile = client.post(
        "/api/v1/sightings/upload",
        files={"file": ("evil.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)},
        headers=bearer(key),
    )
    assert hostile.status_code == 201 and hostile.json()["data"]["rejected"]
    lines = "\n".join(
        [json.dumps({"url": "https://x.com/a/status/7"}), "{not json", json.dumps([1])]
    )
    batch = client.post(
        "/api/v1/sightings/batch",
        files={"file": ("b.jsonl", io.BytesIO(lines.encode()))},
        headers=bearer(key),
    )
    data = batch.json()["data"]
    assert batch.status_code == 201 and data["created"] == 1 and len(data["rejected"]) == 2


@pytest.fixture
def small_client(database_url: str, tmp_path: Path) -> Iterator[tuple[App, TestClient]]:
    small = App(Settings(data=tmp_path / "small", database_url=database_url, max_file_bytes=1000))
    with TestClient(create_app(small)) as test_client:
        yield small, test_client
    small.close()


def test_upload_over_the_limit_is_413_and_leaves_nothing(
    small_client: tuple[App, TestClient],
) -> None:
    small, test_client = small_client
    from takedown.api.auth import create_key

    key = create_key(small, "k", ["submit", "lookup"], agency="IRU").secret
    for path in ("/api/v1/sightings/upload", "/api/v1/lookup/file", "/api/v1/sightings/batch"):
        response = test_client.post(
            path, files={"file": ("big.bin", b"x" * 5000)}, headers=bearer(key)
        )
        assert response.status_code == 413, path
        assert response.json()["error"]["code"] == "too_large"
    assert list((small.settings.data / "uploads").iterdir()) == []


def test_file_lookup_says_why_a_crop_matches_by_keypoints(
    app: App, client: TestClient, make_key: KeyMaker, tmp_path: Path
) -> None:
    # A public-domain photo shipped in scikit-image's wheel, banked by file; its 20 % crop
    # evades PDQ and is found by keypoints, with the evidence a reviewer needs.
    photo = Image.fromarray(skimage.data.astronaut()).resize((480, 480))
    photo.save(tmp_path / "original.png")
    bank_ops.create_bank(app, "partner")
    rows = rows_of_file(tmp_path / "original.png", {"outlet": "Pale Harbor Wire"})
    bank_ops.add_entries(app, "partner", [r for r in rows if isinstance(r, BankRow)])
    crop = io.BytesIO()
    edits.crop(photo, 0.2).save(crop, "PNG")
    response = client.post(
        "/api/v1/lookup/file",
        files={"file": ("crop.png", crop.getvalue(), "image/png")},
        headers=bearer(make_key("lookup")),
    )
    assert response.status_code == 200, response.text
    results = {r["signal_type"]: r for r in response.json()["data"]["results"]}
    assert results["pdq"]["bank_matches"] == []
    (hit,) = results["keypoints"]["bank_matches"]
    evidence = hit["evidence"]
    assert evidence["inliers"] >= 6 and abs(evidence["scale"] - 0.8) < 0.05
    assert evidence["layout"] > 0.6 and hit["labels"]["outlet"] == "Pale Harbor Wire"
