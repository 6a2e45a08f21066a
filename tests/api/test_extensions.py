"""The referrals wiring point: a handler module, when present, is mounted behind its scope."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from fastapi.testclient import TestClient

from takedown.api.app import create_app, route_table
from takedown.api.extensions import CALLBACKS, mounted
from takedown.app import App
from takedown.web.figures import REFERRAL_FIGURES, Figure, all_figures
from tests.api.conftest import KeyMaker, bearer


def test_callback_handler_is_mounted_with_the_respond_scope(
    app: App, make_key: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, dict[str, str]]] = []

    def handle_callback(app: Any, raw_body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        calls.append((raw_body, headers))
        return {"accepted": True}

    module = types.ModuleType(CALLBACKS)
    module.handle_callback = handle_callback  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, CALLBACKS, module)
    api = create_app(app)
    assert f"{CALLBACKS}.handle_callback" in mounted(api)
    scopes = {p: e.get("x-required-scope") for p, _m, e in route_table(api)}
    assert scopes["/api/v1/referrals/callback"] == "referrals:respond"
    with TestClient(api) as client:
        platform = make_key("referrals:respond", platform="telegram")
        ok = client.post(
            "/api/v1/referrals/callback",
            content=b'{"referral": 1, "state": "removed"}',
            headers={**bearer(platform), "x-takedown-platform": "forged"},
        )
        assert ok.status_code == 200 and ok.json() == {"data": {"accepted": True}}
        assert calls[0][0] == b'{"referral": 1, "state": "removed"}'
        assert calls[0][1]["x-takedown-platform"] == "telegram"  # from the key, not the client
        assert client.post("/api/v1/referrals/callback").status_code == 401
        lookup_only = make_key("lookup", platform="telegram")
        assert (
            client.post("/api/v1/referrals/callback", headers=bearer(lookup_only)).status_code
            == 403
        )


def test_without_the_referrals_modules_nothing_extra_is_mounted(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, CALLBACKS, None)
    monkeypatch.setitem(sys.modules, "takedown.referrals.api", None)
    monkeypatch.setitem(sys.modules, "takedown.verify.api", None)
    api = create_app(app)
    assert mounted(api) == []
    assert "/api/v1/referrals/callback" not in {p for p, _m, _e in route_table(api)}


def test_referral_figures_replace_the_store_figures(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType(REFERRAL_FIGURES)

    def dashboard_figures(app: Any) -> list[Figure]:
        return [
            Figure("time_to_removal", "From referral", "boxes", ["platform"], []),
            Figure(
                "overdue_orders", "Overdue removal orders", "bars", ["platform", "n"], [["x", 2]]
            ),
        ]

    module.dashboard_figures = dashboard_figures  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, REFERRAL_FIGURES, module)
    figures = {f.name: f for f in all_figures(app)}
    assert figures["time_to_removal"].title == "From referral"
    assert figures["overdue_orders"].rows == [["x", 2]]
    assert "items_by_platform" in figures


def test_groups_from_the_referrals_package_become_removal_figures() -> None:
    from types import SimpleNamespace

    from takedown.web.figures import referral_figures

    groups = [
        SimpleNamespace(key="x", referred=4, times=[1800.0, 7200.0, 3 * 86400.0]),
        SimpleNamespace(key="telegram", referred=2, times=[]),
    ]
    figures = {f.name: f for f in referral_figures(groups)}
    assert figures["time_to_removal"].rows == [["x", 3, 0.8, 1.25, 2.0, 37.0, 58.0]]
    assert figures["removed_within"].rows == [
        ["x", 4, 0.25, 0.5, 0.75],
        ["telegram", 2, 0.0, 0.0, 0.0],
    ]
