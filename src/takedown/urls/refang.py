"""Refang defanged indicators and find URLs in free text (any script around them).

``refang`` undoes the usual defanging: ``hxxp``/``hXXp``/``hxxps``/``h**p``/``hxxp[s]`` ->
``http``/``https``, ``fxp`` -> ``ftp``; ``[.]`` ``(.)`` ``{.}`` ``[dot]`` ``(dot)`` ``\\.`` ->
``.``; ``[:]`` ``(:)`` -> ``:``; ``[://]`` -> ``://``; ``[/]`` -> ``/``; ``[at]`` ``(at)``
``[@]`` -> ``@``. A spelled-out `` dot `` is replaced only inside something that is plainly a
URL (it follows a scheme or ``www``, or a path follows it): in prose, "dot" is left alone.

``extract_urls`` finds URLs with a scheme (http, https, tg), ``www.`` hosts, and bare
``host.tld/path`` links such as ``t.me/name`` or ``justpaste.it/abc``, after refanging.
Trailing punctuation (Latin and Arabic), markdown emphasis and unbalanced closing brackets
are trimmed. A URL written straight against right-to-left text ends where the RTL text
starts unless the RTL text follows a path separator (``/wiki/قناة`` is kept whole).
"""

from __future__ import annotations

import re

_SCHEME = re.compile(
    r"\b(?:h(?:xx|XX|\*\*|__|tt)p|hXxp|hxXp|H(?:XX|xx)P)(\[?s\]?|S)?(?=\s*(?:\[|\(|\{)?\s*:)"
)
_FXP = re.compile(r"\bf[xX]p(?=\s*(?:\[|\()?:)")
_REPLACEMENTS = (
    (re.compile(r"\[\s*://\s*\]|\(\s*://\s*\)|\{\s*://\s*\}"), "://"),
    (re.compile(r"\[\s*:\s*\]|\(\s*:\s*\)|\{\s*:\s*\}"), ":"),
    (re.compile(r"\[\s*/\s*\]|\(\s*/\s*\)"), "/"),
    (
        re.compile(r"\s?\[\s*(?:\.|dot)\s*\]\s?|\s?\(\s*(?:\.|dot)\s*\)\s?|\{\s*(?:\.|dot)\s*\}",
                   re.IGNORECASE),
        ".",
    ),
    (re.compile(r"(?<=[A-Za-z0-9])\\\.(?=[A-Za-z0-9])"), "."),
    (re.compile(r"\[\s*(?:at|@)\s*\]|\(\s*(?:at|@)\s*\)", re.IGNORECASE), "@"),
)  # fmt: skip
_DOT_CHAIN = re.compile(
    r"(?i)((?:https?://)?[a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)+)(/?)",
)
_DEFANGED = re.compile(r"[\[({\\]|h(?:xx|\*\*|__)p|fxp|\sdot\s", re.IGNORECASE)
_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_RTL_AFTER = frozenset("/=-_?&#+%:~")
_URL_CHARS = r"[^\s<>\"'`\u200b-\u200f\u202a-\u202e\u2066-\u2069«»“”‘’„「」『』【】]"
_URL = re.compile(
    rf"""
    (?:https?://|tg://){_URL_CHARS}+
    | (?<![\w@./-])www\.{_URL_CHARS}+
    | (?<![\w@./-])(?:[^\W_][\w-]{{0,62}}\.)+[^\W\d_]{{2,63}}/{_URL_CHARS}+
    """,
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING = frozenset(".,;:!?*'\"»«…،؛؟۔")
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}


def looks_defanged(text: str) -> bool:
    """A cheap test: could ``refang`` change ``text``?"""
    return _DEFANGED.search(text) is not None


def _scheme(match: re.Match[str]) -> str:
    return "https" if match.group(1) else "http"


def _dot_chain(match: re.Match[str]) -> str:
    chain, slash = match.group(1), match.group(2)
    if chain.lower().startswith(("http://", "https://", "www")) or slash:
        return re.sub(r"(?i)\s+dot\s+", ".", chain) + slash
    return match.group(0)


def refang(text: str) -> str:
    """``hxxps://example[.]org`` -> ``https://example.org`` (and the other common forms)."""
    if not looks_defanged(text):
        return text
    out = _SCHEME.sub(_scheme, text)
    out = _FXP.sub("ftp", out)
    for pattern, replacement in _REPLACEMENTS:
        out = pattern.sub(replacement, out)
    if re.search(r"(?i)\sdot\s", out):
        out = _DOT_CHAIN.sub(_dot_chain, out)
    return out


def _cut_rtl(url: str) -> str:
    for match in _RTL.finditer(url):
        before = url[match.start() - 1] if match.start() else "/"
        if before not in _RTL_AFTER and not _RTL.match(before) and not before.isspace():
            return url[: match.start()]
    return url


def _trim(url: str) -> str:
    """``url`` without trailing punctuation and unbalanced closing brackets (linear time)."""
    opened = {opener: url.count(opener) for opener in _CLOSERS.values()}
    closed = {closer: url.count(closer) for closer in _CLOSERS}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _CLOSERS:
            if opened[_CLOSERS[last]] >= closed[last]:
                break
            closed[last] -= 1
        elif last not in _TRAILING:
            break
        end -= 1
    return url[:end]


def extract_urls(text: str, *, limit: int = 1000) -> list[str]:
    """Refanged URLs found in free text, in order of appearance, without duplicates."""
    found: list[str] = []
    if limit <= 0:
        return found
    seen: set[str] = set()
    for match in _URL.finditer(refang(text)):
        url = _trim(_cut_rtl(match.group(0)))
        if len(url) < 4 or url.endswith("://") or url in seen:
            continue
        seen.add(url)
        found.append(url)
        if len(found) >= limit:
            break
    return found
