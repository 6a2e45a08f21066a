"""Refang defanged indicators and find URLs in free text (any script around them)."""

from __future__ import annotations

import re

_SCHEMES = re.compile(r"\b(h[xX]{2}p(s?)|hxxp(s?)|fxp|meow)(?=\[?:)", re.IGNORECASE)
_REPLACEMENTS = [
    (re.compile(r"\[\s*\.\s*\]|\(\s*\.\s*\)|\{\s*\.\s*\}|\[dot\]|\(dot\)", re.IGNORECASE), "."),
    (re.compile(r"\[:\]|\[\s*:\s*\]"), ":"),
    (re.compile(r"\[://\]"), "://"),
    (re.compile(r"\[/\]"), "/"),
    (re.compile(r"\[at\]|\(at\)", re.IGNORECASE), "@"),
]
_DOT_WORD = re.compile(r"(?<=[a-z0-9])\s+dot\s+(?=[a-z0-9])", re.IGNORECASE)

_URL = re.compile(
    r"""(?ix)
    (?:https?://|tg://|(?<![\w@.])(?:www\.|t\.me/|telegram\.me/))
    [^\s<>"'`\u200b-\u200f\u202a-\u202e\u2066-\u2069]+
    """
)
_TRAILING = ".,;:!?)]}»«…'\"،؛۔"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def refang(text: str) -> str:
    """``hxxps://example[.]org`` -> ``https://example.org`` (and the other common forms)."""
    out = _SCHEMES.sub(lambda m: "https" if "s" in m.group(0).lower()[4:] else "http", text)
    for pattern, repl in _REPLACEMENTS:
        out = pattern.sub(repl, out)
    if "://" in out or out.lower().startswith("www"):
        out = _DOT_WORD.sub(".", out)
    return out


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        last = url[-1]
        if last in _PAIRS and url.count(_PAIRS[last]) >= url.count(last):
            break
        url = url[:-1]
    return url


def extract_urls(text: str, *, limit: int = 1000) -> list[str]:
    """Refanged URLs found in free text, in order, without duplicates."""
    found: list[str] = []
    seen: set[str] = set()
    for match in _URL.finditer(refang(text)):
        url = _trim(match.group(0))
        if len(url) < 8 or url in seen:
            continue
        seen.add(url)
        found.append(url)
        if len(found) >= limit:
            break
    return found
