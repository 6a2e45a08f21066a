"""The demo's second story and its ending: the outlet network mapped from imported files,
planned, referred to hosters and registrars, seized, caught coming back; the users and the
next steps; a second run that adds nothing."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from stix2validator import ValidationOptions, validate_string  # type: ignore[import-untyped]

from takedown.access.roles import ROLES
from takedown.app import App
from takedown.cli import main
from takedown.config import Settings
from takedown.demo import network
from takedown.demo.outlet_day import OUTLET_OPERATION
from takedown.infra.facts import ip_flags
from takedown.infra.models import InfraAlert, InfraEdge, InfraEvent
from takedown.referrals.models import Referral
from takedown.store.models import Sighting


def _demo(data: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["--data", str(data), "demo", "--size", "small", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    data = tmp_path_factory.mktemp("demo-outlets")
    return data, _demo(data)


def _counts(data: Path) -> dict[str, int]:
    app = App(Settings(data=data))
    try:
        with app.db.session() as session:
            return {
                "sightings": session.scalar(select(func.count(Sighting.id))) or 0,
                "edges": session.scalar(select(func.count(InfraEdge.id))) or 0,
                "events": session.scalar(select(func.count(InfraEvent.id))) or 0,
                "alerts": session.scalar(select(func.count(InfraAlert.id))) or 0,
            }
    finally:
        app.close()


def test_the_network_is_synthetic_and_documentation_addresses_still_serve() -> None:
    for hoster in network.HOSTERS:
        first = hoster.cidr.split("/")[0]
        assert ip_flags(first)[1] == ["documentation"]
        assert 64496 <= hoster.asn <= 64511  # documentation AS numbers
    names = [s.domain for o in network.OUTLETS for s in o.sites]
    names += [d for _k, d, *_rest in network.COMEBACK]
    assert all(n.endswith((".example", ".test")) for n in names)
    assert len({h.country for h in network.HOSTERS}) == 8


def test_plans_become_referrals_to_hosters_and_registrars_that_the_fakes_act_on(
    run: tuple[Path, dict[str, Any]],
) -> None:
    data, out = run
    day = out["outlet_takedown"]
    assert all(r["rejected"] == 0 for r in day["imported"])
    assert {r["format"] for r in day["imported"]} == {"ip2asn", "rdap", "whois", "pdns", "certs"}
    plans = {p["outlet"]: p for p in day["plans"]}
    assert "network AS64501" in plans["Silver Dune Bulletin"]["single_points_of_failure"]
    assert len({c for p in day["plans"] for c in p["countries"]}) == 6
    kinds = {r["addressee_kind"] for r in day["referrals"]}
    assert kinds == {"hoster", "registrar"}
    assert day["sent"] == len(day["referrals"]) and day["failed"] == 0
    assert day["callbacks"] > 0
    assert 0 < day["removed"] < day["sightings"]  # the offshore hoster ignored its referral
    app = App(Settings(data=data))
    try:
        with app.db.session() as session:
            states = dict(
                session.execute(
                    select(Referral.addressee_name, Referral.state).where(
                        Referral.addressee_kind.in_(("hoster", "registrar"))
                    )
                ).all()
            )
    finally:
        app.close()
    assert states["Lagoon Offshore Ltd (synthetic)"] != "actioned"
    assert states["Quillpoint Registrar Inc. (synthetic)"] == "actioned"


def test_the_comeback_is_detected_with_its_evidence(run: tuple[Path, dict[str, Any]]) -> None:
    _data, out = run
    day = out["outlet_takedown"]
    assert len(day["events"]) == 3
    vias: dict[str, set[str]] = {}
    for a in day["alerts"]:
        if a["kind"] == "domain":
            vias.setdefault(a["label"], set()).update(e["via"] for e in a["evidence"])
    assert {"nameserver", "analytics_id"} <= vias["crimson-dawn-live.example"]
    assert {"nameserver", "certificate"} <= vias["northern-lantern-24.test"]
    assert vias["silver-dune-bulletin.example"] == {"content_sha256"}
    assert day["confirmed"] == {
        "Crimson Dawn Media": ["crimson-dawn-live.example"],
        "Northern Lantern Network": ["northern-lantern-24.test"],
        "Silver Dune Bulletin": ["silver-dune-bulletin.example"],
    }


def test_exports_show_the_outlets_events_and_comeback(
    run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    data, _out = run
    runner = CliRunner()
    for kind in ("stix", "misp"):
        target = tmp_path / f"x.{kind}.json"
        args = ["--data", str(data), "export", kind, "--operation", OUTLET_OPERATION]
        result = runner.invoke(main, [*args, "--out", str(target), "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert (summary["outlets"], summary["events"]) == (3, 3) and summary["sightings"] > 0
    bundle = (tmp_path / "x.stix.json").read_text()
    assert validate_string(bundle, ValidationOptions(version="2.1", strict=False)).is_valid
    types = [o["type"] for o in json.loads(bundle)["objects"]]
    assert types.count("infrastructure") == 3 and types.count("incident") == 3
    misp = json.loads((tmp_path / "x.misp.json").read_text())["Event"]["Attribute"]
    assert "crimson-dawn-live.example" in {a["value"] for a in misp}


def test_users_per_role_and_the_next_steps_work_on_the_data(
    run: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = run
    users = out["users"]
    assert len(users) == 3 * len(ROLES) and all(u["password"] for u in users)
    assert {u["role"] for u in users} == set(ROLES)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for step in out["next"]:
        words = shlex.split(step)
        assert words[:3] == ["takedown", "--data", str(data)]
        result = runner.invoke(main, words[1:])
        assert result.exit_code == 0, f"{step}: {result.output}"


def test_a_demo_user_sees_the_outlets_in_the_workspace(run: tuple[Path, dict[str, Any]]) -> None:
    from fastapi.testclient import TestClient

    from takedown.api.app import create_app

    data, out = run
    user = next(u for u in out["users"] if u["username"] == "unit-a-analyst")
    app = App(Settings(data=data))
    try:
        with TestClient(create_app(app)) as client:
            form = client.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            login = {"username": user["username"], "password": user["password"]}
            answer = client.post(
                "/login", data={**login, "csrf": csrf.group(1)}, follow_redirects=False
            )
            assert answer.status_code == 303
            page = client.get("/infra").text
    finally:
        app.close()
    for outlet in network.OUTLETS:
        assert outlet.name in page


def test_a_second_run_adds_nothing_twice(run: tuple[Path, dict[str, Any]]) -> None:
    data, first = run
    before = _counts(data)
    again = _demo(data)
    after = _counts(data)
    assert after == before
    assert all(u["password"] is None for u in again["users"])  # shown once, by the first run
    assert again["followup"]["reuploads_found"] == 0
    assert again["summary"]["sightings"] == first["summary"]["sightings"]
