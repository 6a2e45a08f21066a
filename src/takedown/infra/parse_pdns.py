"""Passive-DNS CSV with a header naming ``rrname, rrtype, rdata, first_seen, last_seen``
(``time_first``/``time_last`` accepted); A, AAAA, CNAME, NS and MX rows, streamed in batches."""

from __future__ import annotations

from collections.abc import Iterator

from takedown.infra.facts import (
    MAX_RAW,
    Fact,
    LabelError,
    NodeNote,
    Parsed,
    Problem,
    host_name,
    ip_flags,
    parse_time,
    registrable,
)
from takedown.infra.graph import EdgeKind, NodeKind
from takedown.infra.parse_base import BATCH, Source, _CsvTable, _name_note

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
    table = _CsvTable(data, "passive-DNS CSV", _PDNS_ALIASES, tuple(_PDNS_ALIASES))
    cols = table.cols
    width = max(cols.values()) + 1
    for ref, row in table.rows():
        if isinstance(row, str):
            out.problems.append(Problem(ref, row))
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
    out.problems += table.overlong()
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
