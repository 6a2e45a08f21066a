"""Batch lookups (many hashes, one request) answer as single lookups do, in order; the
readiness route says whether the index is loaded and how far behind the store it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from takedown.app import App
from tests.api.conftest import KeyMaker, bearer
from tests.api.seed import Seeded, seed


@pytest.fixture
def seeded(app: App, tmp_path: Path) -> Seeded:
    return seed(app, tmp_path / "seed")


def test_a_batch_answers_each_hash_as_a_single_lookup_does(
    seeded: Seeded, client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("lookup")
    flipped = f"{int(seeded.pdq, 16) ^ 0b111:064x}"
    unrelated = "0" * 64
    batch = client.post(
        "/api/v1/lookup/batch",
        json={"signal_type": "pdq", "hashes": [[flipped], [unrelated], [seeded.pdq]]},
        headers=bearer(key),
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["data"]["results"]
    assert [r["value"] for r in results] == [flipped, unrelated, seeded.pdq]
    for value, result in zip([flipped, unrelated, seeded.pdq], results, strict=True):
        single = client.post(
            "/api/v1/lookup", json={"signal_type": "pdq", "values": [value]}, headers=bearer(key)
        )
        assert single.json()["data"] == result
    assert results[0]["bank_matches"][0]["distance"] == 3
    assert results[1]["bank_matches"] == []


def test_a_batch_refuses_too_many_hashes_and_empty_variants(
    client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("lookup")
    for hashes in ([["ab" * 32]] * 1001, [[]], []):
        response = client.post(
            "/api/v1/lookup/batch",
            json={"signal_type": "pdq", "hashes": hashes},
            headers=bearer(key),
        )
        assert response.status_code == 422, len(hashes)
    bad = client.post(
        "/api/v1/lookup/batch",
        json={"signal_type": "pdq", "hashes": [["not a hash"]]},
        headers=bearer(key),
    )
    assert bad.status_code == 400


def test_readiness_says_loaded_and_how_stale(
    seeded: Seeded, client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("lookup")
    before = client.get("/api/v1/lookup/ready", headers=bearer(key)).json()["data"]
    assert before["ready"] is False and before["signals_behind"] is None
    client.get(
        "/api/v1/lookup", params={"signal_type": "pdq", "value": seeded.pdq}, headers=bearer(key)
    )
    after = client.get("/api/v1/lookup/ready", headers=bearer(key)).json()["data"]
    assert after["ready"] is True and after["loaded"] is True
    assert after["signals_behind"] == 0 and after["bank_changes_behind"] == 0
