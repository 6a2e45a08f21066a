"""Redirect wrappers: links whose only job is to send the reader on to another URL.

``unwrap`` returns the wrapped URL (or None) for: Google (``/url?q=``, ``/url?url=``, AMP
viewer ``/amp/s/…``, Translate ``translate.goog`` proxies and ``translate?u=``), Facebook,
Messenger, Instagram and Threads (``l.*?u=``), WhatsApp (``l.wl.co``), YouTube
(``/redirect?q=``), Reddit (``out.reddit.com``), Tumblr (``t.umblr.com/redirect?z=``), VK
(``away.php?to=``), Slack (``slack-redir.net``), LinkedIn, Medium, Steam, DuckDuckGo, Bing
(``/ck/a?u=a1<base64>``), Outlook safe links, Proofpoint URL Defense (v2 and v3), Telegram
Instant View and share links, and anonymous referrers (``href.li/?URL``, ``anon.to``, …).

URL shorteners (bit.ly, t.co, tinyurl …) are not wrappers: resolving them needs a fetch, and
a shortened link is an item of its own. Web-archive snapshots are not wrappers either: the
archive serves its own copy (see ``platform_forms``).
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote

from takedown.urls.query import param_value

_GOOGLE = re.compile(r"^(?:www\.)?google\.(?:com?\.)?[a-z]{2,3}$")
_TRANSLATE_GOOG = re.compile(r"^([a-z0-9-]+)\.translate\.goog$")
_PROOFPOINT_V3 = re.compile(r"^/v3/__(.+?)__;")
# host -> (path or None for any path, query parameter names in order of preference)
_BY_PARAM: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "l.facebook.com": (None, ("u",)),
    "lm.facebook.com": (None, ("u",)),
    "l.messenger.com": (None, ("u",)),
    "l.instagram.com": (None, ("u",)),
    "l.threads.net": (None, ("u",)),
    "l.threads.com": (None, ("u",)),
    "l.wl.co": (None, ("u",)),
    "www.youtube.com": ("/redirect", ("q",)),
    "out.reddit.com": (None, ("url",)),
    "t.umblr.com": ("/redirect", ("z",)),
    "vk.com": ("/away.php", ("to",)),
    "away.vk.com": (None, ("to",)),
    "slack-redir.net": ("/link", ("url",)),
    "www.linkedin.com": ("/redir/redirect", ("url",)),
    "medium.com": ("/r/", ("url",)),
    "steamcommunity.com": ("/linkfilter/", ("url", "u")),
    "duckduckgo.com": ("/l/", ("uddg",)),
    "translate.google.com": ("/translate", ("u",)),
    "t.me": ("/iv", ("url",)),
    "exit.sc": (None, ("url",)),
    "urldefense.proofpoint.com": ("/v2/url", ("u",)),
}
_BY_RAW_QUERY = frozenset(
    {"href.li", "anon.to", "anonym.to", "nullrefer.com", "dereferer.me", "steamcommunity.com"}
)
_HTTP = ("http://", "https://")


def _http(candidate: str | None) -> str | None:
    if candidate and candidate.lower().startswith(_HTTP):
        return candidate
    return None


def _bing(params: list[str]) -> str | None:
    value = param_value(params, "u")
    if not value or not value.startswith("a1"):
        return None
    data = value[2:] + "=" * (-len(value[2:]) % 4)
    try:
        return _http(base64.urlsafe_b64decode(data).decode("utf-8"))
    except (binascii.Error, ValueError):
        return None


def _translate_goog(host: str, path: str, raw_query: str) -> str | None:
    match = _TRANSLATE_GOOG.match(host)
    if match is None:
        return None
    label = match.group(1).replace("--", "\x00").replace("-", ".").replace("\x00", "-")
    kept = [p for p in raw_query.split("&") if p and not p.lower().startswith("_x_tr_")]
    return f"https://{label}{path or '/'}" + ("?" + "&".join(kept) if kept else "")


def unwrap(host: str, path: str, params: list[str], raw_query: str) -> str | None:
    """The URL a wrapper link leads to, or None when ``host``/``path`` is not a wrapper."""
    rule = _BY_PARAM.get(host)
    if rule is not None and (rule[0] is None or path.rstrip("/") == rule[0].rstrip("/")):
        for name in rule[1]:
            value = param_value(params, name)
            if host == "urldefense.proofpoint.com" and value:
                value = unquote(value.replace("-", "%").replace("_", "/"))
            found = _http(value)
            if found:
                return found
    if host in _BY_RAW_QUERY and raw_query:
        found = _http(unquote(raw_query))
        if found:
            return found
    if _GOOGLE.match(host):
        if path == "/url":
            return _http(param_value(params, "q")) or _http(param_value(params, "url"))
        if path.startswith("/amp/s/") and len(path) > 7:
            return "https://" + path[7:] + (f"?{raw_query}" if raw_query else "")
        return None
    if host == "www.bing.com" and path == "/ck/a":
        return _bing(params)
    if host.endswith(".safelinks.protection.outlook.com"):
        return _http(param_value(params, "url"))
    if host == "urldefense.com":
        match = _PROOFPOINT_V3.match(path)
        if match and "*" not in match.group(1):
            return _http(match.group(1))
        return None
    if host.endswith(".translate.goog"):
        return _translate_goog(host, path, raw_query)
    if host == "t.me" and path.rstrip("/") in ("/share/url", "/share"):
        return _http(param_value(params, "url"))
    return None
