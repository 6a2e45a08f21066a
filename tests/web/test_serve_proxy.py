"""``serve`` behind a TLS proxy elsewhere (issue #20, item 10): X-Forwarded-Proto is believed
from the trusted proxies only, and ``--secure-cookies`` marks cookies Secure whatever the
scheme. A real uvicorn server on 127.0.0.1, reached over real sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from takedown.app import App
from takedown.cli.serve import serve_config


@contextmanager
def _serving(app: App, **options: object) -> Iterator[str]:
    config = serve_config(app, "127.0.0.1", 0, quiet=True, **options)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _login_cookie(base: str, proto: str | None) -> str:
    headers = {"X-Forwarded-Proto": proto} if proto else {}
    response = httpx.get(f"{base}/login", headers=headers)
    assert response.status_code == 200
    return response.headers["set-cookie"].lower()


def test_forwarded_proto_is_believed_only_from_trusted_proxies(sqlite_app: App) -> None:
    with _serving(sqlite_app, trusted_proxies="10.20.30.40") as base:
        assert "secure" not in _login_cookie(base, "https")  # 127.0.0.1 is not that proxy
    with _serving(sqlite_app, trusted_proxies="10.0.0.0/8, 127.0.0.1") as base:
        assert "secure" in _login_cookie(base, "https")
        assert "secure" not in _login_cookie(base, None)


def test_secure_cookies_setting_marks_cookies_secure_over_plain_http(sqlite_app: App) -> None:
    with _serving(sqlite_app, trusted_proxies="10.20.30.40", secure_cookies=True) as base:
        assert "secure" in _login_cookie(base, None)
