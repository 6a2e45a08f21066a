"""RDAP JSON (RFC 9083): domain, ip network and autnum objects, a list of them or a search
result; registrar, registrant, name servers, events and abuse contacts from the nested
entities' jCards."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from takedown.infra.facts import (
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
    MAX_JSON_BYTES,
    Source,
    _bytes,
    _country,
    _domain_facts,
    _iso,
    _name_note,
    _range,
    _raw,
    _registrant_key,
    _text,
)


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
