from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from takedown.verify.checker import Checker, CheckerConfig, CheckResult, parse_host_map

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COUNTS: dict[str, int] = {}


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text=f"<html>item {request.path} with a long real description</html>")


async def _gone(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]))


async def _removed_page(request: web.Request) -> web.Response:
    return web.Response(text="<html><h1>This video has been removed by the uploader</h1></html>")


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query["to"])


async def _loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def _huge(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    resp.content_type = "text/html"
    await resp.prepare(request)
    COUNTS["huge"] = 0
    try:
        for _ in range(100_000):  # endless-ish: 6 GB if read to the end
            await resp.write(b"x" * 65536)
            COUNTS["huge"] += 1
    except (ConnectionResetError, RuntimeError):
        pass
    return resp


async def _media(request: web.Request) -> web.Response:
    return web.Response(body=b"\x00" * 1000, content_type="video/mp4")


async def _hang(request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.Response(text="late")


async def _error(request: web.Request) -> web.Response:
    COUNTS["error"] = COUNTS.get("error", 0) + 1
    return web.Response(status=500)


async def _soft(request: web.Request) -> web.Response:
    if request.host.startswith("soft.") and request.path != "/real":
        chrome = "<nav>home explore upload sign in</nav>" * 20
        return web.Response(text=f"<html>{chrome}<p>Sorry, nothing at {request.path}</p></html>")
    return await _ok(request)


def run(coro_factory: Callable[[int], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        app = web.Application()
        app.router.add_get("/gone/{code}", _gone)
        app.router.add_get("/removed", _removed_page)
        app.router.add_get("/redirect", _redirect)
        app.router.add_get("/loop", _loop)
        app.router.add_get("/huge", _huge)
        app.router.add_get("/media", _media)
        app.router.add_get("/hang", _hang)
        app.router.add_get("/error", _error)
        app.router.add_get("/{tail:.*}", _soft)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            return await coro_factory(port)
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def _config(port: int, **kw: Any) -> CheckerConfig:
    base: dict[str, Any] = {
        "host_map": {"*.test": ("127.0.0.1", port)},
        "timeout": 2.0,
        "retries": 1,
        "backoff": 0.01,
        "max_body_bytes": 4096,
        "vantage": "lab",
    }
    base.update(kw)
    return CheckerConfig(**base)


def check(url: str, patterns: tuple[str, ...] = (), **kw: Any) -> CheckResult:
    async def go(port: int) -> CheckResult:
        async with Checker(_config(port, **kw)) as checker:
            return await checker.check(url.replace("PORT", str(port)), patterns)

    result: CheckResult = run(go)
    return result


def test_live_item_is_live() -> None:
    result = check("http://video.test/watch/1")
    assert (result.outcome, result.http_status, result.vantage) == ("live", 200, "lab")


@pytest.mark.parametrize("code", [404, 410])
def test_404_and_410_mean_removed(code: int) -> None:
    assert check(f"http://video.test/gone/{code}").outcome == "removed"


def test_451_is_blocked_at_vantage_not_removed() -> None:
    result = check("http://video.test/gone/451")
    assert result.outcome == "unknown"
    assert "vantage lab" in result.reason


def test_platform_removed_page_pattern_means_removed() -> None:
    result = check("http://video.test/removed", ("has been removed",))
    assert result.outcome == "removed"
    assert check("http://video.test/removed").outcome == "live"


def test_soft404_host_answering_200_to_everything() -> None:
    assert check("http://soft.test/watch/gone-item").outcome == "removed"
    assert check("http://soft.test/real").outcome == "live"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:PORT/watch/1",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:PORT/",
        "http://2130706433:PORT/",
        "http://0x7f.1:PORT/",
        "http://0177.0.0.1:PORT/",
        "file:///etc/passwd",
    ],
)
def test_redirect_to_internal_address_is_refused(target: str) -> None:
    result = check(f"http://video.test/redirect?to={target}")
    assert result.outcome == "unknown"
    assert "refused by SSRF guard" in result.reason


def test_direct_loopback_url_is_refused_even_with_host_map() -> None:
    result = check("http://127.0.0.1:PORT/watch/1")
    assert "refused by SSRF guard" in result.reason


def test_loopback_switch_allows_local_server() -> None:
    assert check("http://127.0.0.1:PORT/watch/1", host_map={}, allow_loopback=True).outcome == (
        "live"
    )


def test_redirect_loop_is_bounded() -> None:
    result = check("http://video.test/loop", max_redirects=3)
    assert result.outcome == "unknown"
    assert "redirects" in result.reason


class PrivateDNS(AbstractResolver):
    """A resolver whose answer for every name is a private address."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host="10.0.0.7", port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


def test_name_resolving_to_private_address_is_refused() -> None:
    async def go(port: int) -> CheckResult:
        async with Checker(_config(port), resolver=PrivateDNS()) as checker:
            return await checker.check("http://evil.example/")

    result: CheckResult = run(go)
    assert result.outcome == "unknown"
    assert "10.0.0.7" in result.reason


def test_enormous_response_is_cut_at_max_body() -> None:
    result = check("http://video.test/huge")
    assert result.outcome == "live"
    assert COUNTS["huge"] < 100_000


def test_media_body_is_not_read() -> None:
    assert check("http://video.test/media").outcome == "live"


def test_hang_is_unreachable_timeout() -> None:
    result = check("http://video.test/hang", timeout=0.3, retries=0)
    assert (result.outcome, result.reason) == ("unreachable", "timeout")


def test_500_is_retried_then_unknown() -> None:
    COUNTS["error"] = 0
    result = check("http://video.test/error", retries=2)
    assert (result.outcome, result.http_status) == ("unknown", 500)
    assert COUNTS["error"] == 3


def test_connection_refused_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    result = check("http://video.test/x", host_map={"*.test": ("127.0.0.1", free)}, retries=0)
    assert result.outcome == "unreachable"


def test_dns_failure_is_unreachable() -> None:
    result = check("http://does-not-exist.invalid/", retries=0)
    assert result.outcome == "unreachable"


def test_host_map_parsing() -> None:
    assert parse_host_map("*=127.0.0.1:8765, a.test=[::1]:9") == {
        "*": ("127.0.0.1", 8765),
        "a.test": ("::1", 9),
    }
    with pytest.raises(ValueError, match="bad host map"):
        parse_host_map("nonsense")


def test_https_urls_of_mapped_hosts_reach_a_plain_http_fake_only_when_told() -> None:
    plain = check("https://video.test/gone/410", host_map_plain_http=True, retries=0)
    assert (plain.outcome, plain.http_status) == ("removed", 410)
    assert plain.final_url == "https://video.test/gone/410"  # reported as sighted
    tls = check("https://video.test/gone/410", retries=0)  # the fake speaks no TLS
    assert tls.outcome == "unreachable"
