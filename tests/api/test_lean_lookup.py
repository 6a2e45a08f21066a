"""``GET /api/v1/lookup`` answers the common, valid request on a lean path (no FastAPI
dependency solving; a warm lookup on the event loop). It must give exactly the answer of the
declared route's full handler, for every request — valid or not, any key — and must really be
the path valid requests take."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown.api import lean
from takedown.api.lookup import LookupService
from takedown.app import App
from tests.api.conftest import KeyMaker
from tests.api.seed import Seeded, seed


def _lean_route(api: FastAPI) -> Any:
    (route,) = [r for r in api.routes if hasattr(r, "served")]
    return route


@pytest.fixture
def seeded(app: App, tmp_path: Path) -> Seeded:
    return seed(app, tmp_path / "seed")


def _both(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, query: str, headers: dict[str, str]
) -> tuple[Any, Any]:
    """The answer with the lean path off (every request through FastAPI's handler), then on."""
    with monkeypatch.context() as off:
        off.setattr(lean, "cached_caller", lambda request, scope: None)
        full = client.get(f"/api/v1/lookup?{query}", headers=headers)
    fast = client.get(f"/api/v1/lookup?{query}", headers=headers)
    return full, fast


def _same(full: Any, fast: Any) -> None:
    assert (fast.status_code, fast.content) == (full.status_code, full.content)
    assert fast.headers["content-type"] == full.headers["content-type"]


def test_valid_lookups_take_the_lean_path_and_answer_as_the_full_handler(
    seeded: Seeded, api: FastAPI, client: TestClient, make_key: KeyMaker, monkeypatch: Any
) -> None:
    key = make_key("lookup")
    route = _lean_route(api)
    flipped = f"{int(seeded.pdq, 16) ^ 0b1011:064x}"
    for query, header in (
        ({"signal_type": "pdq", "value": flipped}, {"Authorization": f"Bearer {key}"}),
        ({"signal_type": "pdq", "value": "0" * 64}, {"X-API-Key": key}),
        ({"signal_type": "pdq", "value": [flipped, "f" * 64], "bank": "nope"}, {"X-API-Key": key}),
    ):
        full, fast = _both(client, monkeypatch, urlencode(query, doseq=True), header)
        before = route.served
        again = client.get("/api/v1/lookup", params=query, headers=header)
        assert route.served == before + 1  # the lean path answered, not FastAPI's handler
        assert full.status_code == 200 and full.json()["data"]["signal_type"] == "pdq"
        _same(full, fast)
        _same(full, again)


def test_a_lookup_while_the_index_is_held_elsewhere_goes_to_the_threads(
    seeded: Seeded, app: App, api: FastAPI, client: TestClient, make_key: KeyMaker
) -> None:
    key = make_key("lookup")
    query = {"signal_type": "pdq", "value": seeded.pdq}
    first = client.get("/api/v1/lookup", params=query, headers={"X-API-Key": key})
    service: LookupService = api.state.lookups
    assert service.by_hash_now("pdq", [seeded.pdq], None) is not None  # warm: answered at once
    with service._lock:  # another lookup (a file, a video) holds the index
        assert service.by_hash_now("pdq", [seeded.pdq], None) is None
    # the route still answers the same (from the threads once the lock is free)
    again = client.get("/api/v1/lookup", params=query, headers={"X-API-Key": key})
    assert again.json() == first.json() and first.json()["data"]["bank_matches"]


_TEXT = st.one_of(
    st.sampled_from(["pdq", "md5", "PDQ", "video_md5", "", "pdq\n", "p\x7fq", "x" * 65]),
    st.text(max_size=70),
)
_HEX = st.one_of(
    st.sampled_from(["0" * 64, "f" * 64, "zz", "", "0" * 63, "a" * 9000]),
    st.text(alphabet="0123456789abcdef", min_size=60, max_size=66),
)


@st.composite
def _queries(draw: st.DrawFn) -> str:
    pairs: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(0, 2))):
        pairs.append(("signal_type", draw(_TEXT)))
    for _ in range(draw(st.sampled_from([0, 1, 2, 16, 17]))):
        pairs.append(("value", draw(_HEX)))
    for _ in range(draw(st.sampled_from([0, 0, 1, 50, 51]))):
        pairs.append(("bank", draw(st.sampled_from(["bank-a", "nope", "", "b" * 201]))))
    if draw(st.booleans()):
        pairs.append(("other", "x"))
    order = draw(st.permutations(pairs))
    return urlencode(order)


def test_any_request_gets_the_full_handlers_answer(
    seeded: Seeded, client: TestClient, make_key: KeyMaker, monkeypatch: Any
) -> None:
    lookup_key, other_key = make_key("lookup"), make_key("submit")
    auths = [
        {"Authorization": f"Bearer {lookup_key}"},
        {"authorization": f"bearer   {lookup_key}  "},
        {"X-API-Key": lookup_key},
        {"Authorization": f"Basic {lookup_key}", "X-API-Key": lookup_key},
        {"Authorization": "Bearer", "X-API-Key": lookup_key},
        {"Authorization": f"Bearer {other_key}"},
        {"X-API-Key": other_key},
        {"Authorization": "Bearer td_nope_nope"},
        {},
    ]

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(query=_queries(), auth=st.sampled_from(auths))
    def check(query: str, auth: dict[str, str]) -> None:
        full, fast = _both(client, monkeypatch, query, auth)
        _same(full, fast)

    check()
