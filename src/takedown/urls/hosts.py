"""Host names: IDN to A-labels (UTS 46), IP literals normalised, look-alike labels flagged.

* Domain names are lower-cased and converted to A-labels (punycode) with ``idna`` (UTS 46,
  non-transitional, so ``ß`` stays ``ß``); the A-label is the key, the Unicode form is for
  display. ASCII labels that IDNA 2008 refuses but DNS carries (``_dmarc``, ``a_b``) are kept.
* IP literals follow the WHATWG URL standard, as browsers do: ``0x7f.1``, ``017700000001`` and
  ``2130706433`` are all ``127.0.0.1``; IPv6 is compressed and bracketed, zone ids are dropped,
  and IPv4-mapped IPv6 (``[::ffff:192.0.2.1]``) becomes the IPv4 address it maps.
* ``mixed_script`` is set when a label mixes scripts in a way UTS 39 ("highly restrictive")
  does not allow, e.g. Cyrillic with a Latin ``l``. Japanese (Han + Kana + Latin), Chinese
  (Han + Bopomofo + Latin) and Korean (Han + Hangul + Latin) combinations are not mixed.
* ``lookalike`` is set when a label is mixed-script, or wholly in another script but made only
  of letters that look like ASCII letters (``раура`` in Cyrillic): a whole-script confusable.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import idna

from takedown.urls.errors import InvalidURL

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMBER = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")
_IGNORED_SCRIPTS = frozenset({"COMMON", "INHERITED"})
_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


@dataclass(frozen=True)
class Host:
    host: str  # A-label or normalised IP literal (IPv6 in brackets)
    unicode_host: str
    is_ip: bool
    mixed_script: bool
    lookalike: bool


def _ipv4_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if not part.isdigit() or set(part) & {"8", "9"}:
            raise InvalidURL(f"invalid octal number {part!r} in IPv4 host")
        return int(part, 8)
    return int(part)


def _ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG IPv4 parser: None when the host is not an IPv4 address at all."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    if not _NUMBER.match(parts[-1]):
        return None
    if len(parts) > 4 or not all(_NUMBER.match(p) for p in parts):
        raise InvalidURL(f"invalid IPv4 host {host[:60]!r}")
    numbers = [_ipv4_number(p) for p in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise InvalidURL(f"IPv4 host {host[:60]!r} out of range")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)


def _ip(host: str) -> str | None:
    if host.startswith("["):
        if not host.endswith("]"):
            raise InvalidURL(f"unterminated IPv6 host {host[:60]!r}")
        try:
            address = ipaddress.IPv6Address(host[1:-1].split("%", 1)[0])
        except ValueError as exc:
            raise InvalidURL(f"invalid IPv6 host {host[:60]!r}") from exc
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return f"[{address.compressed}]"
    if host.isascii():
        v4 = _ipv4(host)
        if v4 is not None:
            return str(v4)
    return None


def _script_of(char: str) -> str:
    from confusable_homoglyphs import categories  # loads its tables on first use

    return str(categories.alias(char))


def is_mixed_script(label: str) -> bool:
    """True when ``label`` mixes scripts beyond the combinations UTS 39 allows."""
    if label.isascii():
        return False
    scripts = {_script_of(c) for c in label} - _IGNORED_SCRIPTS
    if len(scripts) <= 1:
        return False
    return not any(scripts <= allowed for allowed in _ALLOWED_MIXES)


@lru_cache(maxsize=4096)
def _ascii_twin(char: str) -> bool:
    from confusable_homoglyphs import confusables

    found: list[dict[str, Any]] = confusables.confusables_data.get(char) or []
    return any(str(d.get("c", "")).isascii() and str(d.get("c", "")).isalnum() for d in found)


def is_ascii_lookalike(label: str) -> bool:
    """True when every letter of a non-ASCII label looks like an ASCII letter or digit."""
    if label.isascii():
        return False
    letters = [c for c in label if not c.isascii() and _script_of(c) not in _IGNORED_SCRIPTS]
    return bool(letters) and all(_ascii_twin(c) for c in letters)


@lru_cache(maxsize=65536)
def normalize_host(raw_host: str) -> Host:
    """The normalised host, or :class:`InvalidURL` saying why it is unusable."""
    host = raw_host.strip().lower()
    if host.endswith(".") and not host.startswith("["):
        host = host.rstrip(".")
    if not host:
        raise InvalidURL("empty host")
    ip = _ip(host)
    if ip is not None:
        return Host(ip, ip, True, False, False)
    if host.isascii() and "xn--" not in host:
        ascii_host = host  # the common case: no IDNA work, only the label check below
    else:
        try:
            ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            if not host.isascii():
                raise InvalidURL(f"invalid host name {raw_host[:80]!r}: {exc}") from exc
            ascii_host = host
        ascii_host = ascii_host.rstrip(".")
        ip = _ip(ascii_host)  # full-width digits and dots can spell an address
        if ip is not None:
            return Host(ip, ip, True, False, False)
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise InvalidURL(f"invalid host name {raw_host[:80]!r}")
    if len(labels) < 2:
        raise InvalidURL(f"host {raw_host[:80]!r} has no domain suffix")
    if "xn--" not in ascii_host:
        return Host(ascii_host, ascii_host, False, False, False)
    try:
        unicode_host = idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError, ValueError):
        unicode_host = ascii_host
        for label in labels:  # an A-label that is not valid punycode: browsers refuse it
            if label.startswith("xn--"):
                try:
                    idna.decode(label)
                except (idna.IDNAError, UnicodeError, ValueError) as exc:
                    raise InvalidURL(f"invalid A-label {label[:63]!r} in host: {exc}") from exc
    unicode_labels = unicode_host.split(".")
    mixed = any(is_mixed_script(label) for label in unicode_labels)
    lookalike = mixed or any(is_ascii_lookalike(label) for label in unicode_labels)
    return Host(ascii_host, unicode_host, False, mixed, lookalike)
