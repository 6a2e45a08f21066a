"""Benchmark: build a layered infrastructure graph, plan takedowns, compare with networkx."""

from __future__ import annotations

import argparse
import json
import random
import resource
import time

import networkx as nx

from takedown.infra.graph import EdgeKind, GraphBuilder, InfraGraph
from takedown.infra.plan import minimum_vertex_cut, serving_graph, single_points_of_failure


def generate(edges: int, outlets: int, seed: int = 1) -> InfraGraph:
    rnd = random.Random(seed)
    b = GraphBuilder()
    n_ip = max(10, edges // 8)
    n_net = max(3, n_ip // 50)
    for n in range(n_net):
        b.edge(EdgeKind.NETWORK_COUNTRY, f"AS{n}", f"C{n % 40}")
        b.edge(EdgeKind.NETWORK_HOSTER, f"AS{n}", f"H{n % 300}")
    for i in range(n_ip):
        b.edge(EdgeKind.IP_NETWORK, f"ip{i}", f"AS{rnd.randrange(n_net)}")
    d = 0
    while len(b._src) < edges:
        o = f"outlet{d % outlets}"
        b.edge(EdgeKind.OUTLET_DOMAIN, o, f"d{d}.example")
        b.edge(EdgeKind.DOMAIN_REGISTRAR, f"d{d}.example", f"R{rnd.randrange(50)}")
        for h in range(rnd.randint(1, 3)):
            host = f"h{h}.d{d}.example"
            b.edge(EdgeKind.DOMAIN_HOSTNAME, f"d{d}.example", host)
            for _ in range(rnd.randint(1, 3)):
                b.edge(EdgeKind.A, host, f"ip{rnd.randrange(n_ip)}")
        d += 1
    return b.build()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--outlets", type=int, default=200)
    ap.add_argument("--nx-outlets", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    t = time.perf_counter()
    g = generate(a.edges, a.outlets)
    build = time.perf_counter() - t
    outlets = [i for i, lab in enumerate(g.labels) if lab.startswith("outlet")][: a.outlets]
    t = time.perf_counter()
    cuts = {o: minimum_vertex_cut(g, o) for o in outlets}
    spofs = {o: single_points_of_failure(g, o) for o in outlets}
    plan = time.perf_counter() - t
    ratios, same = [], True
    for o in outlets[: a.nx_outlets]:
        sg = serving_graph(g, o)
        t = time.perf_counter()
        minimum_vertex_cut(g, o)
        ours = time.perf_counter() - t
        t = time.perf_counter()
        d = nx.DiGraph((u, v) for u, vs in enumerate(sg.succ) for v in vs)
        size = len(nx.minimum_node_cut(d, 0, sg.sink))
        ratios.append((time.perf_counter() - t) / ours)
        same &= size == len(cuts[o])
    out = {
        "edges": g.n_edges,
        "nodes": g.n_nodes,
        "graph_bytes": g.nbytes(),
        "build_s": round(build, 2),
        "plan_s": round(plan, 2),
        "outlets": len(outlets),
        "spof_outlets": sum(bool(s) for s in spofs.values()),
        "mean_cut": sum(map(len, cuts.values())) / len(cuts),
        "nx_ratio_mean": round(sum(ratios) / len(ratios), 2),
        "nx_same_cut_sizes": same,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
