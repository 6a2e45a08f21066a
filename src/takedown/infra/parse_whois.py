"""Raw WHOIS text in the common ``key: value`` forms (ICANN gTLD, RIPE/ARIN style
``inetnum``/``NetRange`` objects, RIPE's ``% Abuse contact for ... is '...'`` comment line)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime

from takedown.infra.facts import (
    MAX_RAW,
    Fact,
    InfraParseError,
    LabelError,
    NodeNote,
    Parsed,
    Problem,
    host_name,
    parse_time,
    text_label,
)
from takedown.infra.graph import EdgeKind, NodeKind
from takedown.infra.parse_base import (
    _REDACTED,
    MAX_WHOIS_BYTES,
    Source,
    _bytes,
    _domain_facts,
    _iso,
    _name_note,
    _range,
    _registrant_key,
    _text,
)

_ABUSE_LINE = re.compile(r"%\s*abuse contact for '([^']*)' is '([^']*)'", re.IGNORECASE)
_LAST_UPDATE = re.compile(r">>>\s*last update of whois database:\s*(.+?)\s*<<<", re.IGNORECASE)
_KV = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 /_.()-]{0,60}?)\s*:\s*(.*?)\s*$")

_DOMAIN_KEYS = ("domain name", "domain")
_REGISTRAR_KEYS = ("registrar", "sponsoring registrar", "registrar name")
_NS_KEYS = ("name server", "nserver", "nameserver", "nameservers")
_CREATED_KEYS = ("creation date", "created", "registered on", "registration time")
_EXPIRES_KEYS = ("registry expiry date", "registrar registration expiration date", "expires")
_RANGE_KEYS = ("inetnum", "inet6num", "netrange", "cidr")
_HOLDER_KEYS = ("org-name", "orgname", "organization", "descr", "netname", "owner")


def _whois_pairs(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    pairs: dict[str, list[str]] = {}
    abuse: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.lstrip().startswith(("%", "#", ">>>")):
            m = _ABUSE_LINE.search(line)
            if m:
                abuse.append((m.group(1), m.group(2)))
            continue
        m = _KV.match(line)
        if m and m.group(2):
            pairs.setdefault(m.group(1).lower(), []).append(m.group(2))
    return pairs, abuse


def _first(pairs: dict[str, list[str]], keys: Iterable[str]) -> str | None:
    for key in keys:
        for value in pairs.get(key, []):
            if value and not _REDACTED.search(value):
                return value
    return None


def parse_whois(
    data: Source, *, source: str = "whois", observed_at: datetime | None = None
) -> Parsed:
    """Raw WHOIS text of one domain or one IP network (several objects of one answer)."""
    text = _text(_bytes(data, MAX_WHOIS_BYTES, "WHOIS text"), "WHOIS text")
    pairs, abuse = _whois_pairs(text)
    out = Parsed("whois", source)
    seen = observed_at
    m = _LAST_UPDATE.search(text)
    if m:
        try:
            seen = parse_time(m.group(1)) or observed_at
        except LabelError:
            out.problems.append(Problem("last update line", "unreadable time", m.group(0)))
    if any(k in pairs for k in _RANGE_KEYS):
        _whois_network(pairs, abuse, out, source, seen)
    elif any(k in pairs for k in _DOMAIN_KEYS):
        _whois_domain(pairs, out, source, seen)
    else:
        raise InfraParseError("no 'Domain Name:' or 'inetnum:'/'NetRange:' found: not WHOIS")
    return out


def _whois_domain(
    pairs: dict[str, list[str]], out: Parsed, source: str, seen: datetime | None
) -> None:
    raw = _first(pairs, _DOMAIN_KEYS)
    if raw is None:
        raise InfraParseError("domain name is empty")
    try:
        domain = host_name(raw)
    except LabelError as exc:
        raise InfraParseError(f"domain name: {exc}") from exc
    ref = "whois"
    dates: dict[str, str | None] = {}
    for name, keys in (("registered_at", _CREATED_KEYS), ("expires_at", _EXPIRES_KEYS)):
        value = _first(pairs, keys)
        try:
            dates[name] = _iso(parse_time(value)) if value else None
        except LabelError:
            out.problems.append(Problem(ref, f"unreadable {name}", value or ""))
    note = _name_note(NodeKind.DOMAIN, domain, source, **dates)
    if note:
        out.notes.append(note)
    _domain_facts(out, domain, source, ref, seen)
    registrar = _first(pairs, _REGISTRAR_KEYS)
    if registrar:
        try:
            label = text_label(registrar, "registrar")
            out.facts.append(
                Fact(EdgeKind.DOMAIN_REGISTRAR, domain.label, label, source, seen, seen, ref)
            )
            attrs = {
                "iana_id": _first(pairs, ("registrar iana id",)),
                "abuse_email": _first(pairs, ("registrar abuse contact email",)),
            }
            attrs = {k: v for k, v in attrs.items() if v}
            if attrs:
                out.notes.append(NodeNote(NodeKind.REGISTRAR, label, attrs, source))
        except LabelError as exc:
            out.problems.append(Problem(ref, f"registrar: {exc}", registrar[:MAX_RAW]))
    card = {
        "email": _first(pairs, ("registrant email",)) or "",
        "org": _first(pairs, ("registrant organization", "registrant organisation", "org")) or "",
        "fn": _first(pairs, ("registrant name", "registrant", "person")) or "",
    }
    key = _registrant_key({k: v for k, v in card.items() if v})
    if key:
        out.facts.append(Fact(EdgeKind.DOMAIN_REGISTRANT, domain.label, key, source, seen, seen))
    for key_name in _NS_KEYS:
        for value in pairs.get(key_name, []):
            try:
                ns = host_name(value.split()[0])
            except (LabelError, IndexError) as exc:
                out.problems.append(Problem(ref, f"name server: {exc}", value[:MAX_RAW]))
                continue
            out.facts.append(
                Fact(EdgeKind.DOMAIN_NAMESERVER, domain.label, ns.label, source, seen, seen, ref)
            )


def _whois_network(
    pairs: dict[str, list[str]],
    abuse: list[tuple[str, str]],
    out: Parsed,
    source: str,
    seen: datetime | None,
) -> None:
    raw = _first(pairs, _RANGE_KEYS) or ""
    try:
        if "-" in raw:
            start, end = (p.strip() for p in raw.split("-", 1))
        else:
            net = ipaddress.ip_network(raw.split(",")[0].strip(), strict=False)
            start, end = str(net[0]), str(net[-1])
    except ValueError as exc:
        raise InfraParseError(f"unreadable network range {raw[:80]!r}") from exc
    origin = _first(pairs, ("origin", "originas"))
    asn = None
    if origin:
        digits = origin.upper().removeprefix("AS").split(",")[0].strip()
        asn = int(digits) if digits.isdigit() else None
    email = abuse[0][1] if abuse else None
    email = email or _first(pairs, ("orgabuseemail", "abuse-mailbox", "abuse-c email"))
    try:
        out.ranges.append(
            _range(
                start,
                end,
                source,
                asn=asn,
                country=_first(pairs, ("country",)),
                holder=_first(pairs, _HOLDER_KEYS),
                abuse=email,
                handle=_first(pairs, ("netname", "nethandle")),
                seen=seen,
            )
        )
    except LabelError as exc:
        raise InfraParseError(str(exc)) from exc
