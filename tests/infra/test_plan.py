from __future__ import annotations

import io
import json

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.infra.graph import EdgeKind, GraphBuilder, GraphError, InfraGraph
from takedown.infra.plan import (
    group_by_authority,
    immediate_dominators,
    minimum_vertex_cut,
    plan_outlets,
    ranked_dependencies,
    serving_graph,
    single_points_of_failure,
    takedown_plan,
)


@st.composite
def layered(draw: st.DrawFn) -> InfraGraph:
    b = GraphBuilder()
    nd = draw(st.integers(1, 3))
    nh = draw(st.integers(1, 5))
    ni = draw(st.integers(1, 5))
    nn = draw(st.integers(1, 3))
    for d in range(nd):
        b.edge(EdgeKind.OUTLET_DOMAIN, "o", f"d{d}")
    for h in range(nh):
        b.edge(EdgeKind.DOMAIN_HOSTNAME, f"d{draw(st.integers(0, nd - 1))}", f"h{h}")
        for i in draw(st.sets(st.integers(0, ni - 1), min_size=1, max_size=3)):
            b.edge(EdgeKind.A, f"h{h}", f"i{i}")
        if h and draw(st.booleans()):
            b.edge(EdgeKind.CNAME, f"h{h}", f"h{draw(st.integers(0, h - 1))}")
    for i in range(ni):
        n = draw(st.integers(0, nn - 1))
        b.edge(EdgeKind.IP_NETWORK, f"i{i}", f"n{n}")
        b.edge(EdgeKind.NETWORK_COUNTRY, f"n{n}", f"c{n % 2}")
    return b.build()


def to_nx(g: InfraGraph) -> tuple[nx.DiGraph, int]:
    sg = serving_graph(g, 0)
    d = nx.DiGraph()
    for u, vs in enumerate(sg.succ):
        d.add_node(u)
        d.add_edges_from((u, v) for v in vs)
    return d, sg.sink


@settings(max_examples=60, deadline=None)
@given(layered())
def test_cut_size_and_dominators_equal_networkx(g: InfraGraph) -> None:
    d, sink = to_nx(g)
    sg = serving_graph(g, 0)
    cut = minimum_vertex_cut(g, 0)
    assert len(cut) == len(nx.minimum_node_cut(d, 0, sink))
    local = {gid: i for i, gid in enumerate(sg.nodes)}
    d2 = d.copy()
    d2.remove_nodes_from(local[c] for c in cut)
    assert not nx.has_path(d2, 0, sink)
    ours = immediate_dominators(sg)
    theirs = nx.immediate_dominators(d, 0)
    assert {v: ours[v] for v in theirs} == theirs
    spof = single_points_of_failure(g, 0)
    chain, v = [], theirs[sink]
    while v != 0:
        chain.append(sg.nodes[v])
        v = theirs[v]
    assert spof == chain[::-1]
    assert (len(cut) == 1) == bool(spof)
    assert takedown_plan(g, 0) == (spof, cut) == plan_outlets(g, [0])[0]


def test_single_network_is_the_single_point_of_failure() -> None:
    b = GraphBuilder()
    b.edge(EdgeKind.OUTLET_DOMAIN, "o", "a.example")
    b.edge(EdgeKind.OUTLET_DOMAIN, "o", "b.example")
    b.edge(EdgeKind.DOMAIN_HOSTNAME, "a.example", "www.a.example")
    b.edge(EdgeKind.DOMAIN_HOSTNAME, "b.example", "www.b.example")
    b.edge(EdgeKind.A, "www.a.example", "192.0.2.1")
    b.edge(EdgeKind.A, "www.b.example", "192.0.2.2")
    b.edge(EdgeKind.IP_NETWORK, "192.0.2.1", "AS64500")
    b.edge(EdgeKind.IP_NETWORK, "192.0.2.2", "AS64500")
    b.edge(EdgeKind.NETWORK_COUNTRY, "AS64500", "NL")
    b.edge(EdgeKind.NETWORK_HOSTER, "AS64500", "ExampleHost")
    g = b.build()
    net = g.labels.index("AS64500")
    assert single_points_of_failure(g, 0) == [net]
    assert minimum_vertex_cut(g, 0) == [net]
    assert ranked_dependencies(g, 0)[0] == (net, 4)
    groups = group_by_authority(g, [net])
    assert groups["country"] == {"NL": [net]} and groups["hoster"] == {"ExampleHost": [net]}


def test_cname_loop_is_detected() -> None:
    b = GraphBuilder()
    b.edge(EdgeKind.CNAME, "a", "b")
    b.edge(EdgeKind.CNAME, "b", "c")
    b.edge(EdgeKind.CNAME, "c", "a")
    b.edge(EdgeKind.CNAME, "x", "a")
    g = b.build()
    loops = g.cname_loops()
    assert len(loops) == 1 and sorted(g.labels[i] for i in loops[0]) == ["a", "b", "c"]


def test_edge_between_wrong_kinds_is_rejected() -> None:
    g = GraphBuilder()
    g.edge(EdgeKind.A, "h", "1.2.3.4")
    built = g.build()
    with pytest.raises(GraphError):
        InfraGraph.from_arrays(
            node_kind=built.node_kind[::-1].copy(),
            labels=built.labels,
            src=built.src,
            dst=built.dst,
            edge_kind=built.edge_kind,
            edge_source=built.edge_source,
            first_seen=built.first_seen,
            last_seen=built.last_seen,
            sources=built.sources,
        )


def test_exports_roundtrip_through_networkx() -> None:
    b = GraphBuilder()
    b.edge(
        EdgeKind.OUTLET_DOMAIN,
        "o",
        "xn--bcher-kva.example",
        source="rdap",
        first_seen=1,
        last_seen=5,
    )
    b.edge(EdgeKind.DOMAIN_HOSTNAME, "xn--bcher-kva.example", "a<&>b", source="pdns")
    g = b.build()
    buf = io.StringIO()
    g.write_graphml(buf)
    h = nx.read_graphml(io.BytesIO(buf.getvalue().encode()))
    assert h.number_of_edges() == 2
    assert {d["label"] for _, d in h.nodes(data=True)} == {"o", "xn--bcher-kva.example", "a<&>b"}
    assert sorted(d["last_seen"] for *_, d in h.edges(data=True)) == [0, 5]
    j = io.StringIO()
    g.write_json(j)
    assert nx.node_link_graph(json.loads(j.getvalue()), edges="links").number_of_edges() == 2


def _random_outlet_graph(seed: int) -> InfraGraph:
    import random

    rnd = random.Random(seed)
    b = GraphBuilder()
    n_ip, n_net = rnd.randint(5, 60), rnd.randint(1, 8)
    for i in range(n_ip):
        if rnd.random() < 0.9:
            b.edge(EdgeKind.IP_NETWORK, f"ip{i}", f"AS{rnd.randrange(n_net)}")
    hosts: list[str] = []
    for d in range(rnd.randint(1, 40)):
        b.edge(EdgeKind.OUTLET_DOMAIN, "o", f"d{d}")
        for h in range(rnd.randint(1, 3)):
            host = f"h{h}.d{d}"
            b.edge(EdgeKind.DOMAIN_HOSTNAME, f"d{d}", host)
            if hosts and rnd.random() < 0.3:
                b.edge(EdgeKind.CNAME, host, rnd.choice(hosts))
            else:
                for _ in range(rnd.randint(1, 3)):
                    b.edge(EdgeKind.A, host, f"ip{rnd.randrange(n_ip)}")
            hosts.append(host)
    return b.build()


@pytest.mark.parametrize("seed", range(25))
def test_larger_random_graphs_cut_and_dominators_equal_networkx(seed: int) -> None:
    g = _random_outlet_graph(seed)
    outlet = g.labels.index("o")
    sg = serving_graph(g, outlet)
    d = nx.DiGraph()
    for u, vs in enumerate(sg.succ):
        d.add_node(u)
        d.add_edges_from((u, v) for v in vs)
    spof, cut = takedown_plan(g, outlet)
    assert len(cut) == len(nx.minimum_node_cut(d, 0, sg.sink))
    local = {gid: i for i, gid in enumerate(sg.nodes)}
    d2 = d.copy()
    d2.remove_nodes_from(local[c] for c in cut)
    assert not nx.has_path(d2, 0, sg.sink)
    theirs = nx.immediate_dominators(d, 0)
    chain, v = [], theirs[sg.sink]
    while v != 0:
        chain.append(sg.nodes[v])
        v = theirs[v]
    assert spof == chain[::-1]


@pytest.mark.parametrize("seed", range(0, 25, 3))
def test_plain_python_and_compiled_kernels_agree(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small serving graphs run in plain Python, big ones compiled: the same answers."""
    import takedown.infra.plan as plan

    g = _random_outlet_graph(seed)
    outlet = g.labels.index("o")
    answers = []
    for threshold in (10**9, 0, 5):  # all plain; all compiled; BFS gives up, then compiled
        monkeypatch.setattr(plan, "COMPILED_FROM", threshold)
        sg = serving_graph(g, outlet)
        answers.append(
            (sg, immediate_dominators(sg), takedown_plan(g, outlet), ranked_dependencies(g, outlet))
        )
    assert answers[0] == answers[1] == answers[2]
    assert plan_outlets(g, [outlet])[outlet] == answers[0][2]  # the batch: always compiled
    assert len(answers[0][0].nodes) > 5
