"""Whom to ask about a self-hosted domain: its hoster, else its registrar.

``takedown.referrals.routing`` imports :func:`addressee_for_domain` to route sightings on
``unknown:<domain>`` sites. It returns a dict with ``kind`` (``hoster`` | ``registrar``),
``key``, ``name``, ``contact_email`` and ``country``, or None when the stored infrastructure
data names nobody (the routing then reports the sightings as unrouted).

The hoster is found along the serving path: domain -> hostnames (-> CNAME)* -> IPs -> networks
-> hoster; when several serve, the one carrying the most of the domain's hostnames wins (ties
by name). Public IPs only: an IP flagged private/loopback/reserved names nobody.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from takedown.infra.facts import LabelError, host_name
from takedown.infra.models import InfraEdge, InfraNode

_UNSERVED = {"private", "shared", "loopback", "link_local", "multicast", "unspecified", "reserved"}
MAX_CNAME_HOPS = 16


def _out(session: Session, ids: set[int], kinds: tuple[str, ...]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return found
    rows = session.execute(
        select(InfraEdge.src_id, InfraEdge.dst_id).where(
            InfraEdge.src_id.in_(sorted(ids)), InfraEdge.kind.in_(kinds)
        )
    )
    for s, d in rows:
        found[s].add(d)
    return found


def _nodes(session: Session, ids: set[int]) -> dict[int, InfraNode]:
    if not ids:
        return {}
    return {n.id: n for n in session.scalars(select(InfraNode).where(InfraNode.id.in_(ids)))}


def hosters_for_domain(session: Session, domain: str) -> list[dict[str, Any]]:
    """Hosters serving the domain, best first: name, hostnames carried, networks, country."""
    dnode = session.scalar(
        select(InfraNode).where(InfraNode.kind == "domain", InfraNode.label == domain)
    )
    hosts: set[int] = set()
    if dnode is not None:
        hosts |= _out(session, {dnode.id}, ("domain_hostname",)).get(dnode.id, set())
    apex = session.scalar(
        select(InfraNode.id).where(InfraNode.kind == "hostname", InfraNode.label == domain)
    )
    if apex is not None:
        hosts.add(apex)
    # each hostname's set of IPs through CNAME chains (bounded, loops tolerated)
    reach: dict[int, set[int]] = {h: {h} for h in hosts}
    frontier = dict(reach)
    for _ in range(MAX_CNAME_HOPS):
        nxt = _out(session, set().union(*frontier.values()) if frontier else set(), ("cname",))
        new_frontier: dict[int, set[int]] = {}
        for h, cur in frontier.items():
            add = set().union(*(nxt.get(c, set()) for c in cur)) - reach[h]
            if add:
                reach[h] |= add
                new_frontier[h] = add
        if not new_frontier:
            break
        frontier = new_frontier
    all_names = set().union(*reach.values()) if reach else set()
    ips = _out(session, all_names, ("a", "aaaa"))
    ip_ids = set().union(*ips.values()) if ips else set()
    ip_nodes = _nodes(session, ip_ids)
    public = {
        i for i, n in ip_nodes.items() if not set((n.attrs or {}).get("flags", [])) & _UNSERVED
    }
    nets = _out(session, public, ("ip_network",))
    net_ids = set().union(*nets.values()) if nets else set()
    beyond = _out(session, net_ids, ("network_hoster", "network_country"))
    names = _nodes(session, net_ids | set().union(*beyond.values()) if beyond else net_ids)
    carried: Counter[int] = Counter()
    networks: dict[int, set[int]] = defaultdict(set)
    countries: dict[int, set[str]] = defaultdict(set)
    for names_of_h in reach.values():
        hosters_here: set[int] = set()
        for name in names_of_h:
            for ip in ips.get(name, set()) & public:
                for net in nets.get(ip, set()):
                    found = beyond.get(net, set())
                    hs = {x for x in found if names[x].kind == "hoster"}
                    cs = {names[x].label for x in found if names[x].kind == "country"}
                    for x in hs:
                        networks[x].add(net)
                        countries[x] |= cs
                    hosters_here |= hs
        carried.update(hosters_here)
    out = []
    for hid, count in carried.items():
        abuse = next(
            (
                (names[n].attrs or {}).get("abuse_email")
                for n in sorted(networks[hid])
                if (names[n].attrs or {}).get("abuse_email")
            ),
            None,
        )
        abuse = abuse or (names[hid].attrs or {}).get("abuse_email")
        out.append(
            {
                "name": names[hid].label,
                "hostnames": count,
                "networks": sorted(names[n].label for n in networks[hid]),
                "countries": sorted(countries[hid]),
                "abuse_email": abuse,
            }
        )
    return sorted(out, key=lambda h: (-h["hostnames"], h["name"]))


def registrar_for_domain(session: Session, domain: str) -> dict[str, Any] | None:
    reg = aliased(InfraNode)
    dom = aliased(InfraNode)
    row = session.execute(
        select(reg.label, reg.attrs)
        .join(InfraEdge, InfraEdge.dst_id == reg.id)
        .join(dom, dom.id == InfraEdge.src_id)
        .where(dom.kind == "domain", dom.label == domain, InfraEdge.kind == "domain_registrar")
        .order_by(InfraEdge.last_seen.desc(), reg.label)
        .limit(1)
    ).first()
    if row is None:
        return None
    return {"name": row[0], "abuse_email": (row[1] or {}).get("abuse_email")}


def addressee_for_domain(session: Session, domain: str) -> dict[str, Any] | None:
    """The hoster serving ``domain`` (with abuse contact and country), else its registrar."""
    try:
        label = host_name(domain).label
    except LabelError:
        return None
    hosters = hosters_for_domain(session, label)
    if hosters:
        best = hosters[0]
        return {
            "kind": "hoster",
            "key": best["name"],
            "name": best["name"],
            "contact_email": best["abuse_email"],
            "country": best["countries"][0] if len(best["countries"]) == 1 else None,
        }
    registrar = registrar_for_domain(session, label)
    if registrar is not None:
        return {
            "kind": "registrar",
            "key": registrar["name"],
            "name": registrar["name"],
            "contact_email": registrar["abuse_email"],
            "country": None,
        }
    return None
