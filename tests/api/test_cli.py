"""``takedown key ...`` and ``takedown user create`` with --json."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from takedown.cli import main


def run(data: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--data", str(data), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_key_lifecycle_with_json(tmp_path: Path) -> None:
    code, out, _ = run(
        tmp_path,
        "key",
        "create",
        "--name",
        "iru",
        "--scope",
        "read",
        "--scope",
        "lookup",
        "--agency",
        "IRU",
        "--json",
    )
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith("tdk_") and created["scopes"] == ["lookup", "read"]
    code, out, _ = run(tmp_path, "key", "list", "--json")
    listed = json.loads(out)["keys"]
    assert [k["prefix"] for k in listed] == [created["prefix"]]
    assert created["key"] not in out
    code, out, _ = run(tmp_path, "key", "rotate", created["prefix"], "--json")
    rotated = json.loads(out)
    assert code == 0 and rotated["key"] != created["key"]
    code, out, _ = run(tmp_path, "key", "revoke", str(rotated["id"]), "--json")
    assert code == 0 and json.loads(out)["revoked_at"]
    code, out, _ = run(tmp_path, "key", "list", "--json")
    assert json.loads(out)["keys"] == []


def test_key_errors_go_to_stderr(tmp_path: Path) -> None:
    code, out, err = run(
        tmp_path, "key", "create", "--name", "p", "--scope", "read", "--platform", "x", "--json"
    )
    assert code != 0 and "platform key" in err and out == ""
    code, _out, err = run(tmp_path, "key", "revoke", "nope", "--json")
    assert code != 0 and "no API key" in err


def test_user_create(tmp_path: Path) -> None:
    args = ["user", "create", "ana", "--agency", "IRU", "--json"]
    env = {"TAKEDOWN_NEW_PASSWORD": "a long password"}
    code, _out, err = run(tmp_path, *args, env=env)
    # an unknown agency is an error with a hint, never a silently created empty agency
    assert code != 0 and "no agency named 'IRU'" in err and "--create-agency" in err
    code, out, _ = run(tmp_path, *args, "--create-agency", env=env)
    assert code == 0 and json.loads(out)["username"] == "ana"
    code, _out, err = run(
        tmp_path,
        "user",
        "create",
        "ana",
        "--json",
        env={"TAKEDOWN_NEW_PASSWORD": "a long password"},
    )
    assert code != 0 and "exists" in err


def test_serve_runs_api_and_workspace_on_the_embedded_default(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    takedown = Path(sys.executable).with_name("takedown")
    server = subprocess.Popen(
        [str(takedown), "--data", str(tmp_path / "data"), "serve", "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                login = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, "takedown serve exited"
                assert time.monotonic() < deadline, "takedown serve did not start"
                time.sleep(0.2)
        assert login.status_code == 200 and "Log in" in login.text
        api = httpx.get(f"http://127.0.0.1:{port}/api/v1/sightings", timeout=5)
        assert api.status_code == 401
        schema = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5)
        assert schema.json()["openapi"].startswith("3.")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    assert (tmp_path / "data" / "takedown.sqlite3").exists()
