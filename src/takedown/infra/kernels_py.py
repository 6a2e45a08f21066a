"""Inner loops of takedown planning, in plain Python over numpy arrays.

:mod:`takedown.infra.kernels` compiles these same functions with numba for big graphs; small
serving subgraphs (every demo outlet, most real ones) run them as they are, so a page that
plans one outlet does not pay numba's start-up (about 2 s CPU in a fresh process).

* :func:`serving_csr` — the outlet's serving subgraph (BFS over the serving edge kinds) as a
  local CSR adjacency with a virtual sink as the last local node;
* :func:`dominators` — Cooper-Harvey-Kennedy immediate dominators on a local CSR.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]

SINK_MARK = -2


def serving_csr(
    indptr: I64,
    dst: I32,
    edge_kind: I8,
    node_kind: I8,
    mask: B,
    outlet: int,
    ip_kind: int,
    network_kind: int,
    scratch: I64,
    limit: int,
) -> tuple[I64, I64, I64, int]:
    """(local -> global node ids with -1 for the sink, CSR indptr, CSR indices, endpoints).

    ``scratch`` holds -1 for every global node on entry and is restored on exit. More than
    ``limit`` local nodes: gives up, returning empty arrays and ``endpoints == -1``.
    """
    nodes = np.empty(64, dtype=np.int64)
    ptr = np.empty(65, dtype=np.int64)
    idx = np.empty(256, dtype=np.int64)
    n = 1
    m = 0
    nodes[0] = outlet
    scratch[outlet] = 0
    ptr[0] = 0
    endpoints = 0
    i = 0
    while i < n:
        u = nodes[i]
        start = m
        has = False
        for e in range(indptr[u], indptr[u + 1]):
            if not mask[edge_kind[e]]:
                continue
            has = True
            v = np.int64(dst[e])
            j = scratch[v]
            if j < 0:
                if n >= limit:
                    for t in range(n):
                        scratch[nodes[t]] = -1
                    empty = np.empty(0, dtype=np.int64)
                    return empty, empty, empty, -1
                if n == nodes.shape[0]:
                    grown = np.empty(2 * n, dtype=np.int64)
                    grown[:n] = nodes
                    nodes = grown
                    grown_ptr = np.empty(2 * n + 1, dtype=np.int64)
                    grown_ptr[: n + 1] = ptr[: n + 1]
                    ptr = grown_ptr
                j = n
                scratch[v] = j
                nodes[n] = v
                n += 1
            dup = False
            for k in range(start, m):
                if idx[k] == j:
                    dup = True
                    break
            if not dup:
                if m + 1 >= idx.shape[0]:
                    grown_idx = np.empty(2 * idx.shape[0], dtype=np.int64)
                    grown_idx[:m] = idx[:m]
                    idx = grown_idx
                idx[m] = j
                m += 1
        k_u = node_kind[u]
        if k_u == network_kind or (k_u == ip_kind and not has):
            if m + 1 >= idx.shape[0]:
                grown_idx = np.empty(2 * idx.shape[0], dtype=np.int64)
                grown_idx[:m] = idx[:m]
                idx = grown_idx
            idx[m] = SINK_MARK
            m += 1
            endpoints += 1
        ptr[i + 1] = m
        i += 1
    for t in range(n):
        scratch[nodes[t]] = -1
    sink = n
    out_nodes = np.empty(n + 1, dtype=np.int64)
    out_nodes[:n] = nodes[:n]
    out_nodes[n] = -1
    out_ptr = np.empty(n + 2, dtype=np.int64)
    out_ptr[: n + 1] = ptr[: n + 1]
    out_ptr[n + 1] = m
    out_idx = idx[:m].copy()
    for t in range(m):
        if out_idx[t] == SINK_MARK:
            out_idx[t] = sink
    return out_nodes, out_ptr, out_idx, endpoints


def dominators(ptr: I64, idx: I64) -> I64:
    """Immediate dominators from local node 0: idom[0] = 0, -1 when unreachable."""
    n = ptr.shape[0] - 1
    # iterative DFS post-order
    post = np.full(n, -1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    seen = np.zeros(n, dtype=np.bool_)
    stack_node = np.empty(n, dtype=np.int64)
    stack_edge = np.empty(n, dtype=np.int64)
    top = 0
    stack_node[0] = 0
    stack_edge[0] = ptr[0]
    seen[0] = True
    count = 0
    while top >= 0:
        u = stack_node[top]
        e = stack_edge[top]
        if e < ptr[u + 1]:
            stack_edge[top] = e + 1
            v = idx[e]
            if not seen[v]:
                seen[v] = True
                top += 1
                stack_node[top] = v
                stack_edge[top] = ptr[v]
        else:
            post[u] = count
            order[count] = u
            count += 1
            top -= 1
    # predecessors (CSR)
    pcount = np.zeros(n + 1, dtype=np.int64)
    for u in range(n):
        for e in range(ptr[u], ptr[u + 1]):
            pcount[idx[e] + 1] += 1
    for v in range(n):
        pcount[v + 1] += pcount[v]
    pidx = np.empty(pcount[n], dtype=np.int64)
    fill = pcount[:n].copy()
    for u in range(n):
        for e in range(ptr[u], ptr[u + 1]):
            v = idx[e]
            pidx[fill[v]] = u
            fill[v] += 1
    idom = np.full(n, -1, dtype=np.int64)
    idom[0] = 0
    changed = True
    while changed:
        changed = False
        for r in range(count - 2, -1, -1):  # reverse post-order, root (last) excluded
            b = order[r]
            new = -1
            for e in range(pcount[b], pcount[b + 1]):
                p = pidx[e]
                if idom[p] == -1:
                    continue
                if new == -1:
                    new = p
                    continue
                a = p
                c = new
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


def min_vertex_cut(ptr: I64, idx: I64) -> tuple[int, I64]:
    """Minimum vertex cut between local node 0 and the last local node (the sink).

    Node splitting (v_in = 2v -> v_out = 2v + 1, capacity 1; source, sink and every edge
    unbounded) and Dinic's max-flow, one unit per augmenting path. Returns (flow, cut) where
    the cut holds the local nodes whose v_in is reachable from the source in the residual
    graph and whose v_out is not; ``flow == -1`` when the source is adjacent to the sink.
    """
    inf = np.int32(1 << 30)
    n = ptr.shape[0] - 1
    sink = n - 1
    m = idx.shape[0]
    n2 = 2 * n
    n_edges = n + m
    head = np.empty(2 * n_edges, dtype=np.int64)
    cap = np.zeros(2 * n_edges, dtype=np.int32)
    tail = np.empty(2 * n_edges, dtype=np.int64)
    k = 0
    for v in range(n):
        head[2 * k] = 2 * v + 1
        tail[2 * k] = 2 * v
        cap[2 * k] = inf if (v == 0 or v == sink) else 1
        head[2 * k + 1] = 2 * v
        tail[2 * k + 1] = 2 * v + 1
        k += 1
    for v in range(n):
        for e in range(ptr[v], ptr[v + 1]):
            w = idx[e]
            if v == 0 and w == sink:
                return -1, np.empty(0, dtype=np.int64)
            head[2 * k] = 2 * w
            tail[2 * k] = 2 * v + 1
            cap[2 * k] = inf
            head[2 * k + 1] = 2 * v + 1
            tail[2 * k + 1] = 2 * w
            k += 1
    adj_ptr = np.zeros(n2 + 1, dtype=np.int64)
    for e in range(2 * n_edges):
        adj_ptr[tail[e] + 1] += 1
    for u in range(n2):
        adj_ptr[u + 1] += adj_ptr[u]
    adj = np.empty(2 * n_edges, dtype=np.int64)
    fill = adj_ptr[:n2].copy()
    for e in range(2 * n_edges):
        adj[fill[tail[e]]] = e
        fill[tail[e]] += 1
    s = 1  # the outlet's v_out
    t = 2 * sink  # the sink's v_in
    level = np.empty(n2, dtype=np.int64)
    cur = np.empty(n2, dtype=np.int64)
    queue = np.empty(n2, dtype=np.int64)
    path = np.empty(n2, dtype=np.int64)
    flow = 0
    while True:
        level[:] = -1
        level[s] = 0
        qh = 0
        qt = 1
        queue[0] = s
        while qh < qt:
            u = queue[qh]
            qh += 1
            for a in range(adj_ptr[u], adj_ptr[u + 1]):
                e = adj[a]
                v = head[e]
                if cap[e] > 0 and level[v] < 0:
                    level[v] = level[u] + 1
                    queue[qt] = v
                    qt += 1
        if level[t] < 0:
            break
        cur[:] = adj_ptr[:n2]
        while True:
            u = s
            depth = 0
            found = False
            while True:
                if u == t:
                    found = True
                    break
                advanced = False
                while cur[u] < adj_ptr[u + 1]:
                    e = adj[cur[u]]
                    v = head[e]
                    if cap[e] > 0 and level[v] == level[u] + 1:
                        path[depth] = e
                        depth += 1
                        u = v
                        advanced = True
                        break
                    cur[u] += 1
                if not advanced:
                    if u == s:
                        break
                    level[u] = -1  # dead end in this phase
                    depth -= 1
                    u = tail[path[depth]]
                    cur[u] += 1
            if not found:
                break
            for d in range(depth):
                e = path[d]
                cap[e] -= 1
                cap[e ^ 1] += 1
            flow += 1
    # residual reachability from the source
    reach = np.zeros(n2, dtype=np.bool_)
    reach[s] = True
    qh = 0
    qt = 1
    queue[0] = s
    while qh < qt:
        u = queue[qh]
        qh += 1
        for a in range(adj_ptr[u], adj_ptr[u + 1]):
            e = adj[a]
            v = head[e]
            if cap[e] > 0 and not reach[v]:
                reach[v] = True
                queue[qt] = v
                qt += 1
    count = 0
    for v in range(1, n - 1):
        if reach[2 * v] and not reach[2 * v + 1]:
            count += 1
    cut = np.empty(count, dtype=np.int64)
    count = 0
    for v in range(1, n - 1):
        if reach[2 * v] and not reach[2 * v + 1]:
            cut[count] = v
            count += 1
    return flow, cut
