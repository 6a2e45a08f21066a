"""Offline parsers of infrastructure data (pure: bytes in, records out, nothing fetched).

* ``rdap``: RDAP JSON (RFC 9083) — domain, ip network and autnum objects, a list of them or a
  search result; registrar, registrant, name servers, events and abuse contacts from the
  nested entities' jCards.
* ``whois``: raw WHOIS text in the common ``key: value`` forms (ICANN gTLD, RIPE/ARIN style
  ``inetnum``/``NetRange`` objects, RIPE's ``% Abuse contact for ... is '...'`` comment line).
* ``pdns``: passive-DNS CSV with a header naming ``rrname, rrtype, rdata, first_seen,
  last_seen`` (``time_first``/``time_last`` accepted); A, AAAA, CNAME, NS and MX rows.
* ``ip2asn``: IP-to-ASN/country tables: iptoasn.com TSV (start, end, ASN, country, holder),
  DB-IP Lite ASN CSV (start, end, ASN, holder) or DB-IP Lite country CSV (start, end, country).

A record that cannot be used becomes a :class:`Problem` (where and why, the raw text bounded),
never a crash and never silently dropped; an input that is unusable as a whole raises
:class:`InfraParseError`. Large CSV/TSV inputs are streamed in batches (``iter_pdns``,
``iter_ip2asn``).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from takedown.infra.facts import (
    MAX_RAW,
    Fact,
    InfraParseError,
    LabelError,
    Name,
    NodeNote,
    Parsed,
    Problem,
    Range,
    host_name,
    ip_flags,
    parse_time,
    registrable,
    text_label,
)
from takedown.infra.graph import EdgeKind, NodeKind

FORMATS = ("rdap", "whois", "pdns", "ip2asn", "certs")
MAX_JSON_BYTES = 64 * 1024 * 1024  # one RDAP document; bigger is refused, not half-read
MAX_WHOIS_BYTES = 4 * 1024 * 1024
MAX_FIELD = 4096  # characters of one CSV field
MAX_LINE = 64 * 1024  # bytes of one CSV/TSV line
BATCH = 5000

Source = bytes | IO[bytes]


def _bytes(data: Source, limit: int, what: str) -> bytes:
    raw = bytes(data) if isinstance(data, bytes | bytearray) else data.read(limit + 1)
    if len(raw) > limit:
        raise InfraParseError(f"{what} larger than {limit} bytes; split it")
    return raw


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InfraParseError(f"{what} is not UTF-8 text (byte {exc.start})") from exc


def _raw(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:MAX_RAW]


def _name_note(kind: NodeKind, name: Name, source: str, **extra: Any) -> NodeNote | None:
    attrs = {**name.attrs(), **{k: v for k, v in extra.items() if v not in (None, "", [])}}
    return NodeNote(kind, name.label, attrs, source) if attrs else None


def _domain_facts(out: Parsed, domain: Name, source: str, ref: str, seen: datetime | None) -> None:
    """The domain -> its own name as a hostname (the apex serves too)."""
    out.facts.append(
        Fact(EdgeKind.DOMAIN_HOSTNAME, domain.label, domain.label, source, seen, seen, ref)
    )


# --- RDAP ---------------------------------------------------------------------------------


def _vcard(entity: dict[str, Any]) -> dict[str, str]:
    """fn, org, email, tel and country code of an entity's jCard (first value of each)."""
    out: dict[str, str] = {}
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return out
    for prop in card[1]:
        if not (isinstance(prop, list) and len(prop) >= 4 and isinstance(prop[0], str)):
            continue
        name, params, value = prop[0].lower(), prop[1], prop[3]
        if name == "adr":
            cc = params.get("cc") if isinstance(params, dict) else None
            if isinstance(cc, str):
                out.setdefault("country", cc.upper())
            if isinstance(value, list) and value and isinstance(value[-1], str) and value[-1]:
                out.setdefault("country_name", value[-1])
            continue
        if isinstance(value, list):
            value = " ".join(str(v) for v in value if isinstance(v, str) and v)
        if not isinstance(value, str) or not value.strip():
            continue
        if name == "email":
            out.setdefault("email", value.strip().removeprefix("mailto:"))
        elif name in ("fn", "org", "tel"):
            out.setdefault(name, value.strip().removeprefix("tel:"))
    return out


_REDACTED = re.compile(
    r"redacted|privacy|withheld|not disclosed|data protected|gdpr|statutory masking|"
    r"contact .* registrar|please query",
    re.IGNORECASE,
)


def _entities(obj: dict[str, Any], depth: int = 0) -> Iterator[tuple[set[str], dict[str, Any]]]:
    ents = obj.get("entities")
    if depth > 4 or not isinstance(ents, list):
        return
    for ent in ents:
        if not isinstance(ent, dict):
            continue
        roles = {str(r).lower() for r in ent.get("roles") or [] if isinstance(r, str)}
        yield roles, ent
        yield from _entities(ent, depth + 1)


def _events(obj: dict[str, Any]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for ev in obj.get("events") or []:
        if not isinstance(ev, dict):
            continue
        action, date = ev.get("eventAction"), ev.get("eventDate")
        if isinstance(action, str) and isinstance(date, str):
            try:
                when = parse_time(date)
            except LabelError:
                continue
            if when is not None:
                out.setdefault(action.lower(), when)
    return out


def _abuse(obj: dict[str, Any]) -> str | None:
    for roles, ent in _entities(obj):
        if "abuse" in roles:
            email = _vcard(ent).get("email")
            if email:
                return email
    return None


def _rdap_domain(obj: dict[str, Any], out: Parsed, source: str, ref: str, seen: Any) -> None:
    raw_name = obj.get("ldhName") or obj.get("unicodeName")
    if not isinstance(raw_name, str):
        raise LabelError("domain object without ldhName")
    domain = host_name(raw_name)
    events = _events(obj)
    when = events.get("last update of rdap database") or seen
    note = _name_note(
        NodeKind.DOMAIN,
        domain,
        source,
        registered_at=_iso(events.get("registration")),
        expires_at=_iso(events.get("expiration")),
        changed_at=_iso(events.get("last changed")),
        status=[s for s in obj.get("status") or [] if isinstance(s, str)][:20],
    )
    if note:
        out.notes.append(note)
    _domain_facts(out, domain, source, ref, when)
    for roles, ent in _entities(obj):
        card = _vcard(ent)
        if "registrar" in roles:
            name = card.get("fn") or card.get("org") or ent.get("handle")
            if not name:
                out.problems.append(Problem(ref, "registrar entity without a name", _raw(ent)))
                continue
            label = text_label(str(name), "registrar")
            out.facts.append(
                Fact(EdgeKind.DOMAIN_REGISTRAR, domain.label, label, source, when, when, ref)
            )
            iana = [
                p.get("identifier")
                for p in ent.get("publicIds") or []
                if isinstance(p, dict) and "iana" in str(p.get("type", "")).lower()
            ]
            attrs = {"iana_id": iana[0] if iana else None, "abuse_email": _abuse(ent)}
            attrs = {k: v for k, v in attrs.items() if v}
            if attrs:
                out.notes.append(NodeNote(NodeKind.REGISTRAR, label, attrs, source))
        elif "registrant" in roles:
            key = _registrant_key(card)
            if key:
                out.facts.append(
                    Fact(EdgeKind.DOMAIN_REGISTRANT, domain.label, key, source, when, when, ref)
                )
    for ns in obj.get("nameservers") or []:
        if not isinstance(ns, dict):
            continue
        try:
            nsname = host_name(str(ns.get("ldhName") or ns.get("unicodeName") or ""))
        except LabelError as exc:
            out.problems.append(Problem(ref, f"name server: {exc}", _raw(ns)))
            continue
        out.facts.append(
            Fact(EdgeKind.DOMAIN_NAMESERVER, domain.label, nsname.label, source, when, when, ref)
        )


def _registrant_key(card: dict[str, str]) -> str | None:
    """An identifier of the registrant (email, else organisation, else name), unless redacted."""
    for field_name in ("email", "org", "fn"):
        value = card.get(field_name)
        if value and not _REDACTED.search(value):
            try:
                return text_label(value.lower() if field_name == "email" else value, "registrant")
            except LabelError:
                return None
    return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _rdap_network(obj: dict[str, Any], out: Parsed, source: str, ref: str, seen: Any) -> None:
    start, end = obj.get("startAddress"), obj.get("endAddress")
    if not (isinstance(start, str) and isinstance(end, str)):
        cidrs = obj.get("cidr0_cidrs")
        if isinstance(cidrs, list) and cidrs and isinstance(cidrs[0], dict):
            prefix = cidrs[0].get("v4prefix") or cidrs[0].get("v6prefix")
            net = ipaddress.ip_network(f"{prefix}/{cidrs[0].get('length')}", strict=False)
            start, end = str(net[0]), str(net[-1])
        else:
            raise LabelError("ip network object without startAddress/endAddress")
    holder = None
    for roles, ent in _entities(obj):
        if roles & {"registrant", "administrative"} and not holder:
            card = _vcard(ent)
            holder = card.get("org") or card.get("fn")
    asns = obj.get("arin_originas0_originautnums")
    asn = int(asns[0]) if isinstance(asns, list) and asns and str(asns[0]).isdigit() else None
    events = _events(obj)
    when = events.get("last update of rdap database") or seen
    out.ranges.append(
        _range(
            start,
            end,
            source,
            asn=asn,
            country=obj.get("country"),
            holder=holder or obj.get("name"),
            abuse=_abuse(obj),
            handle=obj.get("handle"),
            seen=when,
        )
    )


def _rdap_autnum(obj: dict[str, Any], out: Parsed, source: str, ref: str, seen: Any) -> None:
    number = obj.get("startAutnum")
    if not isinstance(number, int) or not 0 < number < 2**32:
        raise LabelError("autnum object without a valid startAutnum")
    holder = None
    for roles, ent in _entities(obj):
        if "registrant" in roles and not holder:
            card = _vcard(ent)
            holder = card.get("org") or card.get("fn")
    found: dict[str, Any] = {
        "holder": holder or obj.get("name"),
        "abuse_email": _abuse(obj),
        "country": obj.get("country"),
    }
    attrs: dict[str, str] = {k: v for k, v in found.items() if isinstance(v, str) and v}
    label = f"AS{number}"
    if attrs:
        out.notes.append(NodeNote(NodeKind.NETWORK, label, attrs, source))
    if attrs.get("holder"):
        hoster = text_label(attrs["holder"], "holder")
        out.facts.append(Fact(EdgeKind.NETWORK_HOSTER, label, hoster, source, seen, seen, ref))
    if attrs.get("country"):
        out.facts.append(
            Fact(
                EdgeKind.NETWORK_COUNTRY,
                label,
                _country(attrs["country"]),
                source,
                seen,
                seen,
                ref,
            )
        )


_RDAP_KINDS = {"domain": _rdap_domain, "ip network": _rdap_network, "autnum": _rdap_autnum}


def parse_rdap(
    data: Source, *, source: str = "rdap", observed_at: datetime | None = None
) -> Parsed:
    """RDAP JSON: one object, a list of objects, or a ``*SearchResults`` response."""
    text = _text(_bytes(data, MAX_JSON_BYTES, "RDAP document"), "RDAP document")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InfraParseError(f"not JSON: {exc}") from exc
    objects: list[Any]
    if isinstance(doc, list):
        objects = doc
    elif isinstance(doc, dict):
        results = [v for k, v in doc.items() if k.endswith("SearchResults") and isinstance(v, list)]
        objects = results[0] if results else [doc]
    else:
        raise InfraParseError("RDAP document is neither an object nor a list")
    out = Parsed("rdap", source)
    for i, obj in enumerate(objects):
        ref = f"object {i}"
        if not isinstance(obj, dict):
            out.problems.append(Problem(ref, "not a JSON object", _raw(obj)))
            continue
        if "errorCode" in obj and "objectClassName" not in obj:
            out.problems.append(Problem(ref, f"RDAP error {obj.get('errorCode')}", _raw(obj)))
            continue
        kind = str(obj.get("objectClassName", "")).lower()
        handler = _RDAP_KINDS.get(kind)
        if handler is None:
            out.problems.append(Problem(ref, f"unsupported objectClassName {kind!r}", _raw(obj)))
            continue
        try:
            handler(obj, out, source, ref, observed_at)
        except (LabelError, ValueError, TypeError) as exc:
            out.problems.append(Problem(ref, f"{kind}: {exc}", _raw(obj)))
    if not (out.facts or out.ranges or out.notes):
        why = "; ".join(f"{p.ref}: {p.reason}" for p in out.problems[:3])
        raise InfraParseError(f"no usable RDAP object ({why or 'empty'})")
    return out


# --- WHOIS --------------------------------------------------------------------------------

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


# --- IP ranges ----------------------------------------------------------------------------

_CC = re.compile(r"^[A-Z]{2}$")


def _country(value: str) -> str:
    cc = value.strip().upper()
    if not _CC.match(cc):
        raise LabelError(f"not a two-letter country code: {value[:20]!r}")
    return cc


def _range(
    start: str,
    end: str,
    source: str,
    *,
    asn: int | None = None,
    country: Any = None,
    holder: Any = None,
    abuse: Any = None,
    handle: Any = None,
    seen: datetime | None = None,
) -> Range:
    try:
        a, b = ipaddress.ip_address(start.strip()), ipaddress.ip_address(end.strip())
    except ValueError as exc:
        raise LabelError(f"bad range bounds {start[:45]!r} - {end[:45]!r}") from exc
    if a.version != b.version:
        raise LabelError("range mixes IPv4 and IPv6")
    if int(b) < int(a):
        raise LabelError(f"range end {b} before start {a}")
    cc = None
    if isinstance(country, str) and country.strip().upper() not in ("", "ZZ", "NONE", "-"):
        cc = _country(country)
    return Range(
        int(a),
        int(b),
        a.version,
        source,
        asn=asn if asn else None,
        country=cc,
        holder=text_label(holder, "holder") if isinstance(holder, str) and holder.strip() else None,
        abuse_email=abuse.strip()[:254] if isinstance(abuse, str) and abuse.strip() else None,
        handle=text_label(handle, "handle") if isinstance(handle, str) and handle.strip() else None,
        first_seen=seen,
        last_seen=seen,
    )


class _Lines:
    """UTF-8 lines of a binary stream, each at most ``MAX_LINE`` bytes; longer lines are
    skipped and their numbers kept in ``overlong`` (reported, never silently dropped)."""

    def __init__(self, stream: IO[bytes], what: str) -> None:
        self.stream = stream
        self.what = what
        self.lineno = 0
        self.overlong: list[int] = []

    def __iter__(self) -> Iterator[str]:
        first = True
        while True:
            raw = self.stream.readline(MAX_LINE + 1)
            if not raw:
                return
            self.lineno += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                self.overlong.append(self.lineno)
                while raw and not raw.endswith(b"\n"):
                    raw = self.stream.readline(MAX_LINE + 1)
                continue
            if first:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                first = False
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InfraParseError(
                    f"{self.what} line {self.lineno} is not UTF-8 text: {exc}"
                ) from exc


def _stream(data: Source) -> IO[bytes]:
    return io.BytesIO(bytes(data)) if isinstance(data, bytes | bytearray) else data


def iter_ip2asn(data: Source, *, source: str = "ip2asn", batch: int = BATCH) -> Iterator[Parsed]:
    """Batches of ranges from an iptoasn TSV or DB-IP Lite CSV (format guessed per file)."""
    out = Parsed("ip2asn", source)
    layout: str | None = None
    lines = _Lines(_stream(data), "IP table")
    for line in lines:
        lineno = lines.lineno
        text = line.rstrip("\r\n")
        if not text.strip() or text.startswith("#"):
            continue
        ref = f"line {lineno}"
        if len(text) > MAX_FIELD:
            out.problems.append(Problem(ref, "line too long", text[:MAX_RAW]))
            continue
        delim = "\t" if "\t" in text else ","
        try:
            cols = next(csv.reader([text], delimiter=delim))
        except (csv.Error, StopIteration) as exc:
            out.problems.append(Problem(ref, f"unreadable row: {exc}", text[:MAX_RAW]))
            continue
        if layout is None:
            if cols and cols[0].strip().lower() in ("range_start", "start", "ip_start", "start_ip"):
                continue  # a header line
            layout = {5: "iptoasn", 4: "dbip-asn", 3: "dbip-country"}.get(len(cols))
            if layout is None:
                raise InfraParseError(
                    f"{ref}: {len(cols)} columns; expected start, end, ASN, country, holder "
                    "(iptoasn), start, end, ASN, holder (DB-IP ASN) or start, end, country"
                )
        try:
            out.ranges.append(_ip2asn_row(layout, cols, source))
        except (LabelError, ValueError) as exc:
            out.problems.append(Problem(ref, str(exc), text[:MAX_RAW]))
        if len(out.ranges) + len(out.problems) >= batch:
            yield out
            out = Parsed("ip2asn", source)
    out.problems += [
        Problem(f"line {n}", f"line longer than {MAX_LINE} bytes") for n in lines.overlong
    ]
    if layout is None and not out.problems:
        raise InfraParseError("IP table has no rows")
    yield out


def _ip2asn_row(layout: str, cols: list[str], source: str) -> Range:
    expected = {"iptoasn": 5, "dbip-asn": 4, "dbip-country": 3}[layout]
    if len(cols) != expected:
        raise LabelError(f"{len(cols)} columns where the file has {expected}")
    asn_text = cols[2].strip().upper().removeprefix("AS") if layout != "dbip-country" else ""
    if asn_text and not asn_text.isdigit():
        raise LabelError(f"ASN is not a number: {cols[2][:20]!r}")
    asn = int(asn_text) if asn_text else None
    if asn is not None and asn >= 2**32:
        raise LabelError("ASN out of range")
    country = cols[3] if layout == "iptoasn" else cols[2] if layout == "dbip-country" else None
    holder = cols[-1] if layout in ("iptoasn", "dbip-asn") else None
    if holder and holder.strip().lower() in ("not routed", "none"):
        holder = None
    return _range(cols[0], cols[1], source, asn=asn, country=country, holder=holder)


def parse_ip2asn(data: Source, *, source: str = "ip2asn") -> Parsed:
    out = Parsed("ip2asn", source)
    for part in iter_ip2asn(data, source=source):
        out.extend(part)
    return out


# --- passive DNS --------------------------------------------------------------------------

_PDNS_ALIASES = {
    "rrname": ("rrname", "query", "name", "qname"),
    "rrtype": ("rrtype", "type", "qtype"),
    "rdata": ("rdata", "answer", "value"),
    "first_seen": ("first_seen", "time_first", "firstseen", "first"),
    "last_seen": ("last_seen", "time_last", "lastseen", "last"),
}


def iter_pdns(data: Source, *, source: str = "pdns", batch: int = BATCH) -> Iterator[Parsed]:
    """Batches of facts from a passive-DNS CSV (header row required)."""
    out = Parsed("pdns", source)
    lines = _Lines(_stream(data), "passive-DNS CSV")
    reader = csv.reader(iter(lines))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InfraParseError("passive-DNS CSV is empty") from None
    except csv.Error as exc:
        raise InfraParseError(f"passive-DNS CSV header: {exc}") from exc
    cols: dict[str, int] = {}
    for name, aliases in _PDNS_ALIASES.items():
        found = [header.index(a) for a in aliases if a in header]
        if not found:
            raise InfraParseError(
                f"passive-DNS CSV header lacks {name!r} (has: {', '.join(header)[:200]})"
            )
        cols[name] = found[0]
    width = max(cols.values()) + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.problems.append(Problem(f"line {reader.line_num}", f"CSV: {exc}"))
            continue
        ref = f"line {reader.line_num}"
        if not any(c.strip() for c in row):
            continue
        if len(row) < width:
            out.problems.append(Problem(ref, "too few columns", ",".join(row)[:MAX_RAW]))
            continue
        try:
            _pdns_row({k: row[i] for k, i in cols.items()}, out, source, ref)
        except LabelError as exc:
            out.problems.append(Problem(ref, str(exc), ",".join(row)[:MAX_RAW]))
        if len(out.facts) + len(out.problems) >= batch:
            yield out
            out = Parsed("pdns", source)
    out.problems += [
        Problem(f"line {n}", f"line longer than {MAX_LINE} bytes") for n in lines.overlong
    ]
    yield out


def _pdns_row(row: dict[str, str], out: Parsed, source: str, ref: str) -> None:
    rrtype = row["rrtype"].strip().upper()
    first, last = parse_time(row["first_seen"]), parse_time(row["last_seen"])
    if first and last and last < first:
        raise LabelError("last_seen before first_seen")
    first = first or last
    last = last or first
    name = host_name(row["rrname"])
    rdata = row["rdata"].strip()
    notes: list[NodeNote | None] = [_name_note(NodeKind.HOSTNAME, name, source)]
    facts: list[Fact] = []
    if rrtype == "NS":
        domain = name.label.removeprefix("*.")
        ns = host_name(rdata)
        facts.append(Fact(EdgeKind.DOMAIN_NAMESERVER, domain, ns.label, source, first, last, ref))
        out.facts += facts
        return
    dom = registrable(name.label)
    facts.append(Fact(EdgeKind.DOMAIN_HOSTNAME, dom, name.label, source, first, last, ref))
    if rrtype in ("A", "AAAA"):
        ip, flags = ip_flags(rdata)
        if (":" in ip) != (rrtype == "AAAA"):
            raise LabelError(f"{rrtype} record with a {'IPv6' if ':' in ip else 'IPv4'} address")
        kind = EdgeKind.A if rrtype == "A" else EdgeKind.AAAA
        facts.append(Fact(kind, name.label, ip, source, first, last, ref))
        if flags:
            notes.append(NodeNote(NodeKind.IP, ip, {"flags": flags}, source))
    elif rrtype in ("CNAME", "MX"):
        target_text = rdata.split()[-1] if rrtype == "MX" and rdata.split() else rdata
        target = host_name(target_text)
        if target.label == name.label and rrtype == "CNAME":
            raise LabelError("CNAME points to itself")
        notes.append(_name_note(NodeKind.HOSTNAME, target, source))
        tdom = registrable(target.label)
        facts.append(Fact(EdgeKind.DOMAIN_HOSTNAME, tdom, target.label, source, first, last, ref))
        kind = EdgeKind.CNAME if rrtype == "CNAME" else EdgeKind.MX
        facts.append(Fact(kind, name.label, target.label, source, first, last, ref))
    else:
        raise LabelError(f"unsupported rrtype {rrtype[:12]!r} (A, AAAA, CNAME, NS, MX)")
    out.facts += facts
    out.notes += [n for n in notes if n is not None]


def parse_pdns(data: Source, *, source: str = "pdns") -> Parsed:
    out = Parsed("pdns", source)
    for part in iter_pdns(data, source=source):
        out.extend(part)
    return out


# --- TLS certificates --------------------------------------------------------------------

_CERT_ALIASES = {
    "hostname": ("hostname", "name", "common_name", "name_value", "san", "host"),
    "sha256": ("sha256", "fingerprint", "sha256_fingerprint", "cert_sha256"),
    "first_seen": ("first_seen", "not_before", "time_first"),
    "last_seen": ("last_seen", "not_after", "time_last"),
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def iter_certs(data: Source, *, source: str = "certs", batch: int = BATCH) -> Iterator[Parsed]:
    """Batches of hostname -> certificate facts from a CSV (hostname, SHA-256 fingerprint,
    first/last seen or not_before/not_after), e.g. an export of certificate-transparency
    search results. One certificate serving several names ties those names together."""
    out = Parsed("certs", source)
    lines = _Lines(_stream(data), "certificate CSV")
    reader = csv.reader(iter(lines))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InfraParseError("certificate CSV is empty") from None
    except csv.Error as exc:
        raise InfraParseError(f"certificate CSV header: {exc}") from exc
    cols: dict[str, int] = {}
    for column, aliases in _CERT_ALIASES.items():
        found = [header.index(a) for a in aliases if a in header]
        if found:
            cols[column] = found[0]
        elif column in ("hostname", "sha256"):
            raise InfraParseError(f"certificate CSV header lacks {column!r}")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.problems.append(Problem(f"line {reader.line_num}", f"CSV: {exc}"))
            continue
        ref = f"line {reader.line_num}"
        if not any(c.strip() for c in row):
            continue
        try:
            if len(row) <= max(cols.values()):
                raise LabelError("too few columns")
            fp = row[cols["sha256"]].strip().lower().replace(":", "").removeprefix("sha256:")
            if not _SHA256.match(fp):
                raise LabelError("fingerprint is not 64 hex digits (SHA-256)")
            first = parse_time(row[cols["first_seen"]]) if "first_seen" in cols else None
            last = parse_time(row[cols["last_seen"]]) if "last_seen" in cols else None
            if first and last and last < first:
                raise LabelError("last_seen before first_seen")
            cert = f"sha256:{fp}"
            for raw in re.split(r"[\s;]+", row[cols["hostname"]].strip()):
                if not raw:
                    continue
                name = host_name(raw)
                dom = registrable(name.label)
                out.facts.append(
                    Fact(EdgeKind.DOMAIN_HOSTNAME, dom, name.label, source, first, last, ref)
                )
                out.facts.append(
                    Fact(EdgeKind.HOSTNAME_CERTIFICATE, name.label, cert, source, first, last, ref)
                )
                note = _name_note(NodeKind.HOSTNAME, name, source)
                if note:
                    out.notes.append(note)
        except LabelError as exc:
            out.problems.append(Problem(ref, str(exc), ",".join(row)[:MAX_RAW]))
        if len(out.facts) + len(out.problems) >= batch:
            yield out
            out = Parsed("certs", source)
    out.problems += [
        Problem(f"line {n}", f"line longer than {MAX_LINE} bytes") for n in lines.overlong
    ]
    yield out


def parse_certs(data: Source, *, source: str = "certs") -> Parsed:
    out = Parsed("certs", source)
    for part in iter_certs(data, source=source):
        out.extend(part)
    return out


def sniff(head: bytes) -> str:
    """Guess the format from the first bytes of a file."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096].decode("utf-8", "replace").lower()
    if text.startswith(("{", "[")):
        return "rdap"
    first = text.splitlines()[0] if text else ""
    if "rrname" in first or "time_first" in first or "rrtype" in first:
        return "pdns"
    if "sha256" in first or "fingerprint" in first:
        return "certs"
    if re.search(r"^(domain name|domain|inetnum|inet6num|netrange|% )", text, re.MULTILINE):
        return "whois"
    if re.match(r"^[0-9a-f:.]+[\t,][0-9a-f:.]+[\t,]", first):
        return "ip2asn"
    raise InfraParseError("cannot tell the format; pass --format rdap|whois|pdns|ip2asn|certs")
