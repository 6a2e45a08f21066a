"""Benchmark: build a layered infrastructure graph, plan takedowns, compare with networkx.

    .venv/bin/python bench/infra.py                      # 1M edges, 200 outlets
    .venv/bin/python bench/infra.py --sizes 100000,300000,1000000   # one process per size
    .venv/bin/python bench/infra.py --import-rows 25000 [--postgres postgresql+psycopg://...]

The plan (single points of failure + one minimum vertex cut per outlet) uses the compiled
path (``plan_outlets``: numba subgraph extraction and dominators, vectorised split graph,
SciPy max-flow and BFS). networkx's ``minimum_node_cut`` runs on the same serving subgraphs of
the first ``--nx-outlets`` outlets; cut sizes must be identical.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time

import networkx as nx

from takedown.infra.graph import EdgeKind, GraphBuilder, InfraGraph
from takedown.infra.plan import minimum_vertex_cut, plan_outlets, serving_graph


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


def _pdns_csv(rows: int) -> bytes:
    rnd = random.Random(2)
    lines = ["rrname,rrtype,rdata,first_seen,last_seen"]
    for i in range(rows):
        lines.append(
            f"h{i % 7}.d{i // 3}.example,A,198.51.{rnd.randrange(256)}.{rnd.randrange(256)},"
            f"{1_700_000_000 + i},{1_700_100_000 + i}"
        )
    return ("\n".join(lines) + "\n").encode()


def bench_import(rows: int, postgres: str | None = None) -> dict[str, object]:
    """Parse a synthetic passive-DNS CSV (pure parser), then import it twice (the second run
    must add nothing) into a fresh SQLite file, or a fresh database on the PostgreSQL server
    of the admin URL ``postgres``."""
    import secrets
    import tempfile
    from pathlib import Path

    from sqlalchemy import create_engine, func, select, text
    from sqlalchemy.engine import make_url

    from takedown.app import App
    from takedown.config import Settings
    from takedown.infra.facts import _ip_flags
    from takedown.infra.models import InfraEdge
    from takedown.infra.parsers import parse_pdns
    from takedown.infra.store import import_file

    data = _pdns_csv(rows)
    _ip_flags.cache_clear()
    t = time.perf_counter()
    parsed = parse_pdns(data)
    parse_s = time.perf_counter() - t
    url, name = None, None
    if postgres:
        name = f"takedown_bench_{secrets.token_hex(4)}"
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pdns.csv"
            path.write_bytes(data)
            app = App(Settings(data=Path(tmp) / "data", database_url=url))
            try:
                _ = app.db  # migrate outside the timing
                times, results = [], []
                for _run in range(2):
                    _ip_flags.cache_clear()  # as in a fresh process
                    t = time.perf_counter()
                    with app.db.session() as session:
                        results.append(import_file(session, path, "pdns"))
                    times.append(time.perf_counter() - t)
                with app.db.session() as session:
                    stored = session.scalar(select(func.count()).select_from(InfraEdge))
            finally:
                app.close()
    finally:
        if postgres and name:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return {
        "backend": "postgresql" if postgres else "sqlite",
        "import_rows": rows,
        "import_facts": len(parsed.facts),
        "parse_rows_per_s": round(rows / parse_s),
        "store_s": round(times[0], 2),
        "store_rows_per_s": round(rows / times[0]),
        "store_facts_per_s": round(len(parsed.facts) / times[0]),
        "store_new_edges": results[0]["new_edges"],
        "reimport_s": round(times[1], 2),
        "reimport_new_edges": results[1]["new_edges"],
        "stored_edges": stored,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--outlets", type=int, default=200)
    ap.add_argument("--nx-outlets", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--sizes", help="comma-separated edge counts, each run in its own process")
    ap.add_argument("--import-rows", type=int, help="only measure importing N passive-DNS rows")
    ap.add_argument("--postgres", help="admin URL: import into a fresh database on that server")
    a = ap.parse_args()
    if a.import_rows:
        res = bench_import(a.import_rows, a.postgres)
        print(json.dumps(res) if a.json else "\n".join(f"{k}: {v}" for k, v in res.items()))
        return
    if a.sizes:
        import subprocess
        import sys

        for size in a.sizes.split(","):
            cmd = [sys.executable, __file__, "--edges", size, "--outlets", str(a.outlets)]
            cmd += ["--nx-outlets", str(a.nx_outlets)] + (["--json"] if a.json else [])
            subprocess.run(cmd, check=True)
        return
    warm = generate(2000, 2)
    plan_outlets(warm, [i for i, lab in enumerate(warm.labels) if lab.startswith("outlet")])
    t = time.perf_counter()
    g = generate(a.edges, a.outlets)
    build = time.perf_counter() - t
    outlets = [i for i, lab in enumerate(g.labels) if lab.startswith("outlet")][: a.outlets]
    t = time.perf_counter()
    planned = plan_outlets(g, outlets)
    plan = time.perf_counter() - t
    cuts = {o: c for o, (_, c) in planned.items()}
    spofs = {o: s for o, (s, _) in planned.items()}
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
