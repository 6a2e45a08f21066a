"""The outlet's infrastructure drawn for a person: one standalone HTML file with inline SVG.

Columns by kind (outlet, domains, hostnames, IPs, networks, then hosters, countries,
registrars, name servers...), nodes filled by kind and ringed by country, takedown targets
crossed out in red and possible re-establishments ringed in orange. No script and no external
asset; every label goes through :func:`html.escape` (labels come from hostile data).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.infra.graph import EdgeKind, NodeKind
from takedown.infra.models import InfraAlert, InfraEvent
from takedown.infra.store import StoredGraph, get_outlet, load_graph

MAX_NODES = 1500
COLUMNS = [
    (NodeKind.OUTLET,),
    (NodeKind.DOMAIN,),
    (NodeKind.HOSTNAME,),
    (NodeKind.IP,),
    (NodeKind.NETWORK,),
    (NodeKind.HOSTER, NodeKind.COUNTRY),
    (
        NodeKind.REGISTRAR,
        NodeKind.NAMESERVER,
        NodeKind.REGISTRANT,
        NodeKind.CERTIFICATE,
        NodeKind.ANALYTICS_ID,
    ),
]
COLOURS = {
    NodeKind.OUTLET: "#222222",
    NodeKind.DOMAIN: "#1f77b4",
    NodeKind.HOSTNAME: "#6baed6",
    NodeKind.IP: "#2ca02c",
    NodeKind.NETWORK: "#9467bd",
    NodeKind.HOSTER: "#8c564b",
    NodeKind.COUNTRY: "#bcbd22",
    NodeKind.REGISTRAR: "#e377c2",
    NodeKind.NAMESERVER: "#17becf",
    NodeKind.REGISTRANT: "#7f7f7f",
    NodeKind.CERTIFICATE: "#aec7e8",
    NodeKind.ANALYTICS_ID: "#ff9896",
}
PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6"]
ROW, COL, R = 22, 230, 7


def _country_colour(cc: str) -> str:
    return PALETTE[int(hashlib.sha256(cc.encode()).hexdigest(), 16) % len(PALETTE)]


def _subgraph(sg: StoredGraph, root: int, extra: list[int]) -> tuple[list[int], list[int]]:
    """Nodes reachable from the outlet (and the extra nodes), and the edges among them."""
    g = sg.graph
    seen = {root, *extra}
    order = [root, *extra]
    i = 0
    while i < len(order) and len(order) < MAX_NODES:
        for e in g.out_edges(order[i]):
            v = int(g.dst[e])
            if v not in seen:
                seen.add(v)
                order.append(v)
        i += 1
    edges = [e for u in order for e in g.out_edges(u) if int(g.dst[e]) in seen]
    return order, edges


def _countries(sg: StoredGraph, nodes: list[int]) -> dict[int, str]:
    """Country of networks, and of IPs and hosters through their networks."""
    g = sg.graph
    out: dict[int, str] = {}
    for n in nodes:
        if g.node_kind[n] != NodeKind.NETWORK:
            continue
        for e in g.out_edges(n):
            if g.edge_kind[e] == EdgeKind.NETWORK_COUNTRY:
                out[n] = g.labels[int(g.dst[e])]
    for n in nodes:
        if g.node_kind[n] == NodeKind.IP:
            for e in g.out_edges(n):
                net = int(g.dst[e])
                if net in out:
                    out[n] = out[net]
        if g.node_kind[n] == NodeKind.COUNTRY:
            out[n] = g.labels[n]
    return out


def render_html(session: Session, outlet: str) -> str:
    o = get_outlet(session, outlet)
    sg = load_graph(session, [o.name])
    g = sg.graph
    root = sg.outlets[o.name]
    events = list(session.scalars(select(InfraEvent).where(InfraEvent.outlet_id == o.id)))
    targets: dict[int, list[str]] = defaultdict(list)
    kinds = {k.name.lower(): k for k in NodeKind}
    for ev in events:
        for t in ev.targets.get("nodes", []):
            n = sg.node(kinds[t["kind"]], t["label"]) if t["kind"] in kinds else None
            if n is not None:
                targets[n].append(f"{ev.action} {ev.at:%Y-%m-%d}")
    alerts: dict[int, str] = {}
    for ev in events:
        for a in session.scalars(select(InfraAlert).where(InfraAlert.event_id == ev.id)):
            n = sg.node(NodeKind.DOMAIN if a.kind == "domain" else NodeKind.IP, a.label)
            if n is not None:
                alerts[n] = f"possible re-establishment, first seen {a.first_seen:%Y-%m-%d}"
    nodes, edges = _subgraph(sg, root, sorted(alerts))
    country = _countries(sg, nodes)
    column = {k: i for i, ks in enumerate(COLUMNS) for k in ks}
    rows: dict[int, int] = defaultdict(int)
    pos: dict[int, tuple[int, int]] = {}
    for n in sorted(nodes, key=lambda n: (column[NodeKind(int(g.node_kind[n]))], g.labels[n])):
        c = column[NodeKind(int(g.node_kind[n]))]
        pos[n] = (40 + c * COL, 40 + rows[c] * ROW)
        rows[c] += 1
    width = 40 + len(COLUMNS) * COL + 200
    height = 80 + max(rows.values(), default=1) * ROW
    parts: list[str] = []
    for e in edges:
        (x1, y1), (x2, y2) = pos[int(g.src[e])], pos[int(g.dst[e])]
        ekind = EdgeKind(int(g.edge_kind[e])).name.lower()
        dash = ' stroke-dasharray="4 3"' if ekind == "cname" else ""
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" class="e"{dash}>'
            f"<title>{escape(ekind)}: {escape(g.sources[int(g.edge_source[e])])}</title></line>"
        )
    for n in nodes:
        x, y = pos[n]
        kind = NodeKind(int(g.node_kind[n]))
        cc = country.get(n)
        ring = _country_colour(cc) if cc else "#ffffff"
        attrs: dict[str, Any] = sg.attrs.get(n) or {}
        tip = [f"{kind.name.lower()}: {g.labels[n]}"]
        if cc:
            tip.append(f"country: {cc}")
        tip += [f"{k}: {v}" for k, v in sorted(attrs.items())]
        tip += targets.get(n, [])
        if n in alerts:
            tip.append(alerts[n])
        marks = ""
        if n in targets:
            marks += (
                f'<circle cx="{x}" cy="{y}" r="{R + 5}" class="taken"/>'
                f'<path d="M{x - R} {y - R}L{x + R} {y + R}M{x + R} {y - R}L{x - R} {y + R}" '
                'class="taken"/>'
            )
        if n in alerts:
            marks += f'<circle cx="{x}" cy="{y}" r="{R + 5}" class="back"/>'
        label = g.labels[n] if len(g.labels[n]) <= 34 else g.labels[n][:33] + "…"
        parts.append(
            f"<g><title>{escape(chr(10).join(tip))}</title>"
            f'<circle cx="{x}" cy="{y}" r="{R}" fill="{COLOURS[kind]}" stroke="{ring}" '
            f'stroke-width="3"/>{marks}'
            f'<text x="{x + R + 4}" y="{y + 4}">{escape(label)}</text></g>'
        )
    legend = "".join(
        f'<span><i style="background:{c}"></i>{escape(k.name.lower())}</span>'
        for k, c in COLOURS.items()
    )
    countries = sorted(set(country.values()))
    legend += "".join(
        f'<span><i style="background:#fff;border:3px solid {_country_colour(c)}"></i>'
        f"{escape(c)}</span>"
        for c in countries
    )
    event_list = "".join(
        f"<li>{escape(f'{ev.at:%Y-%m-%d %H:%M} UTC')}: {escape(ev.action)} — "
        + escape(", ".join(f"{t['kind']} {t['label']}" for t in ev.targets.get("nodes", [])))
        + (f" ({escape(ev.note)})" if ev.note else "")
        + "</li>"
        for ev in sorted(events, key=lambda e: e.at)
    )
    truncated = (
        f"<p class=warn>Only the first {MAX_NODES} nodes are drawn.</p>"
        if len(nodes) >= MAX_NODES
        else ""
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>Infrastructure of {escape(o.name)}</title><style>"
        "body{font:13px sans-serif;margin:16px}svg text{font-size:11px}"
        ".e{stroke:#999;stroke-width:1}.taken{stroke:#d00;stroke-width:2.5;fill:none}"
        ".back{stroke:#f80;stroke-width:2.5;fill:none;stroke-dasharray:3 2}"
        ".legend span{margin-right:12px;white-space:nowrap}"
        ".legend i{display:inline-block;width:10px;height:10px;border-radius:50%;"
        "margin-right:4px}.warn{color:#a00}"
        "</style></head><body>"
        f"<h1>Infrastructure of {escape(o.name)}</h1>"
        f"<p>{len(nodes)} nodes, {len(edges)} facts. Red cross: taken down; "
        "orange ring: possible re-establishment. Hover a node for details.</p>"
        f'<p class="legend">{legend}</p>{truncated}'
        f"<h2>Takedown events</h2><ul>{event_list or '<li>none recorded</li>'}</ul>"
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="infrastructure graph">{"".join(parts)}</svg>'
        "</body></html>\n"
    )
