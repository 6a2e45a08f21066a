"""Takedown planning: serving subgraph, dependency ranking, dominators, minimum vertex cuts.

Serving model: the audience reaches an outlet through outlet -> domain -> hostname (-> CNAME
hostname)* -> ip -> network chains. A virtual sink is attached to every reached network and to
every reached IP without a network. Removing a set of nodes that disconnects the outlet from
the sink takes the outlet offline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

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


#: Serving subgraphs up to this many local nodes are planned in plain Python
#: (:mod:`takedown.infra.kernels_py`, milliseconds at this size); bigger ones by the same
#: functions compiled with numba (:mod:`takedown.infra.kernels`), whose start-up in a fresh
#: process (about 2 s CPU) would otherwise dominate the infrastructure page's first load.
COMPILED_FROM = 2_000


def _kernels(local_nodes: int, compiled: bool = False) -> Any:
    if local_nodes < COMPILED_FROM and not compiled:
        from takedown.infra import kernels_py

        return kernels_py
    from takedown.infra import kernels

    return kernels


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


@dataclass(frozen=True)
class ServingCSR:
    """The serving subgraph as arrays: ``nodes[i]`` global id of local i (sink: -1, last),
    successors of local i are ``idx[ptr[i]:ptr[i + 1]]``."""

    nodes: npt.NDArray[np.int64]
    ptr: npt.NDArray[np.int64]
    idx: npt.NDArray[np.int64]

    @property
    def sink(self) -> int:
        return len(self.nodes) - 1


def serving_csr(
    g: InfraGraph,
    outlet: int,
    scratch: npt.NDArray[np.int64] | None = None,
    compiled: bool = False,
) -> ServingCSR:
    """The outlet's serving subgraph (BFS; compiled when it is big or ``compiled``).
    ``scratch``: -1s of length ``n_nodes``, reusable across calls (restored on return)."""
    if not 0 <= outlet < g.n_nodes or g.node_kind[outlet] != NodeKind.OUTLET:
        raise PlanError(f"node {outlet} is not an outlet")
    if scratch is None:
        scratch = np.full(g.n_nodes, -1, dtype=np.int64)
    args = (
        g.indptr,
        g.dst,
        g.edge_kind,
        g.node_kind,
        _SERVING_MASK,
        outlet,
        int(NodeKind.IP),
        int(NodeKind.NETWORK),
        scratch,
    )
    # plain Python first, giving up past COMPILED_FROM local nodes; then the compiled BFS
    found = None if compiled else _kernels(0).serving_csr(*args, COMPILED_FROM)
    if found is None or found[3] < 0:
        found = _kernels(0, compiled=True).serving_csr(*args, g.n_nodes + 1)
    nodes, ptr, idx, endpoints = found
    if not endpoints:
        raise PlanError(f"outlet {outlet} reaches no serving endpoint")
    return ServingCSR(nodes, ptr, idx)


def serving_graph(g: InfraGraph, outlet: int) -> ServingGraph:
    sc = serving_csr(g, outlet)
    ptr, idx = sc.ptr.tolist(), sc.idx.tolist()
    succ = [idx[ptr[i] : ptr[i + 1]] for i in range(len(sc.nodes))]
    return ServingGraph(sc.nodes.tolist(), succ)


def _csr_of(sg: ServingGraph) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    ptr = np.zeros(len(sg.succ) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sg.succ], out=ptr[1:])
    idx = np.fromiter((v for s in sg.succ for v in s), dtype=np.int64, count=int(ptr[-1]))
    return ptr, idx


def immediate_dominators(sg: ServingGraph) -> list[int]:
    """Cooper-Harvey-Kennedy iterative dominators; idom[root]=root, -1 if unreachable."""
    ptr, idx = _csr_of(sg)
    result: list[int] = _kernels(len(sg.nodes)).dominators(ptr, idx).tolist()
    return result


def _spof(sc: ServingCSR, compiled: bool = False) -> list[int]:
    idom = _kernels(len(sc.nodes), compiled).dominators(sc.ptr, sc.idx)
    out: list[int] = []
    v = int(idom[sc.sink])
    while v > 0:
        out.append(int(sc.nodes[v]))
        v = int(idom[v])
    return out[::-1]


def single_points_of_failure(g: InfraGraph, outlet: int) -> list[int]:
    """Global ids of nodes (besides the outlet) on every outlet->audience path, nearest first."""
    return _spof(serving_csr(g, outlet))


def _cut(sc: ServingCSR, compiled: bool = False) -> list[int]:
    flow, cut_local = _kernels(len(sc.nodes), compiled).min_vertex_cut(sc.ptr, sc.idx)
    if flow < 0:
        raise PlanError("outlet is adjacent to its audience: no vertex cut")
    if len(cut_local) != flow:
        raise PlanError("internal error: cut size differs from max flow")
    return [int(c) for c in sc.nodes[cut_local].tolist()]


def minimum_vertex_cut(g: InfraGraph, outlet: int) -> list[int]:
    """One minimum set of nodes whose removal disconnects the outlet from its audience."""
    return _cut(serving_csr(g, outlet))


def takedown_plan(
    g: InfraGraph,
    outlet: int,
    scratch: npt.NDArray[np.int64] | None = None,
    compiled: bool = False,
) -> tuple[list[int], list[int]]:
    """(single points of failure, one minimum vertex cut) from one subgraph extraction."""
    sc = serving_csr(g, outlet, scratch, compiled)
    return _spof(sc, compiled), _cut(sc, compiled)


def plan_outlets(g: InfraGraph, outlets: list[int]) -> dict[int, tuple[list[int], list[int]]]:
    """:func:`takedown_plan` for many outlets, sharing one scratch array, always compiled
    (numba's start-up is paid once for the batch)."""
    scratch = np.full(g.n_nodes, -1, dtype=np.int64)
    return {o: takedown_plan(g, o, scratch, compiled=True) for o in outlets}


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
