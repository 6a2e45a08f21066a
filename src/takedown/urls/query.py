"""Percent-encoding, paths and query strings in canonical form; tracking parameters dropped.

* Escapes: ``%7e`` -> ``~`` (unreserved characters are decoded), other escapes upper case
  (``%2f`` -> ``%2F``), a stray ``%`` becomes ``%25``, and characters that may not appear raw
  (non-ASCII, spaces, ``"<>\\^`{|}``) are UTF-8 percent-encoded. ``+`` is left alone.
* Paths: empty segments (``//``) collapse, ``.`` and ``..`` are resolved (RFC 3986 5.2.4),
  the empty path is ``/``. Case is kept: paths are case-sensitive.
* Queries: split on ``&``; empty parameters go; tracking parameters go (``utm_*``, ``fbclid``,
  ``gclid`` … and per-site ones such as ``si`` on YouTube and Spotify); the remaining parameters
  are sorted by name with a *stable* sort, so repeated names (``a=1&a=2``) keep their relative
  order, which some servers depend on. An empty query is removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import unquote_plus

_HEX = "0123456789ABCDEFabcdef"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _UNRESERVED | frozenset("!$'()*+,;:@/?=")  # '&' separates; '=' only in values
_NEEDS_WORK = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/]|/\.{1,2}(?:/|$)|//")

TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "__cft__", "_hs")
TRACKING = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "igshid", "igsh",
        "mc_cid", "mc_eid", "yclid", "ysclid", "_ga", "_gl", "ref_src", "ref_url", "twclid",
        "ttclid", "li_fat_id", "s_cid", "mkt_tok", "vero_id", "vero_conv", "oly_enc_id",
        "oly_anon_id", "rb_clickid", "__s", "spm", "_openstat", "wickedid", "epik", "srsltid",
        "__tn__", "mibextid", "at_medium", "at_campaign", "cmpid", "irclickid", "sc_cid",
    }
)  # fmt: skip
TRACKING_ON_HOST = {
    "youtube.com": frozenset({"si", "feature", "pp", "ab_channel", "embeds_referring_euri"}),
    "spotify.com": frozenset({"si", "context", "nd"}),
    "x.com": frozenset({"s", "t", "ref_src", "ref_url", "src"}),
    "instagram.com": frozenset({"img_index", "hl"}),
    "threads.net": frozenset({"xmt", "slof"}),
    "tiktok.com": frozenset({"is_from_webapp", "sender_device", "_r", "_t", "is_copy_url"}),
    "facebook.com": frozenset({"rdid", "sfnsn", "ref", "paipv", "eav", "extid", "locale"}),
    "t.me": frozenset({"single", "embed", "utm_source"}),
    "reddit.com": frozenset({"share_id", "context", "ref", "ref_source", "rdt"}),
    "linkedin.com": frozenset({"trk", "trackingid", "lipi", "rcm"}),
    "vk.com": frozenset({"from"}),
    "soundcloud.com": frozenset({"si", "ref", "p", "c"}),
}
TRACKING_VALUES = frozenset({("feature", "share"), ("feature", "shared"), ("app", "desktop")})
_SITE_SUFFIXES = tuple(TRACKING_ON_HOST)


def normalize_escapes(text: str, safe: frozenset[str]) -> str:
    """Percent-encoding in canonical form; characters outside ``safe`` are encoded."""
    if "%" not in text and safe.issuperset(text):
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) == 2 and pair[0] in _HEX and pair[1] in _HEX:
                decoded = chr(int(pair, 16))
                out.append(decoded if decoded in _UNRESERVED else "%" + pair.upper())
                i += 3
                continue
            out.append("%25")
        elif char in safe:
            out.append(char)
        else:
            out.append("".join(f"%{b:02X}" for b in char.encode("utf-8")))
        i += 1
    return "".join(out)


_SLASHES = re.compile("/{2,}")


def normalize_path(path: str) -> str:
    """The path with escapes normalised, dot segments resolved as browsers resolve them (an
    empty segment counts: ``/a//../b`` is ``/a/b``), then ``//`` collapsed (policy: servers
    treat ``/a//b`` as ``/a/b`` almost everywhere, so one key names both)."""
    if not path:
        return "/"
    if not _NEEDS_WORK.search(path):
        return path if path.startswith("/") else "/" + path
    path = normalize_escapes(path, _PATH_SAFE)
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    stack: list[str] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if segment == "..":
            if stack:
                stack.pop()
            if index == last:
                stack.append("")
        elif segment == ".":
            if index == last:
                stack.append("")
        else:
            stack.append(segment)
    resolved = "/" + "/".join(stack)
    return _SLASHES.sub("/", resolved)


@lru_cache(maxsize=4096)
def _site_names(host: str) -> frozenset[str]:
    names: frozenset[str] = frozenset()
    for suffix in _SITE_SUFFIXES:
        if host == suffix or host.endswith("." + suffix):
            names = names | TRACKING_ON_HOST[suffix]
    return names


def param_name(part: str) -> str:
    """The decoded, lower-case name of one ``name=value`` query parameter."""
    return unquote_plus(part.split("=", 1)[0]).lower()


def is_tracking(name: str, value: str, site_names: frozenset[str]) -> bool:
    return (
        name in TRACKING
        or name in site_names
        or name.startswith(TRACKING_PREFIXES)
        or (name, value.lower()) in TRACKING_VALUES
    )


def query_params(query: str, host: str) -> list[str]:
    """The query's parameters (``name=value`` strings, escapes normalised), tracking dropped."""
    if not query:
        return []
    site_names = _site_names(host)
    kept: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part or part == "=":
            continue
        name = param_name(part)
        value = part.split("=", 1)[1] if "=" in part else ""
        if is_tracking(name, unquote_plus(value), site_names):
            continue
        kept.append((normalize_escapes(part.split("=", 1)[0], _QUERY_SAFE - {"="}), part))
    kept.sort(key=lambda item: item[0])
    return [normalize_escapes(part, _QUERY_SAFE) for _name, part in kept]


def param_value(params: Iterable[str], name: str) -> str | None:
    """The decoded value of the first parameter ``name`` (form decoding: ``+`` is a space)."""
    for part in params:
        key, _, value = part.partition("=")
        if unquote_plus(key) == name:
            return unquote_plus(value)
    return None
