"""The HMA-compatible routes under /api/hma: HMA 2.0's paths, parameters and answer shapes."""

from __future__ import annotations

import hashlib
import io
import json

from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from takedown.app import App
from takedown.matching import banks
from takedown.matching.formats import BankRow
from tests.api.conftest import KeyMaker, bearer

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
NEAR = "f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22"  # 2 bits away
FAR = "0707" * 16
HMA = "/api/hma"


def photo() -> bytes:
    image = Image.new("RGB", (320, 200), "white")
    draw = ImageDraw.Draw(image)
    for i in range(0, 320, 40):
        draw.rectangle([i, (i * 3) % 150, i + 25, (i * 3) % 150 + 45], fill=(i % 255, 30, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed(app: App) -> dict[str, int]:
    banks.create_bank(app, "BANK_A")
    banks.create_bank(app, "BANK_B")
    banks.create_bank(app, "news", allow_list=True)
    banks.add_entries(app, "BANK_A", [BankRow("a", "pdq", PDQ)])
    banks.add_entries(app, "BANK_B", [BankRow("b", "pdq", NEAR), BankRow("c", "md5", "ab" * 16)])
    banks.add_entries(app, "news", [BankRow("n", "pdq", PDQ)])
    return {
        -1: banks.entries(app, "BANK_A")[0].id,
        -2: next(e.id for e in banks.entries(app, "BANK_B") if e.signal_type == "pdq"),
    }


def test_lookup_by_signal_answers_in_hma_shape(
    app: App, client: TestClient, make_key: KeyMaker
) -> None:
    ids = seed(app)
    key = bearer(make_key("lookup"))
    got = client.get(f"{HMA}/m/lookup", params={"signal_type": "pdq", "signal": PDQ}, headers=key)
    assert got.status_code == 200, got.text
    assert got.json() == {
        "BANK_A": [{"bank_content_id": ids[-1], "distance": "0"}],
        "BANK_B": [{"bank_content_id": ids[-2], "distance": "2"}],
    }  # the allow-list bank is not an HMA bank: left out
    only_b = client.get(
        f"{HMA}/m/lookup",
        params={"signal_type": "pdq", "signal": PDQ, "banks": "BANK_B"},
        headers=key,
    )
    assert list(only_b.json()) == ["BANK_B"]
    md5 = client.get(
        f"{HMA}/m/lookup", params={"signal_type": "video_md5", "signal": "AB" * 16}, headers=key
    )
    assert list(md5.json()) == ["BANK_B"]
    none = client.get(f"{HMA}/m/lookup", params={"signal_type": "pdq", "signal": FAR}, headers=key)
    assert none.json() == {}
    bad = client.get(f"{HMA}/m/lookup", params={"signal_type": "pdq", "signal": "xyz"}, headers=key)
    assert bad.status_code == 400
    unknown = client.get(
        f"{HMA}/m/lookup", params={"signal_type": "tmk_x", "signal": "00"}, headers=key
    )
    assert unknown.status_code == 400 and "No such SignalType" in unknown.text
    by_url = client.get(f"{HMA}/m/lookup", params={"url": "http://192.0.2.1/a.jpg"}, headers=key)
    assert by_url.status_code == 403  # as HMA without its hasher role: nothing is fetched


def test_raw_lookup_with_and_without_distance(
    app: App, client: TestClient, make_key: KeyMaker
) -> None:
    ids = seed(app)
    key = bearer(make_key("lookup"))
    plain = client.get(
        f"{HMA}/m/raw_lookup", params={"signal_type": "pdq", "signal": PDQ}, headers=key
    )
    assert sorted(plain.json()["matches"]) == sorted([ids[-1], ids[-2]])
    with_distance = client.get(
        f"{HMA}/m/raw_lookup",
        params={
            "signal_type": "pdq",
            "signal": NEAR,
            "include_distance": "true",
            "banks": "BANK_A",
        },
        headers=key,
    )
    assert with_distance.json() == {"matches": [{"bank_content_id": ids[-1], "distance": "2"}]}


def test_hash_and_lookup_an_uploaded_photo(
    app: App, client: TestClient, make_key: KeyMaker
) -> None:
    data = photo()
    key = bearer(make_key("lookup", "banks:write", "read"))
    # the key's agency owns the bank it creates (only a bank's owner changes it)
    created = client.post(f"{HMA}/c/banks", json={"name": "PHOTOS"}, headers=key)
    assert created.status_code == 201, created.text
    hashed = client.post(
        f"{HMA}/h/hash", files={"photo": ("p.png", data, "image/png")}, headers=key
    )
    assert hashed.status_code == 200, hashed.text
    signals = hashed.json()
    assert signals["video_md5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert len(signals["pdq"]) == 64
    added = client.post(
        f"{HMA}/c/bank/PHOTOS/content", files={"photo": ("p.png", data, "image/png")}, headers=key
    )
    assert added.status_code == 200, added.text
    assert added.json()["signals"]["pdq"] == signals["pdq"]
    looked = client.post(
        f"{HMA}/m/lookup", files={"photo": ("p.png", data, "image/png")}, headers=key
    )
    assert looked.json()["pdq"]["PHOTOS"][0]["distance"] == "0"
    assert looked.json()["video_md5"]["PHOTOS"][0]["bank_content_id"] > 0


def test_compare_and_index_status(app: App, client: TestClient, make_key: KeyMaker) -> None:
    seed(app)
    key = bearer(make_key("lookup"))
    compared = client.post(f"{HMA}/m/compare", json={"pdq": [PDQ, NEAR]}, headers=key)
    assert compared.json() == {"pdq": [True, {"distance": 2}]}
    far = client.post(f"{HMA}/m/compare", json={"pdq": [PDQ, FAR]}, headers=key)
    assert far.json()["pdq"][0] is False
    assert client.post(f"{HMA}/m/compare", json={"pdq": [PDQ]}, headers=key).status_code == 400
    status = client.get(f"{HMA}/m/index/status", headers=key).json()
    assert status["pdq"]["size"] == 3 and status["pdq"]["present"] is True
    assert status["video_md5"]["size"] == 1
    assert client.get(f"{HMA}/status", headers=key).text == "I-AM-ALIVE"
    assert client.get(f"{HMA}/status/live", headers=key).status_code == 200
    assert client.get(f"{HMA}/status/ready", headers=key).status_code == 200


def test_banks_and_bank_content(app: App, client: TestClient, make_key: KeyMaker) -> None:
    key = bearer(make_key("lookup", "banks:write", "read"))
    created = client.post(f"{HMA}/c/banks", json={"name": "TEST_BANK"}, headers=key)
    assert created.status_code == 201
    assert created.json() == {"name": "TEST_BANK", "matching_enabled_ratio": 1.0}
    assert client.post(f"{HMA}/c/banks", json={"name": "TEST_BANK"}, headers=key).status_code == 403
    assert (
        client.post(f"{HMA}/c/banks", json={"name": "lower case"}, headers=key).status_code == 400
    )
    added = client.post(f"{HMA}/c/bank/TEST_BANK/signal", json={"pdq": PDQ}, headers=key)
    assert added.status_code == 200, added.text
    content_id = added.json()["id"]
    assert added.json()["signals"] == {"pdq": PDQ}
    vpdq = json.dumps([f"{PDQ},100,0.0", f"{NEAR},90,1.0"])
    assert (
        client.post(f"{HMA}/c/bank/TEST_BANK/signal", json={"vpdq": vpdq}, headers=key).status_code
        == 200
    )
    bad = client.post(f"{HMA}/c/bank/TEST_BANK/signal", json={"pdq": "nothex"}, headers=key)
    assert bad.status_code == 400
    hit = client.get(f"{HMA}/m/lookup", params={"signal_type": "pdq", "signal": PDQ}, headers=key)
    assert hit.json() == {"TEST_BANK": [{"bank_content_id": content_id, "distance": "0"}]}
    updated = client.put(f"{HMA}/c/bank/TEST_BANK", json={"enabled": False}, headers=key)
    assert updated.json()["matching_enabled_ratio"] == 0.0
    renamed = client.put(f"{HMA}/c/bank/TEST_BANK", json={"name": "RENAMED"}, headers=key)
    assert renamed.json()["name"] == "RENAMED"
    assert client.get(f"{HMA}/c/bank/TEST_BANK", headers=key).status_code == 404
    assert [b["name"] for b in client.get(f"{HMA}/c/banks", headers=key).json()] == ["RENAMED"]
    gone = client.delete(f"{HMA}/c/bank/RENAMED/content/{content_id}", headers=key)
    assert gone.json() == {"deleted": 1}
    again = client.delete(f"{HMA}/c/bank/RENAMED/content/{content_id}", headers=key)
    assert again.json() == {"deleted": 0}
    assert client.delete(f"{HMA}/c/bank/RENAMED", headers=key).json() == {"message": "Done"}
    assert banks.entries(app, "RENAMED") == []


def test_every_hma_route_needs_a_key(client: TestClient) -> None:
    for method, path in (("GET", "/status"), ("GET", "/m/lookup"), ("GET", "/c/banks")):
        response = client.request(method, f"{HMA}{path}")
        assert response.status_code == 401
