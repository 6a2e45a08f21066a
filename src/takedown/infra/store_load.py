"""Loading the stored infra graph (joined with sightings and outlets) as an InfraGraph."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.infra.graph import EdgeKind, GraphBuilder, InfraGraph, NodeKind
from takedown.infra.models import InfraEdge, InfraNode, InfraOutlet
from takedown.infra.store_outlets import outlet_domains
from takedown.store.models import Sighting


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
