"""Canonical URLs: one string key per item, whoever reported it and however it was written.

The rules, in order (details in the modules named):

1. At most ``max_chars`` characters; surrounding whitespace, bidi marks and one pair of
   ``<>`` or quotes go; tabs and newlines anywhere go (as the WHATWG URL parser removes them);
   zero-width characters that UTS 46 ignores go from the host (``GOO\u200bgoo.com`` is
   googoo.com, as in browsers); a URL whose scheme or host is defanged is refanged (``refang``)
   - brackets in a path alone are left alone; other control characters, inner whitespace and
   invalid Unicode are refused.
2. Schemes: http and https; ``tg://resolve?domain=NAME[&post=N]``, ``tg://join?invite=HASH``
   and ``tg://privatepost?channel=ID&post=N`` become their ``https://t.me/…`` forms; anything
   else (``javascript:``, ``data:``, ``file:``, ``ftp:`` …) is refused. A bare ``host/path``
   gets ``http://``. As in browsers, ``\\`` before the query counts as ``/`` and extra slashes
   after ``http:`` are ignored.
3. Credentials (``user:pass@``) are dropped, never kept in a key. The host is normalised
   (``hosts``): lower case, A-label, IP literals as browsers read them; a host without a dot
   is refused. Default ports (80 for http, 443 for https) go; a bad port is refused.
4. Query: tracking parameters go, the rest are sorted by name (stable), escapes normalised
   (``query``). Path: escapes normalised, dot segments resolved as browsers do (an empty
   segment counts, so ``/u/1//../x`` is ``/u/1/x``), then ``//`` collapsed (policy).
5. Redirect wrappers are unwrapped, recursively (``wrappers``); more than ``MAX_WRAP_DEPTH``
   wrappers inside one another are refused (no real link needs that, and a half-unwrapped
   key would not be stable). Shorteners are not unwrapped.
6. Platform forms: one host per platform and one URL per item, the account named, archive
   snapshots' targets (``platform_forms``, ``accounts``). Canonical platform hosts use https.
7. The fragment goes, except a ``#!`` ("hashbang") route on a host not handled above, which
   names the page on sites that route by fragment.

``registrable_domain`` comes from the Public Suffix List shipped in ``publicsuffixlist``
(offline); its version is recorded with every URL as ``psl_version``. Nothing is fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.metadata import version
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from publicsuffixlist import PublicSuffixList

from takedown.urls import platform_forms
from takedown.urls.errors import InvalidURL
from takedown.urls.hosts import normalize_host
from takedown.urls.query import normalize_escapes, normalize_path, query_params
from takedown.urls.refang import looks_defanged, refang
from takedown.urls.wrappers import unwrap

__all__ = ["MAX_WRAP_DEPTH", "PSL_VERSION", "CanonicalURL", "InvalidURL", "canonicalize"]

PSL_VERSION = f"publicsuffixlist {version('publicsuffixlist')}"
MAX_WRAP_DEPTH = 5
_EDGE = (
    "".join(chr(c) for c in range(0x21))
    + "\u00a0\ufeff"
    + "".join(
        chr(c) for c in [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    )
)  # C0 controls and space (WHATWG trims them), other spaces, zero-width and bidi marks
_FORBIDDEN = re.compile(
    r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]"
)
#: Removed anywhere in a URL, as the WHATWG URL parser does: ASCII tab and newlines.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
#: Removed from a host, as UTS 46 maps them to nothing (zero-width space, word joiner, BOM,
#: soft hyphen, variation selectors …): ``GOO\u200bgoo.com`` is googoo.com in every browser.
_HOST_IGNORED = re.compile(
    "[\u00ad\u034f\u180b-\u180d\u180f\u200b\u2060\u2064\ufe00-\ufe0f\ufeff"
    "\U0001bca0-\U0001bca3\U000e0100-\U000e01ef]"
)
_DEFANGED_SCHEME = re.compile(r"^(?:h(?:xx|\*\*|__)ps?|fxp)\b", re.IGNORECASE)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_HOST_PORT = re.compile(r"^[^:/?#]+:[0-9]+(?:[/?#]|$)")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FRAGMENT_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?"
)


@dataclass(frozen=True)
class CanonicalURL:
    url: str  # the canonical form: the key used to deduplicate across agencies
    scheme: str
    host: str  # A-label (punycode), lower case, no trailing dot; IPs normalised
    registrable_domain: str | None  # eTLD+1 from the shipped Public Suffix List; None for IPs
    psl_version: str
    is_ip: bool
    mixed_script: bool  # some label mixes scripts (possible look-alike)
    unicode_host: str  # for display only
    account: str | None = None  # e.g. "telegram:somechannel"
    target: str | None = None  # the archived URL, canonical, for web-archive snapshots
    lookalike: bool = False  # mixed_script, or a label that only looks like ASCII ("раура")


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@lru_cache(maxsize=65536)
def _registrable(host: str) -> str:
    return str(_psl().privatesuffix(host) or host)


def _telegram_app_link(text: str) -> str:
    parts = urlsplit(text)
    params = dict(parse_qsl(parts.query))
    action = parts.netloc.lower()
    post = params.get("post", "")
    suffix = f"/{post}" if post.isdigit() else ""
    if action == "resolve" and params.get("domain"):
        return f"https://t.me/{params['domain']}{suffix}"
    if action == "join" and params.get("invite"):
        return f"https://t.me/+{params['invite']}"
    if action == "privatepost" and params.get("channel", "").isdigit() and suffix:
        return f"https://t.me/c/{params['channel']}{suffix}"
    raise InvalidURL("unsupported tg:// link: only resolve, join and privatepost are understood")


def _defanged_head(text: str) -> bool:
    """Is the scheme or host defanged? (Brackets in a path alone do not make a URL defanged.)"""
    if not looks_defanged(text):
        return False
    if _DEFANGED_SCHEME.match(text):
        return True
    start = text.find("//")
    start = start + 2 if 0 <= start <= 16 else 0
    end = min([i for i in (text.find(c, start) for c in "/?#") if i >= 0], default=len(text))
    return looks_defanged(text[:end])


def _prepare(raw: str, max_chars: int) -> str:
    if not isinstance(raw, str):
        raise InvalidURL(f"expected a string, got {type(raw).__name__}")
    if len(raw) > max_chars:
        raise InvalidURL(f"URL of {len(raw)} characters, over the limit of {max_chars}")
    text = raw.strip(_EDGE)
    if len(text) >= 2 and (text[0], text[-1]) in (("<", ">"), ('"', '"'), ("'", "'")):
        text = text[1:-1].strip(_EDGE)
    text = _TAB_NEWLINE.sub("", text)
    if _defanged_head(text):
        text = refang(text)
    if not text:
        raise InvalidURL("empty URL")
    text = _strip_host_ignored(text)
    if _FORBIDDEN.search(text):
        raise InvalidURL("URL contains whitespace or control characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidURL("URL is not valid Unicode (lone surrogate)") from exc
    scheme = _SCHEME.match(text)
    if scheme is None or _HOST_PORT.match(text):
        rest, name = text, "http"
    else:
        name, rest = scheme.group(1).lower(), text[scheme.end() :]
    if name == "tg":
        return _telegram_app_link(text)
    if name not in _DEFAULT_PORTS:
        raise InvalidURL(f"unsupported scheme {name[:20]!r}: only http, https and tg://")
    rest = rest.lstrip("/\\")
    head, sep, tail = _cut(rest)
    return f"{name}://{head.replace(chr(92), '/')}{sep}{tail}"


def _strip_host_ignored(text: str) -> str:
    """``text`` without the UTS 46 "ignored" characters of its authority (its host)."""
    start = text.find("//")
    start = start + 2 if 0 <= start <= 16 else 0
    end = min([i for i in (text.find(c, start) for c in "/\\?#") if i >= 0], default=len(text))
    authority = text[start:end]
    if not _HOST_IGNORED.search(authority):
        return text
    return text[:start] + _HOST_IGNORED.sub("", authority) + text[end:]


def _cut(rest: str) -> tuple[str, str, str]:
    """``rest`` split at the first ``?`` or ``#``: (before, separator, after)."""
    match = re.search(r"[?#]", rest)
    if match is None:
        return rest, "", ""
    return rest[: match.start()], match.group(0), rest[match.end() :]


def _authority(netloc: str) -> tuple[str, int | None]:
    hostport = netloc.rpartition("@")[2]  # credentials are dropped
    if hostport.startswith("["):
        host, _, after = hostport.partition("]")
        host += "]"
        if after and not after.startswith(":"):
            raise InvalidURL(f"junk after IPv6 host: {after[:20]!r}")
        port_text = after[1:]
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not port_text.isascii() or int(port_text) > 65535:
        raise InvalidURL(f"invalid port {port_text[:20]!r}")
    return host, int(port_text)


def canonicalize(raw: str, *, max_chars: int = 8192) -> CanonicalURL:
    """The canonical form of ``raw``; raises :class:`InvalidURL` and nothing else."""
    try:
        return _canonicalize(_prepare(raw, max_chars), max_chars, 0)
    except InvalidURL:
        raise
    except (ValueError, UnicodeError, TypeError) as exc:
        raise InvalidURL(f"unparseable URL: {exc}") from exc


class _Parts(NamedTuple):
    scheme: str
    netloc: str
    path: str
    query: str
    fragment: str


def _split(text: str) -> _Parts:
    """``scheme://netloc/path?query#fragment`` (``_prepare`` always gives ``scheme://``)."""
    scheme, _, rest = text.partition("://")
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    slash = rest.find("/")
    if slash < 0:
        return _Parts(scheme, rest, "", query, fragment)
    return _Parts(scheme, rest[:slash], rest[slash:], query, fragment)


def _canonicalize(text: str, max_chars: int, depth: int) -> CanonicalURL:
    parts = _split(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURL(f"unsupported scheme {scheme[:20]!r}: only http and https")
    raw_host, port = _authority(parts.netloc)
    if not raw_host:
        raise InvalidURL("URL has no host")
    found = normalize_host(unquote(raw_host))
    host = platform_forms.canonical_host(found.host)
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    params = query_params(parts.query, host)
    path = normalize_path(parts.path)
    inner = unwrap(host, path, params, parts.query)
    if inner is not None:
        if depth >= MAX_WRAP_DEPTH:
            raise InvalidURL(f"redirect wrappers nested more than {MAX_WRAP_DEPTH} deep")
        return _canonicalize(_prepare(inner, max_chars), max_chars, depth + 1)

    def canon_inner(url: str) -> str:
        if depth >= MAX_WRAP_DEPTH:
            raise InvalidURL("archived URLs nested too deep")
        return _canonicalize(_prepare(url, max_chars), max_chars, depth + 1).url

    fragment = parts.fragment
    shape = platform_forms.apply(
        platform_forms.Shape(host, path, params, fragment), found.host, parts.path, parts.query,
        canon_inner,
    )  # fmt: skip
    if shape.host != host:  # tracking parameters are per site: filter again for the new host
        shape.params = query_params("&".join(shape.params), shape.host)
    host = shape.host
    unicode_host = found.unicode_host if host == found.host else host
    if host in platform_forms.HTTPS_ONLY and port is None:
        scheme = "https"
    netloc = host if port is None else f"{host}:{port}"
    url = f"{scheme}://{netloc}{shape.path}"
    if shape.params:
        url += "?" + "&".join(shape.params)
    if shape.fragment.startswith("!"):
        url += "#" + normalize_escapes(shape.fragment, _FRAGMENT_SAFE)
    if len(url) > max_chars:
        raise InvalidURL(f"canonical URL over the limit of {max_chars} characters")
    return CanonicalURL(
        url=url,
        scheme=scheme,
        host=host,
        registrable_domain=None if found.is_ip else _registrable(host),
        psl_version=PSL_VERSION,
        is_ip=found.is_ip,
        mixed_script=found.mixed_script,
        unicode_host=unicode_host,
        account=shape.account,
        target=shape.target,
        lookalike=found.lookalike,
    )
