"""The infra graph in the database: importing parsed facts, linking IPs to networks, outlets,
and loading the graph (joined with sightings) back as a compact :class:`InfraGraph`."""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from takedown.infra.facts import (
    Fact,
    InfraParseError,
    LabelError,
    NodeNote,
    Parsed,
    Range,
    host_name,
    text_label,
)
from takedown.infra.graph import EdgeKind, GraphBuilder, InfraGraph, NodeKind
from takedown.infra.models import (
    InfraEdge,
    InfraNode,
    InfraOutlet,
    InfraOutletDomain,
    InfraRange,
)
from takedown.infra.parsers import (
    iter_certs,
    iter_ip2asn,
    iter_pdns,
    parse_rdap,
    parse_whois,
    sniff,
)
from takedown.store.models import BankEntry, ImportRun, Match, RejectedRecord, Sighting, utcnow

CHUNK = 500


class OutletError(ValueError):
    """Unknown outlet or bad outlet definition."""


def kind_name(kind: NodeKind | EdgeKind) -> str:
    return kind.name.lower()


def _key(value: int) -> str:
    return f"{value:032x}"


# --- writing ------------------------------------------------------------------------------


@dataclass
class Writer:
    """Upserts facts into one session; caches node ids."""

    session: Session
    import_id: int | None = None
    _ids: dict[tuple[str, str], int] = field(default_factory=dict)

    def node_ids(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        wanted = {k for k in keys if k not in self._ids}
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, label in wanted:
            by_kind[kind].append(label)
        for kind, labels in by_kind.items():
            for i in range(0, len(labels), CHUNK):
                part = labels[i : i + CHUNK]
                rows = self.session.execute(
                    select(InfraNode.label, InfraNode.id).where(
                        InfraNode.kind == kind, InfraNode.label.in_(part)
                    )
                )
                for label, nid in rows:
                    self._ids[(kind, label)] = nid
        missing = [k for k in wanted if k not in self._ids]
        now = utcnow()
        for i in range(0, len(missing), 5000):
            batch: list[dict[str, Any]] = [
                {"kind": k, "label": lab, "created_at": now} for k, lab in missing[i : i + 5000]
            ]
            stmt = insert(InfraNode).returning(InfraNode.id, InfraNode.kind, InfraNode.label)
            for nid, kind, label in self.session.execute(stmt, batch):
                self._ids[(kind, label)] = nid
        return self._ids

    def facts(self, facts: list[Fact]) -> int:
        """Upserts edges; a fact seen again widens first/last seen. Returns new edges."""
        from takedown.infra.graph import EDGE_ENDPOINTS

        keys: list[tuple[str, str, str, str, str]] = []
        for f in facts:
            sk, dk = EDGE_ENDPOINTS[f.kind]
            keys.append((kind_name(f.kind), kind_name(sk), f.src, kind_name(dk), f.dst))
        ids = self.node_ids([(k[1], k[2]) for k in keys] + [(k[3], k[4]) for k in keys])
        merged: dict[tuple[str, int, int, str], list[Any]] = {}
        for f, k in zip(facts, keys, strict=True):
            ek = (k[0], ids[(k[1], k[2])], ids[(k[3], k[4])], f.source[:200])
            cur = merged.get(ek)
            if cur is None:
                merged[ek] = [f.first_seen, f.last_seen]
            else:
                cur[0] = _min(cur[0], f.first_seen)
                cur[1] = _max(cur[1], f.last_seen)
        existing: dict[tuple[str, int, int, str], tuple[int, Any, Any]] = {}
        srcs = sorted({k[1] for k in merged})
        cols = (
            InfraEdge.id,
            InfraEdge.kind,
            InfraEdge.src_id,
            InfraEdge.dst_id,
            InfraEdge.source,
            InfraEdge.first_seen,
            InfraEdge.last_seen,
        )
        for i in range(0, len(srcs), CHUNK):
            for eid, kind, src, dst, source, first, last in self.session.execute(
                select(*cols).where(InfraEdge.src_id.in_(srcs[i : i + CHUNK]))
            ):
                existing[(kind, src, dst, source)] = (eid, first, last)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for ek, (first, last) in merged.items():
            found = existing.get(ek)
            if found is None:
                inserts.append(
                    {
                        "kind": ek[0],
                        "src_id": ek[1],
                        "dst_id": ek[2],
                        "source": ek[3],
                        "first_seen": first,
                        "last_seen": last,
                        "import_id": self.import_id,
                    }
                )
                continue
            eid, old_first, old_last = found
            new_first, new_last = _min(old_first, first), _max(old_last, last)
            if (new_first, new_last) != (old_first, old_last):
                updates.append({"id": eid, "first_seen": new_first, "last_seen": new_last})
        for i in range(0, len(inserts), 5000):
            self.session.execute(insert(InfraEdge), inserts[i : i + 5000])
        if updates:
            self.session.execute(update(InfraEdge), updates)
        return len(inserts)

    def notes(self, notes: list[NodeNote]) -> None:
        ids = self.node_ids((kind_name(n.kind), n.label) for n in notes)
        by_id: dict[int, dict[str, Any]] = defaultdict(dict)
        for n in notes:
            attrs = by_id[ids[(kind_name(n.kind), n.label)]]
            for k, v in n.attrs.items():
                if k == "flags":
                    attrs["flags"] = sorted(set(attrs.get("flags", [])) | set(v))
                else:
                    attrs[k] = v
        for nid, attrs in by_id.items():
            node = self.session.get(InfraNode, nid)
            if node is not None:
                merged = dict(node.attrs or {})
                if "flags" in attrs:
                    attrs["flags"] = sorted(set(merged.get("flags", [])) | set(attrs["flags"]))
                merged.update(attrs)
                node.attrs = merged
        self.session.flush()

    def ranges(self, ranges: list[Range]) -> int:
        new = 0
        have: dict[tuple[int, str, str, str], InfraRange] = {}
        for version in (4, 6):
            starts = sorted({_key(r.start) for r in ranges if r.version == version})
            for i in range(0, len(starts), CHUNK):
                for row in self.session.scalars(
                    select(InfraRange).where(
                        InfraRange.version == version,
                        InfraRange.start_key.in_(starts[i : i + CHUNK]),
                    )
                ):
                    have[(row.version, row.start_key, row.end_key, row.source)] = row
        for r in ranges:
            key = (r.version, _key(r.start), _key(r.end), r.source[:200])
            found = have.get(key)
            if found is None:
                found = InfraRange(
                    version=r.version,
                    start_key=_key(r.start),
                    end_key=_key(r.end),
                    source=r.source[:200],
                    import_id=self.import_id,
                )
                self.session.add(found)
                have[key] = found
                new += 1
            found.asn = r.asn
            found.country = r.country
            found.holder = r.holder
            found.abuse_email = r.abuse_email
            found.handle = r.handle
            found.first_seen = _min(found.first_seen, r.first_seen)
            found.last_seen = _max(found.last_seen, r.last_seen)
        self.session.flush()
        return new

    def write(self, parsed: Parsed) -> dict[str, int]:
        new_edges = self.facts(parsed.facts) if parsed.facts else 0
        if parsed.notes:
            self.notes(parsed.notes)
        new_ranges = self.ranges(parsed.ranges) if parsed.ranges else 0
        if self.import_id is not None:
            for p in parsed.problems:
                self.session.add(
                    RejectedRecord(
                        import_id=self.import_id,
                        ref=p.ref[:200],
                        reason=f"{p.reason} | {p.raw}" if p.raw else p.reason,
                    )
                )
        return {
            "facts": len(parsed.facts),
            "new_edges": new_edges,
            "ranges": len(parsed.ranges),
            "new_ranges": new_ranges,
            "notes": len(parsed.notes),
            "rejected": len(parsed.problems),
        }


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _batches(path: Path, fmt: str, source: str, observed: datetime) -> Iterator[Parsed]:
    if fmt in ("rdap", "whois"):
        data = path.read_bytes() if path.stat().st_size < 256 * 1024 * 1024 else b""
        if not data:
            raise InfraParseError(f"{path.name}: too large for {fmt} (split it)")
        parse = parse_rdap if fmt == "rdap" else parse_whois
        yield parse(data, source=source, observed_at=observed)
        return
    with path.open("rb") as stream:
        if fmt == "pdns":
            yield from iter_pdns(stream, source=source)
        elif fmt == "ip2asn":
            yield from iter_ip2asn(stream, source=source)
        elif fmt == "certs":
            yield from iter_certs(stream, source=source)
        else:
            raise InfraParseError(f"unknown format {fmt!r}")


def import_file(
    session: Session,
    path: Path,
    fmt: str | None = None,
    *,
    observed_at: datetime | None = None,
    submitted_by: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Imports one file in one transaction (the caller's session); refused records are kept
    as ``rejected_record`` rows of the import run. Raises :class:`InfraParseError` when the
    file as a whole is unusable (nothing is written then)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    fmt = fmt or sniff(head)
    observed = observed_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    label = source or f"{fmt}:{path.name}"
    run = ImportRun(
        source=str(path),
        source_sha256=digest.hexdigest(),
        format=f"infra-{fmt}",
        submitted_by=submitted_by,
    )
    session.add(run)
    session.flush()
    writer = Writer(session, run.id)
    totals: dict[str, int] = defaultdict(int)
    for parsed in _batches(path, fmt, label[:200], observed):
        for k, v in writer.write(parsed).items():
            totals[k] += v
    linked = link_ips(session) if totals["ranges"] or totals["facts"] else 0
    run.status = "done"
    run.finished_at = utcnow()
    run.created = totals["new_edges"] + totals["new_ranges"]
    run.rejected = totals["rejected"]
    loops = cname_loops(session)
    return {
        "file": str(path),
        "format": fmt,
        "import_id": run.id,
        **totals,
        "ips_linked": linked,
        "cname_loops": loops,
    }


# --- linking IPs to networks --------------------------------------------------------------


@dataclass
class _RangeIndex:
    starts: list[int]
    rows: list[InfraRange]


def _index(session: Session, version: int) -> _RangeIndex:
    rows = list(
        session.scalars(
            select(InfraRange)
            .where(InfraRange.version == version)
            .order_by(InfraRange.start_key, InfraRange.end_key)
        )
    )
    return _RangeIndex([int(r.start_key, 16) for r in rows], rows)


def covering(index: _RangeIndex, value: int, window: int = 64) -> list[InfraRange]:
    """Ranges covering ``value``, most specific first (nested ranges within ``window``)."""
    pos = bisect.bisect_right(index.starts, value)
    found = [
        r
        for r in index.rows[max(0, pos - window) : pos]
        if int(r.start_key, 16) <= value <= int(r.end_key, 16)
    ]
    return sorted(found, key=lambda r: int(r.end_key, 16) - int(r.start_key, 16))


def link_ips(session: Session) -> int:
    """Adds ip -> network -> hoster/country facts from the most specific covering ranges."""
    import ipaddress

    indexes = {4: _index(session, 4), 6: _index(session, 6)}
    if not (indexes[4].rows or indexes[6].rows):
        return 0
    facts: list[Fact] = []
    notes: list[NodeNote] = []
    linked = 0
    for (label,) in session.execute(select(InfraNode.label).where(InfraNode.kind == "ip")):
        addr = ipaddress.ip_address(label)
        found = covering(indexes[addr.version], int(addr))
        if not found:
            continue
        linked += 1
        with_asn = [r for r in found if r.asn]
        net = f"AS{with_asn[0].asn}" if with_asn else (found[0].handle or _cidr(found[0]))
        src = with_asn[0] if with_asn else found[0]
        facts.append(
            Fact(EdgeKind.IP_NETWORK, label, net, src.source, src.first_seen, src.last_seen)
        )
        holder = next((r for r in found if r.holder), None)
        if holder is not None and holder.holder:
            facts.append(
                Fact(
                    EdgeKind.NETWORK_HOSTER,
                    net,
                    holder.holder,
                    holder.source,
                    holder.first_seen,
                    holder.last_seen,
                )
            )
        country = next((r for r in found if r.country), None)
        if country is not None and country.country:
            facts.append(
                Fact(
                    EdgeKind.NETWORK_COUNTRY,
                    net,
                    country.country,
                    country.source,
                    country.first_seen,
                    country.last_seen,
                )
            )
        abuse = next((r for r in found if r.abuse_email), None)
        attrs: dict[str, Any] = {"range": _cidr(found[0])}
        if abuse is not None:
            attrs["abuse_email"] = abuse.abuse_email
        notes.append(NodeNote(NodeKind.NETWORK, net, attrs, src.source))
    writer = Writer(session)
    for i in range(0, len(facts), 5000):
        writer.facts(facts[i : i + 5000])
    if notes:
        writer.notes(notes)
    return linked


def _cidr(r: InfraRange) -> str:
    return Range(int(r.start_key, 16), int(r.end_key, 16), r.version, r.source).cidr


def cname_loops(session: Session) -> list[list[str]]:
    rows = session.execute(
        select(InfraEdge.src_id, InfraEdge.dst_id).where(InfraEdge.kind == "cname")
    ).all()
    if not rows:
        return []
    succ: dict[int, set[int]] = defaultdict(set)
    for s, d in rows:
        succ[s].add(d)
    b = GraphBuilder()
    for s, ds in succ.items():
        for d in ds:
            b.edge(EdgeKind.CNAME, str(s), str(d))
    g = b.build()
    ids = [int(g.labels[i]) for loop in g.cname_loops() for i in loop]
    names = dict(
        session.execute(select(InfraNode.id, InfraNode.label).where(InfraNode.id.in_(ids))).all()
    )
    return [[names[int(g.labels[i])] for i in loop] for loop in g.cname_loops()]


# --- outlets ------------------------------------------------------------------------------


def define_outlet(
    session: Session,
    name: str,
    domains: Iterable[str] = (),
    *,
    label: str | None = None,
    description: str | None = None,
) -> InfraOutlet:
    """Creates or extends an outlet: a named group of domains and/or a bank label."""
    name = text_label(name, "outlet name")
    if len(name) > 200 or (label is not None and len(label) > 200):
        raise OutletError("outlet name and label are limited to 200 characters")
    outlet = session.scalar(select(InfraOutlet).where(InfraOutlet.name == name))
    if outlet is None:
        outlet = InfraOutlet(name=name)
        session.add(outlet)
        session.flush()
    if label is not None:
        try:
            outlet.label = text_label(label, "label")
        except LabelError as exc:
            raise OutletError(str(exc)) from exc
    if description is not None:
        outlet.description = description
    have = set(
        session.scalars(
            select(InfraOutletDomain.domain).where(InfraOutletDomain.outlet_id == outlet.id)
        )
    )
    for raw in domains:
        try:
            domain = host_name(raw).label
        except LabelError as exc:
            raise OutletError(f"domain {raw[:80]!r}: {exc}") from exc
        if domain not in have:
            session.add(InfraOutletDomain(outlet_id=outlet.id, domain=domain))
            have.add(domain)
    session.flush()
    return outlet


def get_outlet(session: Session, name: str) -> InfraOutlet:
    outlet = session.scalar(select(InfraOutlet).where(InfraOutlet.name == name))
    if outlet is None:
        known = list(session.scalars(select(InfraOutlet.name).order_by(InfraOutlet.name)))
        raise OutletError(f"unknown outlet {name!r} (known: {', '.join(known[:20]) or 'none'})")
    return outlet


def _label_matches(labels: dict[str, Any] | None, wanted: str) -> bool:
    name, _, value = wanted.partition(":")
    got = (labels or {}).get(name)
    if not value:
        return got is True or bool(got)
    return got == value or (isinstance(got, list) and value in got)


def outlet_domains(session: Session, outlet: InfraOutlet) -> list[str]:
    """Explicit members plus the registrable domains of sightings matched under its label."""
    domains = set(
        session.scalars(
            select(InfraOutletDomain.domain).where(InfraOutletDomain.outlet_id == outlet.id)
        )
    )
    if outlet.label:
        rows = session.execute(
            select(Sighting.registrable_domain, BankEntry.labels)
            .join(
                Match,
                (Match.content_id == Sighting.content_id) | (Match.sighting_id == Sighting.id),
            )
            .join(BankEntry, BankEntry.id == Match.bank_entry_id)
            .where(Match.state == "active", Sighting.registrable_domain.is_not(None))
        )
        for domain, labels in rows:
            if domain and _label_matches(labels, outlet.label):
                domains.add(domain)
    return sorted(domains)


# --- loading ------------------------------------------------------------------------------


@dataclass
class StoredGraph:
    graph: InfraGraph
    attrs: dict[int, dict[str, Any]]  # graph node id -> stored attributes
    outlets: dict[str, int]  # outlet name -> graph node id
    live: dict[str, int]  # domain or host label -> live (not removed) sightings
    sightings: dict[str, int]  # domain or host label -> all sightings
    _lookup: dict[tuple[int, str], int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        kinds = self.graph.node_kind.tolist()
        self._lookup = {
            (k, lab): i for i, (k, lab) in enumerate(zip(kinds, self.graph.labels, strict=True))
        }

    def node(self, kind: NodeKind, label: str) -> int | None:
        return self._lookup.get((int(kind), label))


def _epoch(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def load_graph(session: Session, outlets: Iterable[str] | None = None) -> StoredGraph:
    """The stored facts as one :class:`InfraGraph`, with outlet nodes and sighting hosts."""
    b = GraphBuilder()
    nodes = {
        nid: (NodeKind[kind.upper()], label, attrs)
        for nid, kind, label, attrs in session.execute(
            select(InfraNode.id, InfraNode.kind, InfraNode.label, InfraNode.attrs)
        )
    }
    attrs: dict[int, dict[str, Any]] = {}
    for kind, label, a in nodes.values():
        gid = b.node(kind, label)
        if a:
            attrs[gid] = a
    for ekind, s, d, source, first, last in session.execute(
        select(
            InfraEdge.kind,
            InfraEdge.src_id,
            InfraEdge.dst_id,
            InfraEdge.source,
            InfraEdge.first_seen,
            InfraEdge.last_seen,
        )
    ):
        b.edge(
            EdgeKind[ekind.upper()],
            nodes[s][1],
            nodes[d][1],
            source=source,
            first_seen=_epoch(first),
            last_seen=max(_epoch(last), _epoch(first)),
        )
    live: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for host, domain, removed, count in session.execute(
        select(
            Sighting.host,
            Sighting.registrable_domain,
            Sighting.removed_at.is_(None),
            func.count(),
        )
        .where(Sighting.registrable_domain.is_not(None))
        .group_by(Sighting.host, Sighting.registrable_domain, Sighting.removed_at.is_(None))
    ):
        for lab in {x for x in (host, domain) if x}:
            total[lab] += count
            if removed:
                live[lab] += count
        if host and domain and host != domain and not _is_ip(host):
            b.edge(EdgeKind.DOMAIN_HOSTNAME, domain, host, source="sighting")
    outlet_ids: dict[str, int] = {}
    query = select(InfraOutlet)
    if outlets is not None:
        query = query.where(InfraOutlet.name.in_(list(outlets)))
    for outlet in session.scalars(query):
        outlet_ids[outlet.name] = b.node(NodeKind.OUTLET, outlet.name)
        for domain in outlet_domains(session, outlet):
            b.edge(EdgeKind.OUTLET_DOMAIN, outlet.name, domain, source="outlet")
            b.edge(EdgeKind.DOMAIN_HOSTNAME, domain, domain, source="outlet")
    return StoredGraph(b.build(), attrs, outlet_ids, dict(live), dict(total))


def outlet_subgraph(stored: StoredGraph, root: int) -> InfraGraph:
    """The part of the graph reachable from one outlet node (all edge kinds)."""
    g = stored.graph
    seen = {root}
    order = [root]
    i = 0
    while i < len(order):
        for e in g.out_edges(order[i]):
            v = int(g.dst[e])
            if v not in seen:
                seen.add(v)
                order.append(v)
        i += 1
    b = GraphBuilder()
    for u in order:
        b.node(NodeKind(int(g.node_kind[u])), g.labels[u])
        for e in g.out_edges(u):
            b.edge(
                EdgeKind(int(g.edge_kind[e])),
                g.labels[u],
                g.labels[int(g.dst[e])],
                source=g.sources[int(g.edge_source[e])],
                first_seen=int(g.first_seen[e]),
                last_seen=int(g.last_seen[e]),
            )
    return b.build()
