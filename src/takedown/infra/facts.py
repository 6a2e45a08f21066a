"""Records the infra importers produce (pure: no database), and label normalisation.

* :class:`Fact` — one typed edge (``EdgeKind``) between labelled nodes, with its source and
  first/last seen time;
* :class:`NodeNote` — attributes of one node (abuse contact, registration dates, flags);
* :class:`Range` — an IP range with what is known about it (ASN, holder, country, abuse);
* :class:`Problem` — a record refused, with where it was and why (kept, never dropped).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from takedown.infra.graph import EdgeKind, NodeKind
from takedown.urls.errors import InvalidURL
from takedown.urls.hosts import normalize_host

MAX_LABEL = 255  # longer labels are refused (DNS names stop at 253)
MAX_RAW = 500  # bytes of an offending record kept with its problem


class InfraParseError(ValueError):
    """The whole input is unusable (not JSON, not RDAP, no header...); the message says why."""


class LabelError(ValueError):
    """One name or address is unusable."""


@dataclass(frozen=True)
class Fact:
    kind: EdgeKind
    src: str
    dst: str
    source: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    ref: str = ""


@dataclass(frozen=True)
class NodeNote:
    kind: NodeKind
    label: str
    attrs: dict[str, Any]
    source: str


@dataclass(frozen=True)
class Range:
    start: int
    end: int
    version: int  # 4 or 6
    source: str
    asn: int | None = None
    country: str | None = None
    holder: str | None = None
    abuse_email: str | None = None
    handle: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def cidr(self) -> str:
        """The range as one CIDR prefix when it is one, else ``first-last``."""
        if self.version == 4:
            a4, b4 = ipaddress.IPv4Address(self.start), ipaddress.IPv4Address(self.end)
            nets = [str(n) for n in ipaddress.summarize_address_range(a4, b4)]
            first, last = str(a4), str(b4)
        else:
            a6, b6 = ipaddress.IPv6Address(self.start), ipaddress.IPv6Address(self.end)
            nets = [str(n) for n in ipaddress.summarize_address_range(a6, b6)]
            first, last = a6.compressed, b6.compressed
        return nets[0] if len(nets) == 1 else f"{first}-{last}"


@dataclass(frozen=True)
class Problem:
    ref: str
    reason: str
    raw: str = ""


@dataclass
class Parsed:
    """Everything one input yielded; ``problems`` are the records refused (never silently)."""

    format: str
    source: str
    facts: list[Fact] = field(default_factory=list)
    notes: list[NodeNote] = field(default_factory=list)
    ranges: list[Range] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: Parsed) -> None:
        self.facts += other.facts
        self.notes += other.notes
        self.ranges += other.ranges
        self.problems += other.problems


# --- labels -------------------------------------------------------------------------------

_DOC_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def ip_flags(text: str) -> tuple[str, list[str]]:
    """The normalised address and its special-use flags (empty for a public address).

    Flags: ``documentation``, ``private``, ``shared`` (CGNAT), ``loopback``, ``link_local``,
    ``multicast``, ``unspecified``, ``reserved``. Such addresses are kept and flagged: they
    cannot serve an audience on the public internet, so they are data errors or decoys.
    """
    address, flags = _ip_flags(text)
    return address, list(flags)


# (version, first, last) of the documentation networks, compared as numbers
_DOC_SPANS = tuple((n.version, int(n.network_address), int(n.broadcast_address)) for n in _DOC_NETS)


@lru_cache(maxsize=65536)  # passive DNS repeats addresses a lot; the answer is pure
def _ip_flags(text: str) -> tuple[str, tuple[str, ...]]:
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]").split("%", 1)[0])
    except ValueError as exc:
        raise LabelError(f"not an IP address: {text[:60]!r}") from exc
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    value = int(addr)
    flags: list[str] = []
    if any(v == addr.version and a <= value <= b for v, a, b in _DOC_SPANS):
        flags.append("documentation")
    elif addr.version == 4 and addr in _SHARED:
        flags.append("shared")
    elif addr.is_loopback:
        flags.append("loopback")
    elif addr.is_link_local:
        flags.append("link_local")
    elif addr.is_multicast:
        flags.append("multicast")
    elif addr.is_unspecified:
        flags.append("unspecified")
    elif addr.is_reserved:
        flags.append("reserved")
    elif addr.is_private:
        flags.append("private")
    return addr.compressed, tuple(flags)


@dataclass(frozen=True)
class Name:
    label: str  # A-label, lower case, no trailing dot; "*." prefix kept for wildcards
    unicode: str
    wildcard: bool
    lookalike: bool
    mixed_script: bool

    def attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.unicode != self.label:
            out["unicode"] = self.unicode
        if self.wildcard:
            out["wildcard"] = True
        if self.lookalike:
            out["lookalike"] = True
        if self.mixed_script:
            out["mixed_script"] = True
        return out


def host_name(text: str) -> Name:
    """A DNS name normalised with ``takedown.urls`` (IDN to A-labels, look-alikes flagged)."""
    raw = text.strip().rstrip(".")
    wildcard = raw.startswith("*.")
    if wildcard:
        raw = raw[2:]
    if len(raw) > MAX_LABEL:
        raise LabelError(f"name longer than {MAX_LABEL} characters")
    try:
        host = normalize_host(raw)
    except InvalidURL as exc:
        raise LabelError(str(exc)) from exc
    if host.is_ip:
        raise LabelError(f"expected a host name, got an IP address {raw[:60]!r}")
    prefix = "*." if wildcard else ""
    return Name(
        prefix + host.host,
        prefix + host.unicode_host,
        wildcard,
        host.lookalike,
        host.mixed_script,
    )


@lru_cache(maxsize=1)
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()  # the list shipped in the wheel: nothing is fetched


def registrable(name: str) -> str:
    """The registrable domain (public suffix list, offline) of an A-label host name."""
    host = name.removeprefix("*.")
    return str(_psl().privatesuffix(host) or host)


def text_label(text: str, what: str) -> str:
    """A free-text label (registrar, hoster, analytics id): trimmed, bounded, printable."""
    value = " ".join(str(text).split())
    if not value:
        raise LabelError(f"empty {what}")
    if len(value) > MAX_LABEL:
        raise LabelError(f"{what} longer than {MAX_LABEL} characters")
    if any(not c.isprintable() for c in value):
        raise LabelError(f"{what} contains control characters")
    return value


_NUMERIC = re.compile(r"^-?[0-9]{1,12}(?:\.[0-9]{0,9})?$", re.ASCII)


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 text or epoch seconds to an aware UTC datetime; empty gives None."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(float(value))
    text = str(value).strip()
    if not text:
        return None
    if _NUMERIC.match(text):
        return _epoch(float(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise LabelError(f"unreadable time {text[:40]!r}") from exc


def _epoch(seconds: float) -> datetime:
    if not 0 <= seconds < 253402300800:  # up to 9999-12-31
        raise LabelError(f"epoch time out of range: {seconds}")
    return datetime.fromtimestamp(seconds, UTC)
