from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx
from click.testing import CliRunner
from stix2validator import ValidationOptions, validate_string  # type: ignore[import-untyped]

from takedown.app import App
from takedown.cli import main
from takedown.config import Settings
from takedown.infra.export import collect, to_misp, to_stix
from takedown.infra.picture import render_html
from takedown.infra.resilience import check_event, record_event
from takedown.infra.store import define_outlet

from .conftest import DATA, add_sighting, load_fixtures

XSS = '<script>alert("x")</script>'


def _scenario(app: App) -> int:
    load_fixtures(app)
    add_sighting(
        app,
        "https://news-outlet.example/it's\\a",
        seen_at=datetime(2026, 10, 1, tzinfo=UTC),
        body=b"x",
    )
    add_sighting(
        app, "https://mirror-outlet.test/b", seen_at=datetime(2026, 10, 2, tzinfo=UTC), body=b"x"
    )
    with app.db.session() as session:
        define_outlet(session, XSS, ["news-outlet.example"])
        ev = record_event(
            session,
            action="seized",
            targets=["ip:198.51.100.10", "hostname:www.news-outlet.example"],
            at=datetime(2026, 5, 1, tzinfo=UTC),
            outlet="Front Media",
            note=XSS,
            operation="op-1",
        )
        event_id = ev.id
        check_event(session, event_id)
    return event_id


def test_stix_bundle_is_valid_and_misp_event_complete(app: App) -> None:
    _scenario(app)
    with app.db.session() as session:
        found = collect(session)
    assert set(found.outlets) == {"Front Media", XSS}
    bundle = to_stix(found)
    result = validate_string(bundle, ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, [str(e) for e in result.errors]
    doc = json.loads(bundle)
    types = {o["type"] for o in doc["objects"]}
    assert {
        "infrastructure",
        "indicator",
        "incident",
        "relationship",
        "domain-name",
        "ipv4-addr",
        "autonomous-system",
        "marking-definition",
    } <= types
    patterns = [o["pattern"] for o in doc["objects"] if o["type"] == "indicator"]
    assert "[url:value = 'https://news-outlet.example/it\\'s\\\\a']" in patterns
    assert to_stix(found) == bundle  # stable identifiers
    misp = to_misp(found, now=datetime(2026, 11, 30, tzinfo=UTC))["Event"]
    kinds = {a["type"] for a in misp["Attribute"]}
    assert {"domain", "ip-dst", "url", "sha256", "AS", "domain|ip"} <= kinds
    assert misp["Tag"] == [{"name": "tlp:amber"}]
    assert len({a["uuid"] for a in misp["Attribute"]}) == len(misp["Attribute"])


def test_picture_is_standalone_and_escapes_everything(app: App) -> None:
    _scenario(app)
    with app.db.session() as session:
        page = render_html(session, "Front Media")
        evil = render_html(session, XSS)
    for html in (page, evil):
        assert "<script" not in html
        assert not re.search(r"(src|href)\s*=", html)  # no external (or any) assets
    assert "&lt;script&gt;" in page  # the event note, escaped
    assert 'class="taken"' in page  # the seized IP is marked
    assert "Example Registrar &lt;b&gt;Ltd&lt;/b&gt;" in page


def test_command_line_end_to_end(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner(env={"TAKEDOWN_DATABASE_URL": database_url})
    data = ["--data", str(tmp_path / "data")]

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(main, [*data, *args])
        assert result.exit_code == code, (result.output, result.stderr)
        return json.loads(result.stdout) if code == 0 and "--json" in args else result

    files = [
        str(DATA / n)
        for n in (
            "ip2asn.tsv",
            "rdap_ip.json",
            "whois_ripe.txt",
            "rdap_domain.json",
            "whois_domain.txt",
            "pdns.csv",
        )
    ]
    out = run("infra", "import", *files, "--json")
    assert [r["format"] for r in out["imported"]] == [
        "ip2asn",
        "rdap",
        "whois",
        "rdap",
        "whois",
        "pdns",
    ]
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    failed = run("infra", "import", str(bad), "--format", "rdap", code=1)
    assert "not JSON" in failed.stderr
    run(
        "infra",
        "outlet",
        "define",
        "Front Media",
        "--domain",
        "news-outlet.example",
        "--domain",
        "mirror-outlet.test",
        "--json",
    )
    run("infra", "outlet", "define", "Bad", "--domain", "not a domain", code=1)
    app = App(Settings(data=tmp_path / "data", database_url=database_url))
    try:
        add_sighting(app, "https://mirror-outlet.test/a")
    finally:
        app.close()
    plan = run("infra", "plan", "Front Media", "--json")
    assert len(plan["minimum_cut"]) == 2
    run("infra", "plan", "Nope", code=1)
    summary = run("infra", "graph", "Front Media", "--out", str(tmp_path / "g.graphml"), "--json")
    assert summary["nodes"]["outlet"] == 1
    g = nx.read_graphml(tmp_path / "g.graphml")
    assert g.number_of_edges() == sum(summary["edges"].values())
    run("infra", "graph", "Front Media", "--out", str(tmp_path / "g.json"))
    assert json.loads((tmp_path / "g.json").read_text())["links"]
    run("infra", "graph", "Front Media", "--out", str(tmp_path / "g.html"))
    assert (tmp_path / "g.html").read_text().startswith("<!doctype html>")
    run("infra", "graph", "--all", "--out", str(tmp_path / "x.svg"), code=1)
    ev = run(
        "infra",
        "event",
        "record",
        "--action",
        "suspended",
        "--target",
        "domain:mirror-outlet.test",
        "--at",
        "2026-05-01T00:00:00Z",
        "--outlet",
        "Front Media",
        "--operation",
        "op-1",
        "--json",
    )
    run(
        "infra",
        "event",
        "record",
        "--action",
        "suspended",
        "--target",
        "domain:x.test",
        "--at",
        "2026-05-01T00:00:00",
        code=1,
    )
    checked = run("infra", "event", "check", str(ev["event"]), "--json")
    assert checked["taken_down"]["domains"] == ["mirror-outlet.test"]
    assert run("infra", "event", "list", "--json")[0]["event"] == ev["event"]
    assert run("infra", "timeline", "Front Media", "--json")
    refer = run("infra", "plan", "Front Media", "--refer", "--json")
    assert [r["addressee_kind"] for r in refer["referrals"]["drafted"]] == ["hoster"]
    stix = run("export", "stix", "--operation", "op-1", "--out", str(tmp_path / "b.json"), "--json")
    assert stix["events"] == 1
    assert validate_string(
        (tmp_path / "b.json").read_text(), ValidationOptions(version="2.1")
    ).is_valid
    run("export", "misp", "--out", str(tmp_path / "m.json"))
    assert json.loads((tmp_path / "m.json").read_text())["Event"]["Attribute"]
    run("export", "stix", "--operation", "nothing-here", "--out", str(tmp_path / "n.json"), code=1)
