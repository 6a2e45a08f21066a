"""SSRF through hosts that yarl normalises into IP literals (issue #20, item 1).

A page answers ``302 Location: http://１２７.０.０.１:PORT/x``: ``urlsplit().hostname`` keeps the
fullwidth digits (no IP literal), yarl/aiohttp map them to ``127.0.0.1`` and connect without
asking the resolver. Every form below is tried on the first request and on a redirect hop
against a real server on 127.0.0.1 that counts what reaches it: the checker must refuse and
never connect.

The code points come from a sweep of every code point through ``yarl.URL`` (yarl 1.25.1, idna
UTS #46): each one that turns ``127.X.0.1`` (or a dot position) into ASCII digits and dots.
"""

from __future__ import annotations

import asyncio
import socket
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import yarl
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from takedown.verify.checker import Checker, CheckerConfig, CheckResult


def _span(first: int, last: int) -> list[str]:
    return [chr(cp) for cp in range(first, last + 1)]


DIGIT_FORMS: dict[str, list[str]] = {
    "superscript": ["\u00b9", "\u00b2", "\u00b3", "\u2070", *_span(0x2074, 0x2079)],
    "subscript": _span(0x2080, 0x2089),
    "circled": [*_span(0x2460, 0x2473), "\u24ea", *_span(0x3251, 0x325F), *_span(0x32B1, 0x32BF)],
    "digit-full-stop": _span(0x2488, 0x249B),
    "fullwidth": _span(0xFF10, 0xFF19),
    "outlined": _span(0x1CCF0, 0x1CCF9),
    "mathematical-bold": _span(0x1D7CE, 0x1D7D7),
    "mathematical-double-struck": _span(0x1D7D8, 0x1D7E1),
    "mathematical-sans-serif": _span(0x1D7E2, 0x1D7EB),
    "mathematical-sans-serif-bold": _span(0x1D7EC, 0x1D7F5),
    "mathematical-monospace": _span(0x1D7F6, 0x1D7FF),
    "segmented": _span(0x1FBF0, 0x1FBF9),
}
DOT_FORMS = {
    "ideographic-full-stop": "\u3002",
    "fullwidth-full-stop": "\uff0e",
    "halfwidth-ideographic-full-stop": "\uff61",
    "small-full-stop": "\ufe52",
    "one-dot-leader": "\u2024",
}


def _loopback_host(char: str) -> str:
    """A host string containing ``char`` that yarl turns into a 127/8 literal."""
    for template in ("127.{c}.0.1", "127.0.{c}1", "127{c}0{c}0{c}1"):
        host = template.format(c=char)
        try:
            raw = yarl.URL(f"http://{host}/").raw_host or ""
        except ValueError:
            continue
        parts = raw.split(".")
        if len(parts) == 4 and parts[0] == "127" and all(p.isdigit() for p in parts):
            return host
    raise AssertionError(f"U+{ord(char):04X} forms no loopback host")


HITS: list[str] = []
LOCATIONS: list[str] = []


async def _target(request: web.Request) -> web.Response:
    HITS.append(request.path)
    return web.Response(text="internal secret")


async def _hop(request: web.Request) -> web.Response:
    # a raw header: aiohttp's HTTPFound would normalise the Location through yarl
    return web.Response(status=302, headers={"Location": LOCATIONS.pop(0)})


def _run(factory: Callable[[int], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        app = web.Application()
        app.router.add_get("/hop", _hop)
        app.router.add_get("/{tail:.*}", _target)
        runner = web.AppRunner(app, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            return await factory(runner.addresses[0][1])
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def _config(port: int, **kw: Any) -> CheckerConfig:
    base: dict[str, Any] = {
        "host_map": {"*.test": ("127.0.0.1", port)},
        "timeout": 1.0,
        "retries": 0,
        "soft404_probe": False,
    }
    base.update(kw)
    return CheckerConfig(**base)


def _check_all(hosts: list[str], *, via_redirect: bool) -> list[CheckResult]:
    async def go(port: int) -> list[CheckResult]:
        results = []
        async with Checker(_config(port)) as checker:
            for host in hosts:
                url = f"http://{host}:{port}/target"
                if via_redirect:
                    LOCATIONS.append(url)
                    url = "http://page.test/hop"
                results.append(await checker.check(url))
        return results

    HITS.clear()
    results: list[CheckResult] = _run(go)
    return results


def _assert_refused(results: list[CheckResult], hosts: list[str]) -> None:
    assert HITS == [], f"the checker connected to the internal server: {HITS}"
    for host, result in zip(hosts, results, strict=True):
        assert result.outcome == "unknown", (host, result)
        assert "refused by SSRF guard" in result.reason, (host, result)
        assert result.final_url is None


def test_the_form_lists_cover_every_nfkc_digit_and_dot() -> None:
    listed = {c for chars in DIGIT_FORMS.values() for c in chars} | set(DOT_FORMS.values())
    for cp in range(0x80, 0x30000):
        if 0xD800 <= cp < 0xE000:
            continue
        folded = unicodedata.normalize("NFKC", chr(cp))
        if folded and all(ch in "0123456789" for ch in folded):
            assert chr(cp) in listed, f"U+{cp:04X} folds to {folded!r} and is not tested"


@pytest.mark.parametrize("via_redirect", [False, True], ids=["first-request", "redirect-hop"])
@pytest.mark.parametrize("family", sorted(DIGIT_FORMS))
def test_unicode_digit_forms_of_loopback_are_refused(family: str, via_redirect: bool) -> None:
    hosts = [_loopback_host(c) for c in DIGIT_FORMS[family]]
    _assert_refused(_check_all(hosts, via_redirect=via_redirect), hosts)


@pytest.mark.parametrize("via_redirect", [False, True], ids=["first-request", "redirect-hop"])
@pytest.mark.parametrize("family", sorted(DOT_FORMS))
def test_unicode_dot_forms_of_loopback_are_refused(family: str, via_redirect: bool) -> None:
    hosts = [_loopback_host(DOT_FORMS[family]), "１２７" + DOT_FORMS[family] + "０．０。１"]
    _assert_refused(_check_all(hosts, via_redirect=via_redirect), hosts)


@pytest.mark.parametrize("via_redirect", [False, True], ids=["first-request", "redirect-hop"])
def test_metadata_address_in_fullwidth_digits_is_refused(via_redirect: bool) -> None:
    hosts = ["１６９.２５４.１６９.２５４", "𝟏𝟔𝟗。𝟐𝟓𝟒。𝟏𝟔𝟗。𝟐𝟓𝟒", "⑯⑨.②⑤④.①⑥⑨.②⑤④"]
    results = _check_all(hosts, via_redirect=via_redirect)
    for result in results:
        assert "refused by SSRF guard" in result.reason, result


@pytest.mark.parametrize("via_redirect", [False, True], ids=["first-request", "redirect-hop"])
def test_ipv4_mapped_ipv6_forms_are_refused(via_redirect: bool) -> None:
    hosts = ["[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:0001]", "[::1]"]
    _assert_refused(_check_all(hosts, via_redirect=via_redirect), hosts)


class RebindingDNS(AbstractResolver):
    """Answers a public address the first time a name is asked, loopback afterwards."""

    def __init__(self) -> None:
        self.calls = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls += 1
        address = "93.184.215.14" if self.calls == 1 else "127.0.0.1"
        return [
            ResolveResult(
                hostname=host, host=address, port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


def test_dns_answer_changing_between_vetting_and_connecting_never_reaches_loopback() -> None:
    dns = RebindingDNS()

    async def go(port: int) -> list[CheckResult]:
        config = _config(port, host_map={}, timeout=0.5)
        async with Checker(config, resolver=dns) as checker:
            return [await checker.check(f"http://rebind.example:{port}/target") for _ in range(3)]

    HITS.clear()
    results: list[CheckResult] = _run(go)
    assert HITS == []
    assert all(r.outcome != "live" for r in results)
    # every later connection asked the resolver again and was refused on its answer
    assert any("127.0.0.1" in r.reason and "refused by SSRF guard" in r.reason for r in results)


def test_a_name_the_resolver_never_vetted_is_refused_at_connect() -> None:
    """The last gate: whatever address a socket is about to connect to is vetted too."""

    async def go(port: int) -> CheckResult:
        async with Checker(_config(port, host_map={})) as checker:
            assert checker._session is not None
            connector: Any = checker._session.connector
            factory = connector._socket_factory
            info = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))
            with pytest.raises(OSError, match="SSRF guard"):
                factory(info)
            return await checker.check(f"http://localhost:{port}/target")

    HITS.clear()
    result: CheckResult = _run(go)
    assert HITS == []
    assert "refused by SSRF guard" in result.reason
