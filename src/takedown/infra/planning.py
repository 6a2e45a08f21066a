"""Takedown plans from the store: what an outlet depends on, the smallest cuts, and whom to ask.

``plan_outlet`` loads the stored graph, then per outlet:

* **dependencies** ranked by how many of the outlet's live sightings and domains reach the
  audience through each node (serving model of :mod:`takedown.infra.plan`);
* **single points of failure** (dominators) and one **minimum vertex cut**;
* **authorities**: every domain's hosters, countries and registrar, grouped by country (which
  agency must act), hoster and registrar (whom to refer to), with abuse contacts;
* **flags**: special-use IPs, wildcard and look-alike names, CNAME loops.

``refer_plan`` turns it into draft referrals through ``takedown.referrals.routing.draft``
(one call per self-hosted domain), which routes each domain to the hoster or registrar that
:func:`takedown.infra.addressees.addressee_for_domain` names.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from takedown.infra.addressees import addressee_for_domain
from takedown.infra.graph import EdgeKind, NodeKind
from takedown.infra.plan import (
    PlanError,
    minimum_vertex_cut,
    serving_graph,
    single_points_of_failure,
)
from takedown.infra.store import StoredGraph, get_outlet, load_graph, outlet_domains

if TYPE_CHECKING:
    from takedown.app import App


def _describe(sg: StoredGraph, node: int) -> dict[str, Any]:
    g = sg.graph
    out: dict[str, Any] = {
        "kind": NodeKind(int(g.node_kind[node])).name.lower(),
        "label": g.labels[node],
    }
    attrs = sg.attrs.get(node)
    if attrs:
        out["attrs"] = attrs
    return out


def _beyond(sg: StoredGraph, node: int, kinds: tuple[EdgeKind, ...]) -> list[int]:
    g = sg.graph
    return [int(g.dst[e]) for e in g.out_edges(node) if EdgeKind(int(g.edge_kind[e])) in kinds]


def plan_outlet(session: Session, name: str, *, top: int = 25) -> dict[str, Any]:
    outlet = get_outlet(session, name)
    domains = outlet_domains(session, outlet)
    stored = load_graph(session, [outlet.name])
    g = stored.graph
    root = stored.outlets[outlet.name]
    plan: dict[str, Any] = {
        "outlet": outlet.name,
        "label": outlet.label,
        "domains": [],
        "dependencies": [],
        "single_points_of_failure": [],
        "minimum_cut": [],
        "groups": {"country": {}, "hoster": {}, "registrar": {}},
        "flags": [],
        "problems": [],
    }
    try:
        serving = serving_graph(g, root)
    except PlanError as exc:
        serving = None
        plan["problems"].append(f"no serving data: {exc} (import DNS and IP data first)")
    reach: dict[int, set[int]] = {}
    if serving is not None:
        local = serving.succ
        for i, gid in enumerate(serving.nodes[:-1]):
            if gid >= 0 and g.node_kind[gid] == NodeKind.DOMAIN:
                seen, stack = {i}, [i]
                while stack:
                    for v in local[stack.pop()]:
                        if v not in seen:
                            seen.add(v)
                            stack.append(v)
                reach[gid] = {serving.nodes[v] for v in seen if v not in (i, serving.sink)}
    carried_domains: dict[int, int] = defaultdict(int)
    carried_live: dict[int, int] = defaultdict(int)
    groups: dict[str, dict[str, dict[str, Any]]] = plan["groups"]

    def group(kind: str, label: str, node: int) -> dict[str, Any]:
        entry = groups[kind].setdefault(
            label, {"domains": [], "live_sightings": 0, "abuse_email": None, "networks": []}
        )
        email = (stored.attrs.get(node) or {}).get("abuse_email")
        entry["abuse_email"] = entry["abuse_email"] or email
        return entry

    for domain in domains:
        dnode = stored.node(NodeKind.DOMAIN, domain)
        live = stored.live.get(domain, 0)
        row: dict[str, Any] = {
            "domain": domain,
            "live_sightings": live,
            "sightings": stored.sightings.get(domain, 0),
            "hosters": [],
            "countries": [],
            "registrars": [],
            "serving": bool(dnode is not None and reach.get(dnode)),
        }
        if dnode is not None:
            if stored.attrs.get(dnode):
                row["attrs"] = stored.attrs[dnode]
            for dep in reach.get(dnode, set()):
                carried_domains[dep] += 1
                carried_live[dep] += live
                if g.node_kind[dep] != NodeKind.NETWORK:
                    continue
                for x in _beyond(stored, dep, (EdgeKind.NETWORK_HOSTER, EdgeKind.NETWORK_COUNTRY)):
                    kind = "hoster" if g.node_kind[x] == NodeKind.HOSTER else "country"
                    key = "hosters" if kind == "hoster" else "countries"
                    if g.labels[x] not in row[key]:
                        row[key].append(g.labels[x])
                        entry = group(kind, g.labels[x], dep)
                        entry["domains"].append(domain)
                        entry["live_sightings"] += live
                    if g.labels[dep] not in groups[kind][g.labels[x]]["networks"]:
                        groups[kind][g.labels[x]]["networks"].append(g.labels[dep])
            for x in _beyond(stored, dnode, (EdgeKind.DOMAIN_REGISTRAR,)):
                row["registrars"].append(g.labels[x])
                entry = group("registrar", g.labels[x], x)
                entry["domains"].append(domain)
                entry["live_sightings"] += live
        plan["domains"].append(row)
        if not row["serving"]:
            plan["problems"].append(f"{domain}: no DNS/IP data reaches an audience")
    ranked = sorted(carried_domains, key=lambda n: (-carried_live[n], -carried_domains[n], n))
    plan["dependencies"] = [
        {**_describe(stored, n), "domains": carried_domains[n], "live_sightings": carried_live[n]}
        for n in ranked[:top]
    ]
    if serving is not None:
        plan["single_points_of_failure"] = [
            _describe(stored, n) for n in single_points_of_failure(g, root)
        ]
        try:
            plan["minimum_cut"] = [_describe(stored, n) for n in minimum_vertex_cut(g, root)]
        except PlanError as exc:
            plan["problems"].append(str(exc))
        for n in serving.nodes[:-1]:
            attrs = stored.attrs.get(n) or {}
            flags = list(attrs.get("flags", []))
            flags += [f for f in ("wildcard", "lookalike", "mixed_script") if attrs.get(f)]
            if flags:
                plan["flags"].append({**_describe(stored, n), "flags": flags})
    loops = g.cname_loops()
    plan["cname_loops"] = [[g.labels[i] for i in loop] for loop in loops]
    for kind in groups:
        groups[kind] = dict(
            sorted(groups[kind].items(), key=lambda kv: (-kv[1]["live_sightings"], kv[0]))
        )
    plan["addressees"] = {d: addressee_for_domain(session, d) for d in domains}
    return plan


def refer_plan(
    app: App, name: str, *, actor: str | None = None, basis: str | None = None
) -> dict[str, Any]:
    """Drafts referrals of the outlet's pending self-hosted sightings to hoster/registrar."""
    from takedown.referrals.routing import draft

    with app.db.session() as session:
        domains = outlet_domains(session, get_outlet(session, name))
    drafted: list[dict[str, Any]] = []
    unrouted: dict[str, list[int]] = {}
    for domain in domains:
        routed = draft(
            app,
            platform=f"unknown:{domain}",
            basis=basis or f"infrastructure plan for outlet {name}",
            actor=actor,
        )
        for referral in routed.drafted:
            drafted.append(
                {
                    "reference": referral.reference,
                    "domain": domain,
                    "addressee_kind": referral.addressee_kind,
                    "addressee": referral.addressee_name,
                    "contact": referral.contact,
                }
            )
        for key, ids in routed.unrouted.items():
            unrouted.setdefault(key, []).extend(ids)
    return {"outlet": name, "drafted": drafted, "unrouted": unrouted}
