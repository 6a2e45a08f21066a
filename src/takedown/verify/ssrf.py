"""SSRF guard: decide whether the checker may connect to a host or an address.

Every address is vetted *after* DNS resolution (and the caller must vet again after every
redirect). Forbidden: private, loopback, link-local, multicast, reserved, unspecified,
CGNAT (100.64.0.0/10), benchmarking, documentation ranges, and IPv4-mapped / 6to4 / NAT64
IPv6 forms of those. Host names that are really IP literals in disguise (decimal
``2130706433``, octal ``0177.0.0.1``, hex ``0x7f.1``, short ``127.1``) are parsed the way
``inet_aton`` would so that they cannot slip past a string comparison.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_EXTRA_V4 = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "255.255.255.255/32",
    )
]
_EXTRA_V6 = [
    ipaddress.ip_network(n)
    for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2001:db8::/32", "fc00::/7", "fe80::/10")
]
_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


class ForbiddenAddress(Exception):
    """The checker refused to connect to an address (SSRF guard)."""


def parse_ip_literal(host: str) -> IPAddress | None:
    """Return the address a host string denotes if it is any IP literal form, else None."""
    h = host.strip().rstrip(".")
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.split("%", 1)[0]  # zone index
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    parts = h.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.match(p) for p in parts):
        return None
    values = []
    for p in parts:
        if p[:2].lower() == "0x":
            values.append(int(p[2:] or "0", 16))
        elif p.startswith("0") and len(p) > 1:
            values.append(int(p, 8))
        else:
            values.append(int(p))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None  # not a valid inet_aton form either; treat as a (bogus) name
    number = 0
    for v in head:
        number = number * 256 + v
    number = number * 256 ** (5 - len(values)) + last
    return ipaddress.IPv4Address(number)


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    packed = addr.packed
    if packed[:12] == bytes(12):  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(packed[12:])
    if addr in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_forbidden(addr: IPAddress) -> bool:
    """True if connecting to ``addr`` could reach something that is not the public internet."""
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_v4(addr)
        if inner is not None and is_forbidden(inner):
            return True
        if any(addr in n for n in _EXTRA_V6):
            return True
    elif any(addr in n for n in _EXTRA_V4):
        return True
    return bool(
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


def vet_address(
    address: str, *, allow_loopback: bool = False, allowed: frozenset[str] = frozenset()
) -> IPAddress:
    """Return the parsed address or raise ForbiddenAddress.

    ``allow_loopback`` is a test-only switch; ``allowed`` holds exact addresses permitted by
    the demo host map (and nothing else).
    """
    parsed = parse_ip_literal(address)
    if parsed is None:
        raise ForbiddenAddress(f"not an IP address: {address!r}")
    if str(parsed) in allowed:
        return parsed
    if allow_loopback and parsed.is_loopback:
        return parsed
    if is_forbidden(parsed):
        raise ForbiddenAddress(f"refusing to connect to non-public address {parsed}")
    return parsed


__all__ = ["ForbiddenAddress", "IPAddress", "is_forbidden", "parse_ip_literal", "vet_address"]
