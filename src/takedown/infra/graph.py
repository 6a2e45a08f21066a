"""Compact typed infrastructure graph (int32 node ids, CSR adjacency) with GraphML/JSON export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import IO, Any
from xml.sax.saxutils import escape

import numpy as np
import numpy.typing as npt

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]


class NodeKind(IntEnum):
    OUTLET = 0
    DOMAIN = 1
    HOSTNAME = 2
    IP = 3
    NETWORK = 4
    HOSTER = 5
    COUNTRY = 6
    REGISTRAR = 7
    NAMESERVER = 8
    CERTIFICATE = 9
    ANALYTICS_ID = 10
    REGISTRANT = 11


class EdgeKind(IntEnum):
    OUTLET_DOMAIN = 0
    DOMAIN_HOSTNAME = 1
    A = 2
    AAAA = 3
    CNAME = 4
    IP_NETWORK = 5
    NETWORK_HOSTER = 6
    NETWORK_COUNTRY = 7
    DOMAIN_REGISTRAR = 8
    DOMAIN_NAMESERVER = 9
    HOSTNAME_CERTIFICATE = 10
    DOMAIN_ANALYTICS = 11
    DOMAIN_REGISTRANT = 12
    MX = 13


N = NodeKind
EDGE_ENDPOINTS: dict[EdgeKind, tuple[NodeKind, NodeKind]] = {
    EdgeKind.OUTLET_DOMAIN: (N.OUTLET, N.DOMAIN),
    EdgeKind.DOMAIN_HOSTNAME: (N.DOMAIN, N.HOSTNAME),
    EdgeKind.A: (N.HOSTNAME, N.IP),
    EdgeKind.AAAA: (N.HOSTNAME, N.IP),
    EdgeKind.CNAME: (N.HOSTNAME, N.HOSTNAME),
    EdgeKind.IP_NETWORK: (N.IP, N.NETWORK),
    EdgeKind.NETWORK_HOSTER: (N.NETWORK, N.HOSTER),
    EdgeKind.NETWORK_COUNTRY: (N.NETWORK, N.COUNTRY),
    EdgeKind.DOMAIN_REGISTRAR: (N.DOMAIN, N.REGISTRAR),
    EdgeKind.DOMAIN_NAMESERVER: (N.DOMAIN, N.NAMESERVER),
    EdgeKind.HOSTNAME_CERTIFICATE: (N.HOSTNAME, N.CERTIFICATE),
    EdgeKind.DOMAIN_ANALYTICS: (N.DOMAIN, N.ANALYTICS_ID),
    EdgeKind.DOMAIN_REGISTRANT: (N.DOMAIN, N.REGISTRANT),
    EdgeKind.MX: (N.HOSTNAME, N.HOSTNAME),
}


class GraphError(ValueError):
    """An edge or node violates the typed schema."""


@dataclass
class GraphBuilder:
    """Accumulates typed nodes and edges; ``build`` freezes them into an :class:`InfraGraph`."""

    _ids: dict[tuple[int, str], int] = field(default_factory=dict)
    _kinds: list[int] = field(default_factory=list)
    _labels: list[str] = field(default_factory=list)
    _sources: dict[str, int] = field(default_factory=dict)
    _src: list[int] = field(default_factory=list)
    _dst: list[int] = field(default_factory=list)
    _ekind: list[int] = field(default_factory=list)
    _esrc: list[int] = field(default_factory=list)
    _first: list[int] = field(default_factory=list)
    _last: list[int] = field(default_factory=list)

    def node(self, kind: NodeKind, label: str) -> int:
        key = (int(kind), label)
        found = self._ids.get(key)
        if found is None:
            found = len(self._kinds)
            self._ids[key] = found
            self._kinds.append(int(kind))
            self._labels.append(label)
        return found

    def edge(
        self,
        kind: EdgeKind,
        src: str,
        dst: str,
        *,
        source: str = "",
        first_seen: int = 0,
        last_seen: int = 0,
    ) -> None:
        """Add a typed edge between labelled nodes (created on demand); times are epoch seconds."""
        skind, dkind = EDGE_ENDPOINTS[kind]
        if last_seen < first_seen:
            raise GraphError(f"edge {src}->{dst}: last_seen before first_seen")
        self._src.append(self.node(skind, src))
        self._dst.append(self.node(dkind, dst))
        self._ekind.append(int(kind))
        self._esrc.append(self._sources.setdefault(source, len(self._sources)))
        self._first.append(first_seen)
        self._last.append(last_seen)

    def build(self) -> InfraGraph:
        return InfraGraph.from_arrays(
            node_kind=np.asarray(self._kinds, dtype=np.int8),
            labels=list(self._labels),
            src=np.asarray(self._src, dtype=np.int32),
            dst=np.asarray(self._dst, dtype=np.int32),
            edge_kind=np.asarray(self._ekind, dtype=np.int8),
            edge_source=np.asarray(self._esrc, dtype=np.int32),
            first_seen=np.asarray(self._first, dtype=np.int64),
            last_seen=np.asarray(self._last, dtype=np.int64),
            sources=list(self._sources),
        )


@dataclass(frozen=True)
class InfraGraph:
    """Frozen graph; edges sorted by source so ``indptr``/``dst`` form a CSR adjacency."""

    node_kind: I8
    labels: list[str]
    indptr: I64
    src: I32
    dst: I32
    edge_kind: I8
    edge_source: I32
    first_seen: I64
    last_seen: I64
    sources: list[str]

    @classmethod
    def from_arrays(
        cls,
        *,
        node_kind: I8,
        labels: list[str],
        src: I32,
        dst: I32,
        edge_kind: I8,
        edge_source: I32,
        first_seen: I64,
        last_seen: I64,
        sources: list[str],
    ) -> InfraGraph:
        n = len(node_kind)
        if len(labels) != n:
            raise GraphError("labels and node_kind differ in length")
        m = len(src)
        if not all(len(a) == m for a in (dst, edge_kind, edge_source, first_seen, last_seen)):
            raise GraphError("edge arrays differ in length")
        if m and (src.min() < 0 or dst.min() < 0 or src.max() >= n or dst.max() >= n):
            raise GraphError("edge endpoint out of range")
        kinds = np.zeros((len(EdgeKind), 2), dtype=np.int8)
        for ek, (a, b) in EDGE_ENDPOINTS.items():
            kinds[ek] = (a, b)
        if m:
            if edge_kind.min() < 0 or edge_kind.max() >= len(EdgeKind):
                raise GraphError("unknown edge kind")
            bad = (node_kind[src] != kinds[edge_kind, 0]) | (node_kind[dst] != kinds[edge_kind, 1])
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise GraphError(
                    f"edge {i} joins nodes of the wrong kinds for {EdgeKind(edge_kind[i]).name}"
                )
        order = np.argsort(src, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        return cls(
            node_kind=node_kind,
            labels=labels,
            indptr=indptr,
            src=src[order],
            dst=dst[order],
            edge_kind=edge_kind[order],
            edge_source=edge_source[order],
            first_seen=first_seen[order],
            last_seen=last_seen[order],
            sources=sources,
        )

    @property
    def n_nodes(self) -> int:
        return len(self.node_kind)

    @property
    def n_edges(self) -> int:
        return len(self.dst)

    def out_edges(self, node: int) -> range:
        return range(int(self.indptr[node]), int(self.indptr[node + 1]))

    def nbytes(self) -> int:
        arrays = (self.node_kind, self.indptr, self.src, self.dst, self.edge_kind)
        rest = (self.edge_source, self.first_seen, self.last_seen)
        return sum(a.nbytes for a in arrays + rest)

    def cname_loops(self) -> list[list[int]]:
        """Cycles among CNAME edges (each returned once, as a list of hostname ids)."""
        color = np.zeros(self.n_nodes, dtype=np.int8)
        loops: list[list[int]] = []
        cname = EdgeKind.CNAME
        for start in np.flatnonzero(self.edge_kind == cname):
            root = int(self.src[start])
            if color[root]:
                continue
            stack: list[tuple[int, Iterator[int]]] = [(root, iter(self.out_edges(root)))]
            path = [root]
            color[root] = 1
            while stack:
                node, it = stack[-1]
                for e in it:
                    if self.edge_kind[e] != cname:
                        continue
                    nxt = int(self.dst[e])
                    if color[nxt] == 1:
                        loops.append(path[path.index(nxt) :])
                    elif color[nxt] == 0:
                        color[nxt] = 1
                        path.append(nxt)
                        stack.append((nxt, iter(self.out_edges(nxt))))
                        break
                else:
                    color[node] = 2
                    stack.pop()
                    path.pop()
        return loops

    def to_node_link(self) -> dict[str, Any]:
        nodes = [
            {"id": i, "kind": NodeKind(int(k)).name.lower(), "label": lab}
            for i, (k, lab) in enumerate(zip(self.node_kind.tolist(), self.labels, strict=True))
        ]
        links = [
            {
                "source": int(s),
                "target": int(d),
                "kind": EdgeKind(int(k)).name.lower(),
                "origin": self.sources[int(o)],
                "first_seen": int(f),
                "last_seen": int(la),
            }
            for s, d, k, o, f, la in zip(
                self.src.tolist(),
                self.dst.tolist(),
                self.edge_kind.tolist(),
                self.edge_source.tolist(),
                self.first_seen.tolist(),
                self.last_seen.tolist(),
                strict=True,
            )
        ]
        return {"directed": True, "multigraph": True, "nodes": nodes, "links": links}

    def write_json(self, out: IO[str]) -> None:
        json.dump(self.to_node_link(), out, ensure_ascii=False)

    def write_graphml(self, out: IO[str]) -> None:
        """Stream GraphML with typed attribute keys (string kinds/labels, long timestamps)."""
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
        keys = [
            ("kind", "node", "string"),
            ("label", "node", "string"),
            ("ekind", "edge", "string"),
            ("origin", "edge", "string"),
            ("first_seen", "edge", "long"),
            ("last_seen", "edge", "long"),
        ]
        for name, domain, typ in keys:
            out.write(f'<key id="{name}" for="{domain}" attr.name="{name}" attr.type="{typ}"/>\n')
        out.write('<graph edgedefault="directed">\n')
        for i, (k, lab) in enumerate(zip(self.node_kind.tolist(), self.labels, strict=True)):
            out.write(
                f'<node id="n{i}"><data key="kind">{NodeKind(k).name.lower()}</data>'
                f'<data key="label">{escape(lab)}</data></node>\n'
            )
        for e in range(self.n_edges):
            out.write(
                f'<edge source="n{self.src[e]}" target="n{self.dst[e]}">'
                f'<data key="ekind">{EdgeKind(int(self.edge_kind[e])).name.lower()}</data>'
                f'<data key="origin">{escape(self.sources[int(self.edge_source[e])])}</data>'
                f'<data key="first_seen">{int(self.first_seen[e])}</data>'
                f'<data key="last_seen">{int(self.last_seen[e])}</data></edge>\n'
            )
        out.write("</graph>\n</graphml>\n")


__all__ = ["EDGE_ENDPOINTS", "EdgeKind", "GraphBuilder", "GraphError", "InfraGraph", "NodeKind"]
