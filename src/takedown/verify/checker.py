"""Asynchronous removal checker: metadata-only HTTP checks behind an SSRF guard.

One check fetches a URL with ``GET`` and ``Range: bytes=0-N`` (reading at most
``max_body_bytes``, never the body of image/video/audio answers), follows redirects by hand
(bounded), vets every address it connects to (after DNS resolution, after every redirect) and
classifies the answer as ``live``, ``removed``, ``unreachable`` or ``unknown``.
"""

from __future__ import annotations

import asyncio
import difflib
import fnmatch
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from takedown.verify.ssrf import ForbiddenAddress, parse_ip_literal, vet_address

OUTCOMES = ("live", "removed", "unreachable", "unknown")
_MEDIA = ("image/", "video/", "audio/")


@dataclass(frozen=True)
class CheckerConfig:
    timeout: float = 10.0
    max_body_bytes: int = 65536
    max_redirects: int = 5
    per_host_concurrency: int = 2
    retries: int = 2
    backoff: float = 0.5
    vantage: str = "default"
    allow_loopback: bool = False  # test-only
    # host pattern (fnmatch, "*" allowed) -> (address, port): demo routing to a fake server
    host_map: dict[str, tuple[str, int]] = field(default_factory=dict)
    # demo: mapped hosts are reached over plain HTTP (the fake platforms speak no TLS)
    host_map_plain_http: bool = False
    soft404_probe: bool = True
    user_agent: str = "Takedown-verify/1"
    # Limits shared by every worker (takedown.jobs.politeness): ``gate(host)`` is entered
    # around each request, inside this process's own per-host semaphore.
    host_gate: Callable[[str], AbstractAsyncContextManager[None]] | None = None


@dataclass(frozen=True)
class CheckResult:
    url: str
    outcome: str
    http_status: int | None
    reason: str
    final_url: str | None
    elapsed: float
    vantage: str


def parse_host_map(text: str) -> dict[str, tuple[str, int]]:
    """Parse ``"*.example=127.0.0.1:8765,other.test=127.0.0.1:9000"``."""
    result: dict[str, tuple[str, int]] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        pattern, _, target = item.partition("=")
        address, _, port = target.rpartition(":")
        if not pattern or not address or not port.isdigit():
            raise ValueError(f"bad host map entry {item!r} (want pattern=address:port)")
        result[pattern.strip().lower()] = (address.strip("[]"), int(port))
    return result


def _mapped(config: CheckerConfig, host: str) -> tuple[str, int] | None:
    host = host.lower().rstrip(".")
    if parse_ip_literal(host) is not None:
        return None  # the map never applies to IP literals
    for pattern, target in config.host_map.items():
        if fnmatch.fnmatchcase(host, pattern):
            return target
    return None


class VettingResolver(AbstractResolver):
    """Resolves through ``inner`` and returns only vetted addresses (so aiohttp connects to
    exactly what was vetted). Mapped demo hosts go to their mapped target."""

    def __init__(self, config: CheckerConfig, inner: AbstractResolver | None = None) -> None:
        self.config = config
        self.inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        target = _mapped(self.config, host)
        if target is not None:
            address, mport = target
            parsed = vet_address(address, allow_loopback=True)  # the map is explicit
            fam = socket.AF_INET6 if parsed.version == 6 else socket.AF_INET
            return [_result(host, str(parsed), mport, fam)]
        literal = parse_ip_literal(host)
        if literal is not None:
            vet_address(str(literal), allow_loopback=self.config.allow_loopback)
            fam = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            return [_result(host, str(literal), port, fam)]
        answers = await self.inner.resolve(host, port, family)
        vetted = []
        refused = []
        for answer in answers:
            try:
                vet_address(answer["host"], allow_loopback=self.config.allow_loopback)
                vetted.append(answer)
            except ForbiddenAddress as exc:
                refused.append(str(exc))
        if not vetted:
            raise ForbiddenAddress(f"{host}: " + "; ".join(refused or ["no address"]))
        return vetted

    async def close(self) -> None:
        await self.inner.close()


def connect_url(url: str) -> yarl.URL:
    """The URL exactly as aiohttp will use it: yarl maps fullwidth, mathematical, circled…
    digits and ideographic or fullwidth dots to ASCII (UTS #46), so ``１２７.０.０.１`` becomes
    the literal ``127.0.0.1``, which aiohttp connects to without asking any resolver. Vet
    ``raw_host`` of this URL, never ``urlsplit().hostname``."""
    try:
        parsed = yarl.URL(url)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ForbiddenAddress(f"unparseable URL {url!r}: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise ForbiddenAddress(f"unsupported URL {url!r}")
    return parsed


def _socket_gate(config: CheckerConfig) -> Callable[[Any], socket.socket]:
    """aiohttp's ``socket_factory``: the last gate, run for every connection attempt with the
    address the socket is about to connect to, whatever path (resolver or IP literal) led
    there. Only the host map's explicit targets pass besides public addresses."""
    allowed = frozenset(address for address, _ in config.host_map.values())

    def factory(addr_info: Any) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        try:
            vet_address(str(sockaddr[0]), allow_loopback=config.allow_loopback, allowed=allowed)
        except ForbiddenAddress as exc:
            raise OSError(f"SSRF guard at connect: {exc}") from exc
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def _result(host: str, address: str, port: int, family: socket.AddressFamily) -> ResolveResult:
    return ResolveResult(hostname=host, host=address, port=port, family=family, proto=0, flags=0)


class Checker:
    """Use as ``async with Checker(config) as checker: await checker.check_many(urls)``."""

    def __init__(self, config: CheckerConfig, resolver: AbstractResolver | None = None) -> None:
        self.config = config
        self._inner = resolver
        self._session: aiohttp.ClientSession | None = None
        self._host_locks: dict[str, asyncio.Semaphore] = {}
        self._soft404: dict[str, tuple[int, bytes] | None] = {}

    async def __aenter__(self) -> Checker:
        connector = aiohttp.TCPConnector(
            resolver=VettingResolver(self.config, self._inner),
            limit=0,
            use_dns_cache=False,
            socket_factory=_socket_gate(self.config),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            headers={"User-Agent": self.config.user_agent},
            timeout=aiohttp.ClientTimeout(
                total=self.config.timeout, sock_connect=self.config.timeout
            ),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def check_many(
        self, urls: Iterable[str], patterns: dict[str, Sequence[str]] | None = None
    ) -> list[CheckResult]:
        patterns = patterns or {}
        return list(await asyncio.gather(*(self.check(u, patterns.get(u, ())) for u in urls)))

    async def check(self, url: str, removed_patterns: Sequence[str] = ()) -> CheckResult:
        start = time.monotonic()
        host = (urlsplit(url).hostname or "").lower()
        lock = self._host_locks.setdefault(
            host, asyncio.Semaphore(self.config.per_host_concurrency)
        )
        result: tuple[str, int | None, str, str | None] = ("unknown", None, "not run", None)
        for attempt in range(self.config.retries + 1):
            gate = self.config.host_gate(host) if self.config.host_gate else nullcontext()
            async with lock, gate:
                result = await self._check_once(url, removed_patterns)
            outcome, status = result[0], result[1]
            transient = outcome == "unreachable" or (status is not None and status >= 500)
            if not transient or "refused by SSRF guard" in result[2]:
                break
            if attempt < self.config.retries:
                await asyncio.sleep(self.config.backoff * 2**attempt)
        outcome, status, reason, final = result
        return CheckResult(
            url, outcome, status, reason, final, time.monotonic() - start, self.config.vantage
        )

    async def _fetch(self, url: str) -> tuple[int, str, bytes, str]:
        """Follow redirects by hand; return status, content type, body prefix, final url."""
        assert self._session is not None
        current = url
        for _ in range(self.config.max_redirects + 1):
            # vet the host aiohttp will connect to (after yarl's normalisation), every hop
            target = connect_url(current)
            host = target.raw_host or ""
            mapped = _mapped(self.config, host) is not None
            if not mapped:
                literal = parse_ip_literal(host)
                if literal is not None:
                    vet_address(str(literal), allow_loopback=self.config.allow_loopback)
            if mapped and self.config.host_map_plain_http and target.scheme == "https":
                target = target.with_scheme("http")
            async with self._session.get(
                target,
                allow_redirects=False,
                headers={"Range": f"bytes=0-{self.config.max_body_bytes - 1}"},
            ) as resp:
                if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                    current = urljoin(current, resp.headers["Location"])
                    continue
                ctype = resp.headers.get("Content-Type", "").lower()
                body = b""
                if not ctype.startswith(_MEDIA):
                    while len(body) < self.config.max_body_bytes:
                        chunk = await resp.content.read(self.config.max_body_bytes - len(body))
                        if not chunk:
                            break
                        body += chunk
                return resp.status, ctype, body, current
        raise TooManyRedirects(f"more than {self.config.max_redirects} redirects")

    async def _check_once(
        self, url: str, removed_patterns: Sequence[str]
    ) -> tuple[str, int | None, str, str | None]:
        try:
            status, ctype, body, final = await self._fetch(url)
        except ForbiddenAddress as exc:
            return "unknown", None, f"refused by SSRF guard: {exc}", None
        except TooManyRedirects as exc:
            return "unknown", None, str(exc), None
        except TimeoutError:
            return "unreachable", None, "timeout", None
        except aiohttp.ClientConnectorError as exc:
            inner: Any = exc.os_error
            if isinstance(inner, ForbiddenAddress) or "SSRF guard" in str(inner):
                return "unknown", None, f"refused by SSRF guard: {inner}", None
            return "unreachable", None, f"connection failed: {exc.os_error!r}"[:300], None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return "unreachable", None, f"{type(exc).__name__}: {exc}"[:300], None
        if status in (404, 410):
            return "removed", status, f"HTTP {status}", final
        if status == 451:
            return (
                "unknown",
                status,
                f"HTTP 451: blocked at vantage {self.config.vantage}, not removed everywhere",
                final,
            )
        if status >= 500:
            return "unknown", status, f"HTTP {status}", final
        if 200 <= status < 300:
            text = body.decode("utf-8", "replace").lower()
            for pattern in removed_patterns:
                if pattern.lower() in text:
                    return "removed", status, f"removed-page pattern: {pattern!r}", final
            probe = self.config.soft404_probe and not ctype.startswith(_MEDIA)
            if probe and await self._looks_like_soft404(final, status, body):
                return "removed", status, "soft 404: same answer as a random path", final
            return "live", status, f"HTTP {status}", final
        return "unknown", status, f"HTTP {status}", final

    async def _looks_like_soft404(self, url: str, status: int, body: bytes) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._soft404:
            probe = f"{origin}/{secrets.token_hex(12)}"
            try:
                pstatus, _, pbody, _ = await self._fetch(probe)
                self._soft404[origin] = (pstatus, pbody) if pstatus == 200 else None
            except (ForbiddenAddress, TooManyRedirects, aiohttp.ClientError, OSError):
                self._soft404[origin] = None
            except TimeoutError:
                self._soft404[origin] = None
        reference = self._soft404[origin]
        if reference is None:
            return False
        pstatus, pbody = reference
        if pstatus != status:
            return False
        a, b = body[:8192], pbody[:8192]
        if a == b:
            return True
        if max(len(a), len(b)) and abs(len(a) - len(b)) / max(len(a), len(b)) > 0.2:
            return False
        return difflib.SequenceMatcher(None, a, b).quick_ratio() > 0.95 and (
            difflib.SequenceMatcher(None, a, b).ratio() > 0.9
        )


class TooManyRedirects(Exception):
    pass


__all__ = [
    "OUTCOMES",
    "CheckResult",
    "Checker",
    "CheckerConfig",
    "VettingResolver",
    "parse_host_map",
]
