"""One canonical host and URL shape per platform, for the platforms that have aliases.

Canonical hosts (aliases folded into them; ``www.``/``m.``/``mobile.`` are dropped or added
only where the platform serves the same page on both):

* ``www.youtube.com`` <- youtube.com, m., music.; ``youtu.be/ID``, ``/shorts/ID``,
  ``/embed/ID``, ``/live/ID``, ``/v/ID`` and youtube-nocookie.com embeds all become
  ``/watch?v=ID``, and a watch URL keeps only ``v`` (timestamps and playlists are not the item).
* ``www.facebook.com`` <- facebook.com, fb.com, m., mobile., mbasic., touch., web.
* ``x.com`` <- twitter.com, www., mobile., m.; ``#!/path`` becomes the path; a post URL
  ends at its id (``/photo/1`` goes); handles are lower case (they are case-insensitive).
* ``www.instagram.com`` <- instagram.com, m., instagr.am; ``/reels/ID`` -> ``/reel/ID/``.
* ``t.me`` <- telegram.me, telegram.dog, www.t.me, ``NAME.t.me``; ``/s/NAME`` -> ``/NAME``;
  names lower case; a message keeps its number (a story its ``/s/N``), anything else after
  the name goes; ``/c/ID/MSG``, ``/+HASH`` and ``/joinchat/…`` are kept as written (invite
  hashes are case-sensitive); query parameters go.
* ``www.youtube.com``, ``www.tiktok.com``, ``www.threads.com``, ``truthsocial.com``: the
  ``/@handle`` segment is lower case.
* ``www.tiktok.com``, ``www.reddit.com`` (old., np., m.), ``vk.com`` (m., www.), ``ok.ru``
  (m., www.), ``www.dailymotion.com`` (``dai.ly/ID`` -> ``/video/ID``), ``www.twitch.tv``,
  ``soundcloud.com``, ``www.bilibili.com``, ``www.threads.com`` (threads.net), ``mega.nz``
  (mega.co.nz; old ``#!ID!KEY`` links -> ``/file/ID``, ``#F!ID!KEY`` -> ``/folder/ID``),
  ``web.archive.org`` (wayback.archive.org), ``archive.ph`` (archive.today and its mirrors
  .is .li .vn .md .fo), ``LANG.wikipedia.org`` (``LANG.m.wikipedia.org``).

Web-archive snapshots stay on the archive (the archive serves its own copy, and it is the
archive that removes it); the archived URL, canonicalised, is given as ``target``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from takedown.urls.accounts import TELEGRAM_NAME, TELEGRAM_RESERVED, account_of

HOST_ALIASES = {
    "youtube.com": "www.youtube.com",
    "m.youtube.com": "www.youtube.com",
    "music.youtube.com": "www.youtube.com",
    "youtube-nocookie.com": "www.youtube.com",
    "www.youtube-nocookie.com": "www.youtube.com",
    "facebook.com": "www.facebook.com",
    "m.facebook.com": "www.facebook.com",
    "mobile.facebook.com": "www.facebook.com",
    "mbasic.facebook.com": "www.facebook.com",
    "touch.facebook.com": "www.facebook.com",
    "web.facebook.com": "www.facebook.com",
    "fb.com": "www.facebook.com",
    "www.fb.com": "www.facebook.com",
    "twitter.com": "x.com",
    "www.twitter.com": "x.com",
    "mobile.twitter.com": "x.com",
    "m.twitter.com": "x.com",
    "mobile.x.com": "x.com",
    "www.x.com": "x.com",
    "telegram.me": "t.me",
    "www.telegram.me": "t.me",
    "telegram.dog": "t.me",
    "www.telegram.dog": "t.me",
    "www.t.me": "t.me",
    "instagram.com": "www.instagram.com",
    "m.instagram.com": "www.instagram.com",
    "instagr.am": "www.instagram.com",
    "www.instagr.am": "www.instagram.com",
    "m.vk.com": "vk.com",
    "www.vk.com": "vk.com",
    "m.ok.ru": "ok.ru",
    "www.ok.ru": "ok.ru",
    "tiktok.com": "www.tiktok.com",
    "m.tiktok.com": "www.tiktok.com",
    "reddit.com": "www.reddit.com",
    "old.reddit.com": "www.reddit.com",
    "np.reddit.com": "www.reddit.com",
    "m.reddit.com": "www.reddit.com",
    "dailymotion.com": "www.dailymotion.com",
    "m.dailymotion.com": "www.dailymotion.com",
    "twitch.tv": "www.twitch.tv",
    "m.twitch.tv": "www.twitch.tv",
    "www.soundcloud.com": "soundcloud.com",
    "m.soundcloud.com": "soundcloud.com",
    "bilibili.com": "www.bilibili.com",
    "m.bilibili.com": "www.bilibili.com",
    "threads.net": "www.threads.com",
    "www.threads.net": "www.threads.com",
    "threads.com": "www.threads.com",
    "www.mega.nz": "mega.nz",
    "mega.co.nz": "mega.nz",
    "www.mega.co.nz": "mega.nz",
    "wayback.archive.org": "web.archive.org",
    "archive.today": "archive.ph",
    "archive.is": "archive.ph",
    "archive.li": "archive.ph",
    "archive.vn": "archive.ph",
    "archive.md": "archive.ph",
    "archive.fo": "archive.ph",
    "www.archive.ph": "archive.ph",
}
HTTPS_ONLY = frozenset(HOST_ALIASES.values()) | {"youtu.be", "dai.ly", "archive.org"}
_WIKI_MOBILE = re.compile(r"^([a-z0-9-]+)\.m\.(wikipedia|wiktionary|wikimedia|wikiquote)\.org$")
_TELEGRAM_SUBDOMAIN = re.compile(r"^([a-z0-9_]{4,32})\.t\.me$")
_TELEGRAM_KEEP_QUERY = frozenset({"proxy", "socks", "iv", "share"})
_YOUTUBE_ID_PATHS = re.compile(r"^/(?:shorts|embed|live|v|e)/([A-Za-z0-9_-]{6,64})/?$")
_SNAPSHOT = re.compile(r"^/web/([0-9*]{1,14})[a-z_]*/(.+)$", re.DOTALL)
_ARCHIVE_TODAY = re.compile(r"^/(?:(newest|oldest|[0-9]{4,14})/)?(https?:/.+)$", re.DOTALL)
_HANDLE_HOSTS = frozenset(
    {"www.youtube.com", "www.tiktok.com", "www.threads.com", "truthsocial.com"}
)
_MEGA_OLD = re.compile(r"^(F?)!([A-Za-z0-9_-]{6,})(?:!.*)?$")


@dataclass
class Shape:
    host: str
    path: str
    params: list[str]
    fragment: str  # "" unless the platform keeps one
    account: str | None = None
    target: str | None = None


def canonical_host(host: str) -> str:
    aliased = HOST_ALIASES.get(host)
    if aliased is not None:
        return aliased
    wiki = _WIKI_MOBILE.match(host)
    if wiki is not None:
        return f"{wiki.group(1)}.{wiki.group(2)}.org"
    telegram = _TELEGRAM_SUBDOMAIN.match(host)
    if telegram is not None and telegram.group(1) != "www":
        return "t.me"
    return host


def _telegram(shape: Shape, original_host: str) -> None:
    segments = [s for s in shape.path.split("/") if s]
    telegram = _TELEGRAM_SUBDOMAIN.match(original_host)
    if telegram is not None and telegram.group(1) != "www":
        segments = [telegram.group(1), *segments]
    if len(segments) > 1 and segments[0] == "s" and TELEGRAM_NAME.match(segments[1]):
        segments = segments[1:]  # the web preview of a channel: same channel
    first = segments[0] if segments else ""
    if not TELEGRAM_NAME.match(first) or first.lower() in TELEGRAM_RESERVED:
        shape.path = "/" + "/".join(segments)  # invites, private links, tools: kept as written
        if first.lower() not in _TELEGRAM_KEEP_QUERY:
            shape.params = []
        return
    rest = segments[1:3] if segments[1:2] == ["s"] else segments[1:2]  # a story, or a message
    item = rest if rest and rest[-1].isdigit() else []
    shape.path = "/" + "/".join([first.lower(), *item])
    shape.params = []


def _youtube(shape: Shape) -> None:
    match = _YOUTUBE_ID_PATHS.match(shape.path)
    if match is not None:
        shape.path, shape.params = "/watch", [f"v={match.group(1)}"]
    elif shape.path == "/watch":
        shape.params = [p for p in shape.params if p.startswith("v=")][:1]


def _x(shape: Shape) -> None:
    if shape.fragment.startswith("!/"):
        shape.path = shape.fragment[1:].split("?", 1)[0] or "/"
    shape.fragment = ""
    segments = [s for s in shape.path.split("/") if s]
    if len(segments) >= 3 and segments[1] in ("status", "statuses") and segments[2].isdigit():
        handle = segments[0] if segments[0] == "i" else segments[0].lower()
        shape.path = f"/{handle}/status/{segments[2]}"
        shape.params = []
    elif len(segments) == 1:
        shape.path = "/" + segments[0].lower()


def _instagram(shape: Shape) -> None:
    segments = [s for s in shape.path.split("/") if s]
    if len(segments) >= 2 and segments[0] in ("p", "reel", "reels", "tv"):
        kind = "reel" if segments[0] == "reels" else segments[0]
        shape.path, shape.params = f"/{kind}/{segments[1]}/", []
    elif len(segments) == 1:
        shape.path = f"/{segments[0].lower()}/"


def _archive_target(
    shape: Shape, raw_path: str, raw_query: str, canon: Callable[[str], str]
) -> None:
    pattern = _SNAPSHOT if shape.host == "web.archive.org" else _ARCHIVE_TODAY
    match = pattern.match(raw_path)
    if match is None:
        return
    inner = re.sub(r"^(https?):/+", r"\1://", match.group(2), flags=re.IGNORECASE)
    inner += f"?{raw_query}" if raw_query else ""
    try:
        shape.target = canon(inner).split("#", 1)[0]  # a fragment would end the archive's URL
    except ValueError:
        return
    prefix = "/web" if shape.host == "web.archive.org" else ""
    stamp = f"/{match.group(1)}" if match.group(1) else ""
    shape.path, shape.params = f"{prefix}{stamp}/{shape.target}", []


def apply(
    shape: Shape, original_host: str, raw_path: str, raw_query: str, canon: Callable[[str], str]
) -> Shape:
    """``shape`` rewritten into its platform's canonical form, with account and target."""
    host = shape.host
    if host == "youtu.be" and _YOUTUBE_ID_PATHS.match("/v" + shape.path):
        shape.host, shape.path = "www.youtube.com", "/shorts" + shape.path.rstrip("/")
        host = shape.host
    elif host == "dai.ly" and len(shape.path) > 1:
        shape.host, shape.path, shape.params = "www.dailymotion.com", "/video" + shape.path, []
        host = shape.host
    if host in _HANDLE_HOSTS and shape.path.startswith("/@"):
        handle, _, rest = shape.path[1:].partition("/")
        shape.path = f"/{handle.lower()}" + (f"/{rest}" if rest or shape.path.endswith("/") else "")
    if host == "www.youtube.com":
        _youtube(shape)
    elif host == "t.me":
        _telegram(shape, original_host)
    elif host == "x.com":
        _x(shape)
    elif host == "www.instagram.com":
        _instagram(shape)
    elif host == "mega.nz":
        old = _MEGA_OLD.match(shape.fragment) if shape.path in ("/", "") else None
        if old is not None:
            shape.path = f"/{'folder' if old.group(1) else 'file'}/{old.group(2)}"
        shape.fragment = ""
    elif host in ("web.archive.org", "archive.ph"):
        _archive_target(shape, raw_path, raw_query, canon)
    if shape.host in HTTPS_ONLY or not shape.fragment.startswith("!"):
        shape.fragment = ""
    shape.account = account_of(shape.host, shape.path)
    return shape
