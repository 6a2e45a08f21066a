"""``takedown verify`` end to end against a real local HTTP server (demo host map)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

TAKEDOWN = shutil.which("takedown", path=str(Path(sys.executable).parent)) or "takedown"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 404 if "gone" in self.path else 200
        body = f"<html>page {self.path} of {self.headers['Host']}</html>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def run(tmp: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAKEDOWN_DATA": str(tmp / "data"),
        "TAKEDOWN_VERIFY_HOST_MAP": f"*.test=127.0.0.1:{port}",
        "TAKEDOWN_VERIFY_VANTAGE": "lab",
    }
    done = subprocess.run(
        [TAKEDOWN, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done


def test_verify_records_removed_and_live_then_due_skips_fresh(tmp_path: Path, server: int) -> None:
    (tmp_path / "list.csv").write_text(
        "url,seen_at,reporter,language\n"
        "http://video.test/watch/gone1,2026-04-26T10:00:00Z,ana,en\n"
        "http://video.test/watch/live1,2026-04-26T10:00:00Z,ana,en\n",
        encoding="utf-8",
    )
    run(tmp_path, server, "ingest", str(tmp_path / "list.csv"), "--json")
    report = json.loads(run(tmp_path, server, "verify", "--json").stdout)
    assert report["checked"] == 2
    assert report["outcomes"] == {"removed": 1, "live": 1}
    again = json.loads(run(tmp_path, server, "verify", "--due", "--json").stdout)
    assert again["checked"] == 0  # removed one is done, live one checked < 1 h ago
