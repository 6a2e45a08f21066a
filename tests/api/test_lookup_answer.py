"""The hash-lookup routes write their JSON themselves (no response-model build): the answer
must still be exactly what the declared response model describes, for matches of every kind,
and values plain ``json`` cannot write (NaN, numpy numbers, lone surrogates) must not break it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from takedown.api.lookup import LookupBatchOut, _answer
from takedown.api.schemas import BankMatch, ContentMatch, LookupOut, One
from takedown.app import App
from tests.api.conftest import KeyMaker, bearer
from tests.api.seed import Seeded, seed


@pytest.fixture
def seeded(app: App, tmp_path: Path) -> Seeded:
    return seed(app, tmp_path / "seed")


def _as_the_model_writes_it(body: dict[str, object], model: type) -> dict[str, object]:
    return json.loads(One[model].model_validate(body).model_dump_json())  # type: ignore[valid-type, no-any-return]


def test_hash_lookup_answers_are_what_the_response_model_says(
    seeded: Seeded, client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("lookup")
    flipped = f"{int(seeded.pdq, 16) ^ 0b1011:064x}"
    single = client.get(
        "/api/v1/lookup", params={"signal_type": "pdq", "value": flipped}, headers=bearer(key)
    )
    assert single.status_code == 200 and single.headers["content-type"] == "application/json"
    body = single.json()
    # a bank hit and a content hit (the seeded image is stored content too), every field
    data = body["data"]
    assert data["bank_matches"] and data["content_matches"]
    assert set(data["bank_matches"][0]) == set(BankMatch.model_fields)
    assert set(data["content_matches"][0]) == set(ContentMatch.model_fields)
    assert body == _as_the_model_writes_it(body, LookupOut)
    batch = client.post(
        "/api/v1/lookup/batch",
        json={"signal_type": "pdq", "hashes": [[flipped], ["0" * 64]]},
        headers=bearer(key),
    )
    assert batch.status_code == 200
    assert batch.json() == _as_the_model_writes_it(batch.json(), LookupBatchOut)
    assert batch.json()["data"]["results"][0] == data
    # the security headers reach these answers too
    assert single.headers["cache-control"] == "no-store"
    assert "sandbox" in single.headers["content-security-policy"]


def _hit(evidence: object) -> dict[str, object]:
    return {
        "signal_type": "keypoints",
        "value": "v",
        "bank_matches": [],
        "content_matches": [
            {
                "content_id": 1,
                "sha256": "a" * 64,
                "signal_type": "keypoints",
                "distance": 3,
                "name": "x\ud800y",
                "urls": [],
                "evidence": evidence,
            }
        ],
    }


def test_values_plain_json_cannot_write_still_answer() -> None:
    numbers = _answer(_hit({"inliers": np.int64(12), "scale": np.float32(0.5)}))
    assert json.loads(numbers.body)["data"]["content_matches"][0]["evidence"] == {
        "inliers": 12,
        "scale": 0.5,
    }
    odd = _answer(_hit({"coverage": float("nan"), "shares": (np.float64("inf"), 1)}))
    match = json.loads(odd.body)["data"]["content_matches"][0]
    assert match["evidence"] == {"coverage": None, "shares": [None, 1]}  # as pydantic writes
    assert match["name"] == "x\ufffdy"
    assert json.loads(odd.body) == _as_the_model_writes_it(json.loads(odd.body), LookupOut)
