"""Account keys: which account (channel, profile, page, community) a canonical URL names.

Keys are ``<platform>:<name>``, lower case where the platform treats names case-insensitively:
``telegram:name``, ``x:handle``, ``instagram:user``, ``tiktok:user``, ``threads:user``,
``youtube:handle`` (``/@handle``), ``youtube:channel/UC…`` (ids keep their case),
``youtube:user/name``, ``youtube:c/name``, ``facebook:page``, ``facebook:groups/name``,
``vk:name``, ``ok:group/ID``, ``ok:profile/ID``, ``reddit:r/sub``, ``reddit:u/name``,
``twitch:name``, ``soundcloud:name``, ``rumble:name``, ``bitchute:name``, ``odysee:@name``,
``gab:name``, ``truthsocial:name``, and for any other host a fediverse-style ``/@user`` path
gives ``<host>:@user`` (Mastodon, PeerTube, Misskey, Medium …). Everything else: None.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TELEGRAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")  # 4 (collectible) to 32 characters
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_AT_NAME = re.compile(r"^@([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})(?:@[A-Za-z0-9.-]+)?$")
_FEDI_NAME = re.compile(r"^@([A-Za-z0-9_]{1,64})(?:@[A-Za-z0-9.-]+)?$")
_RESERVED = {
    "x.com": _words(
        "i home search intent hashtag share explore settings notifications messages compose "
        "login logout signup tos privacy download jobs"
    ),
    "www.instagram.com": _words(
        "p reel reels tv stories explore accounts direct about legal developer web"
    ),
    "www.facebook.com": _words(
        "watch story.php permalink.php photo.php photo.php profile.php events sharer "
        "sharer.php share login help reel videos photo l.php hashtag marketplace gaming "
        "people pages dialog plugins privacy policies search home.php notifications"
    ),
    "vk.com": _words(
        "away.php feed im friends groups search login settings video audio music apps "
        "clips docs wall photos albums market"
    ),
    "www.twitch.tv": _words("directory videos settings p search downloads jobs turbo"),
    "soundcloud.com": _words(
        "discover search stream you charts pages upload settings messages notifications "
        "people tags terms-of-use"
    ),
    "gab.com": _words("groups hash search about auth settings home notifications"),
}
_AT_PLATFORMS = {
    "www.tiktok.com": "tiktok",
    "www.threads.com": "threads",
    "truthsocial.com": "truthsocial",
}
_VK_ITEM = re.compile(
    r"^(?:wall|video|photo|album|topic|board|doc|audio|clip|story|market|note|poll|"
    r"podcast|playlist|product)-?\d"
)
TELEGRAM_RESERVED = _words(
    "joinchat addstickers addemoji addlist addtheme share proxy socks iv c setlanguage login bg "
    "invoice boost contact confirmphone"
)


def _first_name(host: str, segments: list[str]) -> str | None:
    first = segments[0]
    if first in _RESERVED.get(host, ()) or not _NAME.match(first):
        return None
    return first.lower()


def _second(segments: list[str], kinds: tuple[str, ...]) -> str | None:
    """The name after ``kind/`` (``/r/NAME``, ``/channel/NAME`` …), lower case, or None."""
    if len(segments) >= 2 and segments[0] in kinds and _NAME.match(segments[1]):
        return segments[1].lower()
    return None


def account_of(host: str, path: str) -> str | None:
    """The account key named by a canonical host and path, or None."""
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    first = segments[0]
    at = _AT_NAME.match(first)
    if host == "t.me":
        if first.lower() in TELEGRAM_RESERVED or not TELEGRAM_NAME.match(first):
            return None
        return f"telegram:{first.lower()}"
    if host == "www.youtube.com":
        if at:
            return f"youtube:{at.group(1).lower()}"
        if len(segments) >= 2 and first == "channel":
            return f"youtube:channel/{segments[1]}"
        if len(segments) >= 2 and first in ("user", "c"):
            return f"youtube:{first}/{segments[1].lower()}"
        return None
    if host in ("x.com", "www.instagram.com", "www.twitch.tv", "soundcloud.com", "gab.com"):
        if host == "www.instagram.com" and first == "stories" and len(segments) >= 2:
            return f"instagram:{segments[1].lower()}"
        name = _first_name(host, segments)
        return f"{host.removeprefix('www.').split('.')[0]}:{name}" if name else None
    if host == "www.facebook.com":
        if first == "groups" and len(segments) >= 2:
            return f"facebook:groups/{segments[1].lower()}"
        name = _first_name(host, segments)
        return f"facebook:{name}" if name else None
    if host == "vk.com":
        name = None if _VK_ITEM.match(first) else _first_name(host, segments)
        return f"vk:{name}" if name else None
    if host == "ok.ru":
        name = _second(segments, ("group", "profile"))
        return f"ok:{first}/{name}" if name else None
    if host == "www.reddit.com":
        name = _second(segments, ("r", "u", "user"))
        return f"reddit:{first[0]}/{name}" if name else None
    if host == "rumble.com":
        name = _second(segments, ("c", "user"))
        return f"rumble:{name}" if name else None
    if host in ("www.bitchute.com", "bitchute.com"):
        name = _second(segments, ("channel",))
        return f"bitchute:{name}" if name else None
    if host == "odysee.com" and first.startswith("@"):
        return f"odysee:{first.split(':', 1)[0].lower()}"
    known = _AT_PLATFORMS.get(host)
    if known:
        return f"{known}:{at.group(1).lower()}" if at else None
    fedi = _FEDI_NAME.match(first)
    return f"{host}:@{fedi.group(1).lower()}" if fedi else None
