from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from takedown.cli import main

from .conftest import SECRET, Receiver, add_sighting, make_app, platforms_file


def test_refer_send_respond_list_and_figures_from_the_command_line(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    pfile = platforms_file(tmp_path / "p.json", receiver.url)
    app = make_app(database_url, tmp_path, platforms_file=pfile)
    try:
        sid = add_sighting(app, "https://fakevid0.test/v/1", "fakevid0")
        add_sighting(app, "https://own.example/x", "unknown:own.example", domain="own.example")
    finally:
        app.close()
    env = {
        "TAKEDOWN_DATABASE_URL": database_url,
        "TAKEDOWN_PLATFORMS_FILE": str(pfile),
        "TAKEDOWN_WEBHOOK_SECRETS": json.dumps({"fakevid0": SECRET}),
    }
    runner = CliRunner(env=env)
    data = ["--data", str(tmp_path / "data")]

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(main, [*data, *args])
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if code == 0 and "--json" in args else {}

    out = run("refer", "--send", "--basis", "ToS 4.2", "--json")
    drafted = out["drafted"]
    assert isinstance(drafted, list) and len(drafted) == 1
    reference = drafted[0]["reference"]
    assert out["unrouted"] == [{"addressee": "unrouted:own.example", "sightings": [sid + 1]}]
    assert out["sent"] and out["failed"] == []
    assert len(receiver.posts) == 1
    listed = run("referrals", "list", "--json")["referrals"]
    assert isinstance(listed, list) and listed[0]["state"] == "sent"
    assert "secret" not in json.dumps(listed).lower()
    answer = run("respond", reference, "removed", "--at", "2030-01-01T00:00:00Z", "--json")
    assert answer["to_state"] == "actioned"
    assert run("respond", reference, "removed", "--at", "2030-01-01T00:00:00Z", "--json")[
        "duplicate"
    ]
    bad = runner.invoke(main, [*data, "respond", reference, "impossible"])
    assert bad.exit_code != 0 and "does not apply" in bad.stderr
    unknown = runner.invoke(main, [*data, "respond", "TD-1-000000", "removed"])
    assert unknown.exit_code != 0 and "unknown reference" in unknown.stderr
    figures = run("figures", "--by", "platform", "--json")
    assert figures["total"] == figures["groups"][0] | {"key": "(all)"}
    shown = run("referrals", "show", reference, "--json")
    assert [e["event"] for e in shown["events"]] == ["draft", "send", "removed"]
    # human tables render too
    assert runner.invoke(main, [*data, "figures"]).exit_code == 0
    assert runner.invoke(main, [*data, "referrals", "list"]).exit_code == 0
