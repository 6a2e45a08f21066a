"""Canonical URLs: one string key per item, whoever reported it and however it was written.

Rules (in order): refang; only http, https and tg:// (Telegram) are accepted; credentials are
dropped; scheme and host lower case; IDN hosts become A-labels (punycode, UTS 46) and the
A-label is the key, with ``mixed_script`` set when a label mixes scripts (a possible
look-alike); trailing dots and default ports go; the path is percent-normalised (unreserved
characters decoded, other escapes upper case) and its dot segments resolved; the fragment goes;
tracking parameters go and the remaining query parameters are sorted; redirect wrappers
(google.com/url, l.facebook.com …) are unwrapped; platform aliases are folded to one host
(m.facebook.com, youtu.be, mobile.twitter.com, telegram.me, t.me/s/ …). Web-archive snapshots
keep the archive as the host (the archive serves the copy) and name the archived URL in
``target``. URL shorteners are never unwrapped: they are their own nodes. Nothing is fetched.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.metadata import version
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import idna
from publicsuffixlist import PublicSuffixList

from takedown.urls.refang import refang

PSL_VERSION = f"publicsuffixlist {version('publicsuffixlist')}"
MAX_WRAP_DEPTH = 5
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_DEFANGED = re.compile(r"[\[\]{}()]|[hH][xX]{2}[pP]|\sdot\s", re.IGNORECASE)
_SIMPLE_PATH = re.compile(r"^(/[A-Za-z0-9_~!$&'()*+,;=:@-]+(\.[A-Za-z0-9_~!$&'()*+,;=:@-]+)*)*/?$")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_UNRESERVED = re.compile(r"%([0-9A-Fa-f]{2})")
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "yclid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "twclid",
        "ttclid",
        "s_cid",
        "mkt_tok",
        "vero_id",
        "oly_enc_id",
        "oly_anon_id",
        "rb_clickid",
        "__s",
        "spm",
    }
)
_TRACKING_ON = {
    "youtube.com": {"si", "feature", "pp", "ab_channel"},
    "youtu.be": {"si", "feature"},
    "spotify.com": {"si"},
    "x.com": {"s", "t", "ref_src"},
    "instagram.com": {"img_index", "utm_medium"},
    "tiktok.com": {"is_from_webapp", "sender_device", "_r", "_t"},
    "facebook.com": {"mibextid", "rdid", "sfnsn", "__tn__", "__cft__"},
}
_HOST_ALIASES = {
    "facebook.com": "www.facebook.com",
    "m.facebook.com": "www.facebook.com",
    "mobile.facebook.com": "www.facebook.com",
    "mbasic.facebook.com": "www.facebook.com",
    "fb.com": "www.facebook.com",
    "youtube.com": "www.youtube.com",
    "m.youtube.com": "www.youtube.com",
    "music.youtube.com": "www.youtube.com",
    "twitter.com": "x.com",
    "www.twitter.com": "x.com",
    "mobile.twitter.com": "x.com",
    "mobile.x.com": "x.com",
    "www.x.com": "x.com",
    "telegram.me": "t.me",
    "www.telegram.me": "t.me",
    "telegram.dog": "t.me",
    "www.t.me": "t.me",
    "instagram.com": "www.instagram.com",
    "m.instagram.com": "www.instagram.com",
    "m.vk.com": "vk.com",
    "www.vk.com": "vk.com",
    "m.ok.ru": "ok.ru",
    "www.ok.ru": "ok.ru",
    "tiktok.com": "www.tiktok.com",
    "m.tiktok.com": "www.tiktok.com",
    "old.reddit.com": "www.reddit.com",
    "np.reddit.com": "www.reddit.com",
    "reddit.com": "www.reddit.com",
    "m.reddit.com": "www.reddit.com",
    "m.dailymotion.com": "www.dailymotion.com",
    "dailymotion.com": "www.dailymotion.com",
}
_HTTPS_ONLY = frozenset(_HOST_ALIASES.values()) | {"t.me", "youtu.be", "web.archive.org"}
_TELEGRAM_RESERVED = frozenset(
    {
        "joinchat",
        "addstickers",
        "share",
        "proxy",
        "socks",
        "iv",
        "c",
        "addemoji",
        "setlanguage",
        "login",
        "bg",
        "addtheme",
        "invoice",
        "boost",
    }
)


class InvalidURL(ValueError):
    """A string that is not a usable http(s) URL; the message says why."""


@dataclass(frozen=True)
class CanonicalURL:
    url: str
    scheme: str
    host: str
    registrable_domain: str | None
    psl_version: str
    is_ip: bool
    mixed_script: bool
    unicode_host: str
    account: str | None = None
    target: str | None = None


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@lru_cache(maxsize=65536)
def _registrable(host: str) -> str:
    return str(_psl().privatesuffix(host) or host)


def _script(char: str) -> str:
    try:
        return unicodedata.name(char).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"


def is_mixed_script(label: str) -> bool:
    scripts = {_script(c) for c in label if c.isalpha()}
    return len(scripts) > 1


@lru_cache(maxsize=65536)
def _host(raw_host: str) -> tuple[str, str, bool, bool]:
    """(A-label host, Unicode host, is_ip, mixed_script) or InvalidURL."""
    host = raw_host.rstrip(".").lower()
    if not host:
        raise InvalidURL("empty host")
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        address = None
    if address is not None:
        text = f"[{address.compressed}]" if address.version == 6 else str(address)
        return text, text, True, False
    try:
        ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        if host.isascii() and all(_LABEL.match(p) for p in host.split(".")):
            ascii_host = host
        else:
            raise InvalidURL(f"invalid host name {raw_host[:80]!r}: {exc}") from exc
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(p) for p in labels):
        raise InvalidURL(f"invalid host name {raw_host[:80]!r}")
    try:
        unicode_host = idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError):
        unicode_host = ascii_host
    mixed = any(is_mixed_script(label) for label in unicode_host.split("."))
    return ascii_host, unicode_host, False, mixed


def _norm_escapes(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        if char.isascii() and (char.isalnum() or char in "-._~"):
            return char
        return "%" + match.group(1).upper()

    return _UNRESERVED.sub(fix, text)


def _path(path: str) -> str:
    if _SIMPLE_PATH.match(path):
        return path or "/"
    path = quote(_norm_escapes(path), safe=_SAFE_PATH)
    path = re.sub(r"/{2,}", "/", path) or "/"
    trailing = path.endswith("/") and path != "/"
    resolved = posixpath.normpath(path) if path != "/" else "/"
    resolved = "/" + resolved.lstrip("/")
    if trailing and not resolved.endswith("/"):
        resolved += "/"
    return resolved


def _query(query: str, host: str) -> list[tuple[str, str]]:
    if not query:
        return []
    extra: set[str] = set()
    for suffix, names in _TRACKING_ON.items():
        if host == suffix or host.endswith("." + suffix):
            extra |= names
    pairs = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        low = key.lower()
        if low in _TRACKING or low in extra or low.startswith(_TRACKING_PREFIXES):
            continue
        pairs.append((key, value))
    return sorted(pairs)


def _unwrap(host: str, path: str, query: dict[str, str]) -> str | None:
    """The wrapped URL of a redirect wrapper, or None."""
    keys: tuple[str, ...] = ()
    if re.fullmatch(r"(www\.)?google\.[a-z.]+", host) and path == "/url":
        keys = ("q", "url")
    elif host in ("l.facebook.com", "lm.facebook.com", "l.instagram.com"):
        keys = ("u",)
    elif host == "www.youtube.com" and path == "/redirect":
        keys = ("q",)
    elif host == "out.reddit.com":
        keys = ("url",)
    elif host == "t.umblr.com" and path == "/redirect":
        keys = ("z",)
    elif host in ("vk.com", "m.vk.com") and path == "/away.php":
        keys = ("to",)
    elif host == "slack-redir.net":
        keys = ("url",)
    elif host == "l.messenger.com" and path == "/l.php":
        keys = ("u",)
    for key in keys:
        if query.get(key, "").lower().startswith(("http://", "https://")):
            return query[key]
    return None


def _prepare(raw: str, max_chars: int) -> str:
    if len(raw) > max_chars:
        raise InvalidURL(f"URL of {len(raw)} characters, over the limit of {max_chars}")
    text = raw.strip()
    if _DEFANGED.search(text):
        text = refang(text)
    if _CONTROL.search(text):
        raise InvalidURL("URL contains whitespace or control characters")
    if not text:
        raise InvalidURL("empty URL")
    if text.lower().startswith("tg://"):
        parts = urlsplit(text)
        params = dict(parse_qsl(parts.query))
        if parts.netloc.lower() != "resolve" or not params.get("domain"):
            raise InvalidURL("only tg://resolve?domain=NAME links are supported")
        post = params.get("post", "")
        return f"https://t.me/{params['domain']}" + (f"/{post}" if post.isdigit() else "")
    if text.startswith("//"):
        return "http:" + text
    scheme = _SCHEME.match(text)
    if scheme and text[scheme.end() : scheme.end() + 2] == "//":
        return text
    if scheme and not re.match(r"^[^:/]+:\d+(/|$)", text):
        raise InvalidURL(f"unsupported scheme {scheme.group(1)[:20]!r}: only http and https")
    return "http://" + text


def canonicalize(raw: str, *, max_chars: int = 8192) -> CanonicalURL:
    """The canonical form of ``raw``; raises :class:`InvalidURL` and nothing else."""
    try:
        return _canonicalize(_prepare(raw, max_chars), max_chars, 0)
    except InvalidURL:
        raise
    except (ValueError, UnicodeError, TypeError) as exc:
        raise InvalidURL(f"unparseable URL: {exc}") from exc


def _canonicalize(text: str, max_chars: int, depth: int) -> CanonicalURL:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidURL(f"unsupported scheme {scheme[:20]!r}: only http and https")
    if parts.hostname is None:
        raise InvalidURL("URL has no host")
    host, unicode_host, is_ip, mixed = _host(unquote(parts.hostname))
    host = _HOST_ALIASES.get(host, host)
    port = parts.port
    if port == {"http": 80, "https": 443}[scheme]:
        port = None
    query_pairs = _query(parts.query, host)
    flat = dict(query_pairs)
    if depth < MAX_WRAP_DEPTH:
        inner = _unwrap(host, parts.path, flat)
        if inner is not None:
            return _canonicalize(_prepare(inner, max_chars), max_chars, depth + 1)
    path = _path(parts.path)
    account = None
    target = None
    if host == "youtu.be" and len(path) > 1:
        host = "www.youtube.com"
        query_pairs = sorted([*query_pairs, ("v", path.strip("/").split("/")[0])])
        path = "/watch"
    elif host == "t.me":
        path, account = _telegram(path)
        query_pairs = []
    elif host == "web.archive.org" and path.startswith("/web/"):
        snapshot = re.match(r"^/web/([0-9*]{1,14})[a-z_]*/(.+)$", parts.path)
        if snapshot and depth < MAX_WRAP_DEPTH:
            inner_raw = snapshot.group(2) + (f"?{parts.query}" if parts.query else "")
            archived = _canonicalize(
                _prepare(re.sub(r"^(https?):/(?!/)", r"\1://", inner_raw), max_chars),
                max_chars,
                depth + 1,
            )
            target = archived.url
            path = f"/web/{snapshot.group(1)}/{archived.url}"
            query_pairs = []
    elif host in ("x.com", "www.instagram.com", "www.tiktok.com") or host == "www.youtube.com":
        account = _account(host, path)
    netloc = host if port is None else f"{host}:{port}"
    if host in _HTTPS_ONLY and port is None:
        scheme = "https"
    query = urlencode(query_pairs, quote_via=quote, safe="-._~:/@!$'()*+,;")
    url = urlunsplit((scheme, netloc, path, query, ""))
    if len(url) > max_chars:
        raise InvalidURL(f"canonical URL over the limit of {max_chars} characters")
    domain = None if is_ip else _registrable(host)
    return CanonicalURL(
        url, scheme, host, domain, PSL_VERSION, is_ip, mixed, unicode_host, account, target
    )


def _telegram(path: str) -> tuple[str, str | None]:
    segments = [s for s in path.split("/") if s]
    if segments and segments[0] == "s":
        segments = segments[1:]
    if not segments:
        return "/", None
    first = segments[0]
    if first.startswith("+") or first.lower() in _TELEGRAM_RESERVED:
        return "/" + "/".join(segments), None
    name = first.lower()
    rest = [s for s in segments[1:2] if s.isdigit()]
    return "/" + "/".join([name, *rest]), f"telegram:{name}"


def _account(host: str, path: str) -> str | None:
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    first = segments[0]
    if host == "x.com" and first.lower() not in (
        "i",
        "home",
        "search",
        "intent",
        "hashtag",
        "share",
    ):
        return f"x:{first.lower()}"
    if host == "www.instagram.com" and first not in ("p", "reel", "tv", "stories", "explore"):
        return f"instagram:{first.lower()}"
    if first.startswith("@"):
        return f"{'tiktok' if 'tiktok' in host else 'youtube'}:{first[1:].lower()}"
    if host == "www.youtube.com" and first in ("channel", "c", "user") and len(segments) > 1:
        return f"youtube:{segments[1].lower()}"
    return None
