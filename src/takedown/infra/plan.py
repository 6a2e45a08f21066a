"""Takedown planning: serving subgraph, dependency ranking, dominators, minimum vertex cuts.

Serving model: the audience reaches an outlet through outlet -> domain -> hostname (-> CNAME
hostname)* -> ip -> network chains. A virtual sink is attached to every reached network and to
every reached IP without a network. Removing a set of nodes that disconnects the outlet from
the sink takes the outlet offline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

from takedown.infra.graph import EdgeKind, InfraGraph, NodeKind

SERVING = frozenset(
    {
        EdgeKind.OUTLET_DOMAIN,
        EdgeKind.DOMAIN_HOSTNAME,
        EdgeKind.CNAME,
        EdgeKind.A,
        EdgeKind.AAAA,
        EdgeKind.IP_NETWORK,
    }
)
_SERVING_MASK = np.zeros(len(EdgeKind), dtype=bool)
_SERVING_MASK[list(SERVING)] = True


class PlanError(ValueError):
    """The node is not an outlet or has no serving path."""


@dataclass(frozen=True)
class ServingGraph:
    """Local subgraph: ``nodes[i]`` is the global id of local node i; local 0 is the outlet and
    the last local node is the virtual sink (global id -1)."""

    nodes: list[int]
    succ: list[list[int]]

    @property
    def sink(self) -> int:
        return len(self.nodes) - 1


def serving_graph(g: InfraGraph, outlet: int) -> ServingGraph:
    if g.node_kind[outlet] != NodeKind.OUTLET:
        raise PlanError(f"node {outlet} is not an outlet")
    local = {outlet: 0}
    nodes = [outlet]
    succ: list[list[int]] = [[]]
    i = 0
    endpoints: list[int] = []
    while i < len(nodes):
        u = nodes[i]
        lo, hi = int(g.indptr[u]), int(g.indptr[u + 1])
        kinds = g.edge_kind[lo:hi]
        targets = g.dst[lo:hi][_SERVING_MASK[kinds]].tolist()
        if g.node_kind[u] == NodeKind.NETWORK or (g.node_kind[u] == NodeKind.IP and not targets):
            endpoints.append(i)
        for v in targets:
            j = local.get(v)
            if j is None:
                j = len(nodes)
                local[v] = j
                nodes.append(v)
                succ.append([])
            if j not in succ[i]:
                succ[i].append(j)
        i += 1
    if not endpoints:
        raise PlanError(f"outlet {outlet} reaches no serving endpoint")
    sink = len(nodes)
    nodes.append(-1)
    succ.append([])
    for e in endpoints:
        succ[e].append(sink)
    return ServingGraph(nodes, succ)


def immediate_dominators(sg: ServingGraph) -> list[int]:
    """Cooper-Harvey-Kennedy iterative dominators; idom[root]=root, -1 if unreachable."""
    n = len(sg.nodes)
    order: list[int] = []
    seen = [False] * n
    seen[0] = True
    stack: list[tuple[int, int]] = [(0, 0)]
    while stack:
        u, k = stack.pop()
        if k < len(sg.succ[u]):
            stack.append((u, k + 1))
            v = sg.succ[u][k]
            if not seen[v]:
                seen[v] = True
                stack.append((v, 0))
        else:
            order.append(u)
    rpo = order[::-1]
    post = [0] * n
    for idx, u in enumerate(order):
        post[u] = idx
    preds: list[list[int]] = [[] for _ in range(n)]
    for u in range(n):
        for v in sg.succ[u]:
            preds[v].append(u)
    idom = [-1] * n
    idom[0] = 0
    changed = True
    while changed:
        changed = False
        for b in rpo[1:]:
            new = -1
            for p in preds[b]:
                if idom[p] == -1:
                    continue
                if new == -1:
                    new = p
                    continue
                a, c = p, new
                while a != c:
                    while post[a] < post[c]:
                        a = idom[a]
                    while post[c] < post[a]:
                        c = idom[c]
                new = a
            if idom[b] != new:
                idom[b] = new
                changed = True
    return idom


def single_points_of_failure(g: InfraGraph, outlet: int) -> list[int]:
    """Global ids of nodes (besides the outlet) on every outlet->audience path, nearest first."""
    sg = serving_graph(g, outlet)
    idom = immediate_dominators(sg)
    out: list[int] = []
    v = idom[sg.sink]
    while v > 0:
        out.append(sg.nodes[v])
        v = idom[v]
    return out[::-1]


_INF = 1 << 30


def minimum_vertex_cut(g: InfraGraph, outlet: int) -> list[int]:
    """One minimum set of nodes whose removal disconnects the outlet from its audience."""
    sg = serving_graph(g, outlet)
    n = len(sg.nodes)
    rows: list[int] = []
    cols: list[int] = []
    caps: list[int] = []
    for v in range(n):
        rows.append(2 * v)
        cols.append(2 * v + 1)
        caps.append(_INF if v in (0, sg.sink) else 1)
        for w in sg.succ[v]:
            rows.append(2 * v + 1)
            cols.append(2 * w)
            caps.append(_INF)
    mat = sp.csr_matrix(
        (np.asarray(caps, dtype=np.int32), (np.asarray(rows), np.asarray(cols))),
        shape=(2 * n, 2 * n),
    )
    res = maximum_flow(mat, 1, 2 * sg.sink, method="dinic")
    if res.flow_value >= _INF:
        raise PlanError("outlet is adjacent to its audience: no vertex cut")
    flow = res.flow.tocsr()
    resid = (mat - flow).tocsr()
    resid_rev = flow.T.tocsr()
    reach = np.zeros(2 * n, dtype=bool)
    reach[1] = True
    stack = [1]
    while stack:
        u = stack.pop()
        for m in (resid, resid_rev):
            lo, hi = m.indptr[u], m.indptr[u + 1]
            for v, c in zip(m.indices[lo:hi].tolist(), m.data[lo:hi].tolist(), strict=True):
                if c > 0 and not reach[v]:
                    reach[v] = True
                    stack.append(v)
    cut = [sg.nodes[v] for v in range(1, n - 1) if reach[2 * v] and not reach[2 * v + 1]]
    if len(cut) != res.flow_value:
        raise PlanError("internal error: cut size differs from max flow")
    return cut


def ranked_dependencies(g: InfraGraph, outlet: int) -> list[tuple[int, int]]:
    """(node, number of the outlet's domains and hostnames that depend on it), largest first."""
    sg = serving_graph(g, outlet)
    carriers: dict[int, int] = defaultdict(int)
    for i, gid in enumerate(sg.nodes[:-1]):
        if g.node_kind[gid] not in (NodeKind.DOMAIN, NodeKind.HOSTNAME):
            continue
        seen = {i}
        stack = [i]
        while stack:
            u = stack.pop()
            for v in sg.succ[u]:
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        for v in seen - {i, sg.sink}:
            carriers[sg.nodes[v]] += 1
    return sorted(carriers.items(), key=lambda kv: (-kv[1], kv[0]))


_GROUP_KINDS = (NodeKind.COUNTRY, NodeKind.HOSTER, NodeKind.REGISTRAR)


def group_by_authority(g: InfraGraph, nodes: list[int]) -> dict[str, dict[str, list[int]]]:
    """Group nodes by country, hoster and registrar reached within two hops (ip->network->x)."""
    groups: dict[str, dict[str, list[int]]] = {
        k.name.lower(): defaultdict(list) for k in _GROUP_KINDS
    }
    for node in nodes:
        frontier = {node}
        found: set[int] = set()
        for _ in range(2):
            nxt: set[int] = set()
            for u in frontier:
                for e in g.out_edges(u):
                    v = int(g.dst[e])
                    if g.node_kind[v] in _GROUP_KINDS:
                        found.add(v)
                    elif g.node_kind[v] == NodeKind.NETWORK:
                        nxt.add(v)
            frontier = nxt
        if not found:
            groups.setdefault("unattributed", defaultdict(list))["?"].append(node)
        for v in found:
            groups[NodeKind(int(g.node_kind[v])).name.lower()][g.labels[v]].append(node)
    return {k: dict(v) for k, v in groups.items()}
