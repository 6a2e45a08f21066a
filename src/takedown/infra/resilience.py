"""Takedown events and what comes back after them.

An event records what was seized or suspended (domains, hostnames, IPs, networks, hosters,
name servers) and when. :func:`check_event` then looks for re-establishment:

* **new domains** (first seen at or after the event) that share with the taken-down domains a
  name server, TLS certificate, analytics identifier, registrant, content hash (a sighting of
  the same SHA-256) or an IP address;
* **new IPs**: hostnames of the taken-down domains (or of the new domains) resolving, at or
  after the event, to addresses they did not use before.

Each alert carries its evidence (what is shared, with which taken-down domain). Features shared
by more than ``max_share`` domains (big DNS providers, shared hosting) are ignored as common
infrastructure and listed as such. Time to re-establishment = earliest alert - event time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.infra.facts import LabelError, host_name, ip_flags, registrable, text_label
from takedown.infra.graph import EdgeKind, NodeKind
from takedown.infra.models import InfraAlert, InfraEvent, InfraOutlet
from takedown.infra.store import StoredGraph, get_outlet, load_graph, outlet_domains
from takedown.store.models import Content, Sighting

ACTIONS = ("seized", "suspended", "blocked", "delisted", "null_routed", "other")
TARGET_KINDS = ("domain", "hostname", "ip", "network", "hoster", "nameserver", "registrar")
FEATURES = {
    EdgeKind.DOMAIN_NAMESERVER: "nameserver",
    EdgeKind.DOMAIN_ANALYTICS: "analytics_id",
    EdgeKind.DOMAIN_REGISTRANT: "registrant",
}


class EventError(ValueError):
    """A takedown event that cannot be recorded or checked; the message says why."""


def parse_target(text: str) -> tuple[str, str]:
    """``kind:label`` (e.g. ``domain:news.example``, ``ip:192.0.2.1``) normalised."""
    kind, sep, label = text.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in TARGET_KINDS:
        raise EventError(f"target {text[:80]!r}: write KIND:LABEL, KIND one of {TARGET_KINDS}")
    try:
        if kind in ("domain", "hostname", "nameserver"):
            name = host_name(label).label
            return kind, registrable(name) if kind == "domain" else name
        if kind == "ip":
            return kind, ip_flags(label)[0]
        return kind, text_label(label, kind)
    except LabelError as exc:
        raise EventError(f"target {text[:80]!r}: {exc}") from exc


def record_event(
    session: Session,
    *,
    action: str,
    targets: list[str],
    at: datetime,
    outlet: str | None = None,
    note: str | None = None,
    actor: str | None = None,
    operation: str | None = None,
) -> InfraEvent:
    if action not in ACTIONS:
        raise EventError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    if not targets:
        raise EventError("name at least one target (KIND:LABEL)")
    if at.tzinfo is None:
        raise EventError("event time needs a time zone (e.g. 2026-11-30T12:00:00Z)")
    if any(v is not None and len(v) > 200 for v in (actor, operation)):
        raise EventError("actor and operation are limited to 200 characters")
    parsed = [parse_target(t) for t in targets]
    event = InfraEvent(
        outlet_id=get_outlet(session, outlet).id if outlet else None,
        action=action,
        at=at.astimezone(UTC),
        targets={"nodes": [{"kind": k, "label": lab} for k, lab in parsed]},
        note=note,
        actor=actor,
        operation=operation,
    )
    session.add(event)
    session.flush()
    return event


@dataclass
class _Index:
    sg: StoredGraph
    rev_order: np.ndarray
    rev_ptr: np.ndarray

    @classmethod
    def build(cls, sg: StoredGraph) -> _Index:
        g = sg.graph
        order = np.argsort(g.dst, kind="stable")
        ptr = np.zeros(g.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(g.dst, minlength=g.n_nodes), out=ptr[1:])
        return cls(sg, order, ptr)

    def out(self, node: int, kinds: tuple[EdgeKind, ...]) -> list[tuple[int, int, int]]:
        """(target, edge first_seen, edge id) of out-edges of the given kinds."""
        g = self.sg.graph
        return [
            (int(g.dst[e]), int(g.first_seen[e]), e)
            for e in g.out_edges(node)
            if int(g.edge_kind[e]) in kinds
        ]

    def into(self, node: int, kinds: tuple[EdgeKind, ...]) -> list[tuple[int, int, int]]:
        g = self.sg.graph
        edges = self.rev_order[self.rev_ptr[node] : self.rev_ptr[node + 1]]
        return [
            (int(g.src[e]), int(g.first_seen[e]), int(e))
            for e in edges
            if int(g.edge_kind[e]) in kinds
        ]


def _hostnames(ix: _Index, domain: int) -> list[int]:
    return [t for t, _, _ in ix.out(domain, (EdgeKind.DOMAIN_HOSTNAME,))]


def _domain_of_host(ix: _Index, host: int) -> list[int]:
    return [s for s, _, _ in ix.into(host, (EdgeKind.DOMAIN_HOSTNAME,))]


def _taken_down(
    ix: _Index, session: Session, event: InfraEvent, at: int
) -> tuple[set[int], set[int]]:
    """Domains and IPs the event took down (targets, and what they carried at the time)."""
    sg = ix.sg
    domains: set[int] = set()
    ips: set[int] = set()
    kinds = {
        "domain": NodeKind.DOMAIN,
        "hostname": NodeKind.HOSTNAME,
        "ip": NodeKind.IP,
        "network": NodeKind.NETWORK,
        "hoster": NodeKind.HOSTER,
        "nameserver": NodeKind.NAMESERVER,
        "registrar": NodeKind.REGISTRAR,
    }
    dns = (EdgeKind.A, EdgeKind.AAAA)
    for t in event.targets.get("nodes", []):
        node = sg.node(kinds[t["kind"]], t["label"])
        if node is None:
            continue
        k = t["kind"]
        if k == "domain":
            domains.add(node)
        elif k == "hostname":
            domains.update(_domain_of_host(ix, node))
        elif k in ("nameserver", "registrar"):
            e = EdgeKind.DOMAIN_NAMESERVER if k == "nameserver" else EdgeKind.DOMAIN_REGISTRAR
            domains.update(s for s, first, _ in ix.into(node, (e,)) if first <= at)
        else:
            nets = [node] if k == "network" else []
            if k == "hoster":
                nets = [s for s, _, _ in ix.into(node, (EdgeKind.NETWORK_HOSTER,))]
            hit = {node} if k == "ip" else set()
            for net in nets:
                hit.update(s for s, _, _ in ix.into(net, (EdgeKind.IP_NETWORK,)))
            ips |= hit
            for ip in hit:
                for host, first, _ in ix.into(ip, dns):
                    if first <= at:
                        domains.update(_domain_of_host(ix, host))
    if not domains and event.outlet_id is not None:
        outlet = session.get(InfraOutlet, event.outlet_id)
        if outlet is not None:
            for name in outlet_domains(session, outlet):
                node = sg.node(NodeKind.DOMAIN, name)
                if node is not None:
                    domains.add(node)
    for d in domains:
        for h in _hostnames(ix, d):
            ips.update(ip for ip, first, _ in ix.out(h, dns) if first <= at)
    return domains, ips


def _first_seen(ix: _Index, domain: int, sightings: dict[str, int]) -> int | None:
    g = ix.sg.graph
    times = [int(g.first_seen[e]) for e in g.out_edges(domain) if g.first_seen[e] > 0]
    for h in _hostnames(ix, domain):
        times += [f for _, f, _ in ix.out(h, (EdgeKind.A, EdgeKind.AAAA, EdgeKind.CNAME)) if f]
    seen = sightings.get(g.labels[domain])
    if seen:
        times.append(seen)
    return min(times) if times else None


def check_event(session: Session, event_id: int, *, max_share: int = 50) -> dict[str, Any]:
    """Computes and stores the alerts of one event; returns them with the summary figure."""
    event = session.get(InfraEvent, event_id)
    if event is None:
        raise EventError(f"no event {event_id}")
    at = int(event.at.timestamp())
    sg = load_graph(session)
    ix = _Index.build(sg)
    g = sg.graph
    gone, gone_ips = _taken_down(ix, session, event, at)
    gone_labels = {g.labels[d] for d in gone}
    # feature -> taken-down domains holding it
    features: dict[tuple[str, int], set[int]] = defaultdict(set)
    for d in gone:
        for ek, name in FEATURES.items():
            for t, _, _ in ix.out(d, (ek,)):
                features[(name, t)].add(d)
        for h in _hostnames(ix, d):
            for t, _, _ in ix.out(h, (EdgeKind.HOSTNAME_CERTIFICATE,)):
                features[("certificate", t)].add(d)
    for ip in gone_ips:
        for host, _, _ in ix.into(ip, (EdgeKind.A, EdgeKind.AAAA)):
            for d in _domain_of_host(ix, host):
                if d in gone:
                    features[("ip", ip)].add(d)
    # sightings: first seen per domain, content hashes of the taken-down domains
    seen: dict[str, int] = {}
    hashes: dict[str, set[str]] = defaultdict(set)
    rows = session.execute(
        select(Sighting.registrable_domain, Sighting.seen_at, Sighting.created_at, Content.sha256)
        .outerjoin(Content, Content.id == Sighting.content_id)
        .where(Sighting.registrable_domain.is_not(None))
    )
    by_hash: dict[str, set[str]] = defaultdict(set)
    for domain, seen_at, created, sha in rows:
        if not domain:
            continue
        when = int((seen_at or created).timestamp())
        seen[domain] = min(seen.get(domain, when), when)
        if sha:
            by_hash[sha].add(domain)
            if domain in gone_labels:
                hashes[domain].add(sha)
    candidates: dict[str, dict[str, Any]] = {}
    ignored: list[dict[str, Any]] = []

    def evidence(domain: str, via: str, value: str, shared: set[str]) -> None:
        entry = candidates.setdefault(domain, {"evidence": []})
        entry["evidence"].append({"via": via, "value": value, "shared_with": sorted(shared)})

    holders_kinds = {
        "nameserver": (EdgeKind.DOMAIN_NAMESERVER,),
        "analytics_id": (EdgeKind.DOMAIN_ANALYTICS,),
        "registrant": (EdgeKind.DOMAIN_REGISTRANT,),
    }
    for (via, node), owners in features.items():
        if via in holders_kinds:
            holders = {s for s, _, _ in ix.into(node, holders_kinds[via])}
        elif via == "certificate":
            holders = {
                d
                for h, _, _ in ix.into(node, (EdgeKind.HOSTNAME_CERTIFICATE,))
                for d in _domain_of_host(ix, h)
            }
        else:  # ip
            holders = {
                d
                for h, _, _ in ix.into(node, (EdgeKind.A, EdgeKind.AAAA))
                for d in _domain_of_host(ix, h)
            }
        others = holders - gone
        if len(holders) > max_share:
            ignored.append({"via": via, "value": g.labels[node], "domains": len(holders)})
            continue
        for d in others:
            evidence(g.labels[d], via, g.labels[node], {g.labels[o] for o in owners})
    for domain, shas in hashes.items():
        for sha in shas:
            holders_l = by_hash[sha]
            if len(holders_l) > max_share:
                ignored.append({"via": "content", "value": sha, "domains": len(holders_l)})
                continue
            for other in holders_l - gone_labels:
                evidence(other, "content_sha256", sha, {domain})
    alerts: list[dict[str, Any]] = []
    for domain, entry in sorted(candidates.items()):
        dnode = sg.node(NodeKind.DOMAIN, domain)
        first = _first_seen(ix, dnode, seen) if dnode is not None else seen.get(domain)
        if first is None or first < at:
            continue  # existed before the event: a sibling, not a re-establishment
        alerts.append({"kind": "domain", "label": domain, "first_seen": first, **entry})
    # new IPs of taken-down (and re-established) domains' hostnames
    dns = (EdgeKind.A, EdgeKind.AAAA)
    watch = set(gone) | {
        n for a in alerts if (n := sg.node(NodeKind.DOMAIN, a["label"])) is not None
    }
    new_ips: dict[int, dict[str, Any]] = {}
    for d in watch:
        for h in _hostnames(ix, d):
            before = {ip for ip, first, _ in ix.out(h, dns) if first < at}
            for ip, first, _ in ix.out(h, dns):
                if first >= at and ip not in before and ip not in gone_ips:
                    entry = new_ips.setdefault(ip, {"first_seen": first, "evidence": []})
                    entry["first_seen"] = min(entry["first_seen"], first)
                    entry["evidence"].append(
                        {
                            "via": "dns",
                            "value": g.labels[h],
                            "shared_with": sorted(g.labels[x] for x in before),
                        }
                    )
    for ip, entry in sorted(new_ips.items(), key=lambda kv: g.labels[kv[0]]):
        alerts.append({"kind": "ip", "label": g.labels[ip], **entry})
    stored = {
        (row.kind, row.label): row
        for row in session.scalars(select(InfraAlert).where(InfraAlert.event_id == event.id))
    }
    for a in alerts:
        stamp = datetime.fromtimestamp(a["first_seen"], UTC)
        found = stored.get((a["kind"], a["label"]))
        if found is None:
            session.add(
                InfraAlert(
                    event_id=event.id,
                    kind=a["kind"],
                    label=a["label"],
                    first_seen=stamp,
                    evidence={"evidence": a["evidence"]},
                )
            )
        else:
            found.evidence = {"evidence": a["evidence"]}
            found.first_seen = stamp
        a["first_seen"] = stamp
    session.flush()
    earliest = min((a["first_seen"] for a in alerts), default=None)
    return {
        "event": event.id,
        "at": event.at,
        "action": event.action,
        "taken_down": {
            "domains": sorted(gone_labels),
            "ips": sorted(g.labels[i] for i in gone_ips),
        },
        "alerts": alerts,
        "ignored_common": ignored,
        "reestablished_after_seconds": (earliest - event.at).total_seconds() if earliest else None,
    }


def reestablishment(session: Session) -> list[dict[str, Any]]:
    """Per event: time to re-establishment from its stored alerts (None: nothing came back)."""
    out = []
    for event in session.scalars(select(InfraEvent).order_by(InfraEvent.at)):
        first = session.scalar(
            select(InfraAlert.first_seen)
            .where(InfraAlert.event_id == event.id)
            .order_by(InfraAlert.first_seen)
            .limit(1)
        )
        count = len(
            session.scalars(select(InfraAlert.id).where(InfraAlert.event_id == event.id)).all()
        )
        out.append(
            {
                "event": event.id,
                "at": event.at,
                "action": event.action,
                "targets": event.targets.get("nodes", []),
                "alerts": count,
                "reestablished_after_seconds": (first - event.at).total_seconds()
                if first
                else None,
            }
        )
    return out


def timeline(session: Session, outlet: str) -> list[dict[str, Any]]:
    """The outlet's infrastructure before and after its events: appearances, last sightings,
    takedown events and alerts, in time order."""
    o = get_outlet(session, outlet)
    domains = set(outlet_domains(session, o))
    events = list(session.scalars(select(InfraEvent).where(InfraEvent.outlet_id == o.id)))
    for ev in events:
        domains |= set(
            session.scalars(
                select(InfraAlert.label).where(
                    InfraAlert.event_id == ev.id, InfraAlert.kind == "domain"
                )
            )
        )
    sg = load_graph(session)
    g = sg.graph
    out: list[dict[str, Any]] = []
    for d in sorted(domains):
        node = sg.node(NodeKind.DOMAIN, d)
        if node is None:
            continue
        hosts = [node] + [int(g.dst[e]) for e in g.out_edges(node)]
        for h in hosts:
            for e in g.out_edges(h):
                if not g.first_seen[e]:
                    continue
                ek = EdgeKind(int(g.edge_kind[e])).name.lower()
                what = f"{ek} {g.labels[h]} -> {g.labels[int(g.dst[e])]}"
                out.append({"at": int(g.first_seen[e]), "what": "appeared", "fact": what})
                if g.last_seen[e] > g.first_seen[e]:
                    out.append({"at": int(g.last_seen[e]), "what": "last seen", "fact": what})
    for ev in events:
        labels = ", ".join(f"{t['kind']}:{t['label']}" for t in ev.targets.get("nodes", []))
        out.append(
            {"at": int(ev.at.timestamp()), "what": f"takedown ({ev.action})", "fact": labels}
        )
        for a in session.scalars(select(InfraAlert).where(InfraAlert.event_id == ev.id)):
            if a.first_seen:
                out.append(
                    {
                        "at": int(a.first_seen.timestamp()),
                        "what": "re-established",
                        "fact": f"{a.kind} {a.label}",
                    }
                )
    seen: set[tuple[int, str, str]] = set()
    unique = []
    for row in sorted(out, key=lambda r: (r["at"], r["what"], r["fact"])):
        key = (row["at"], row["what"], row["fact"])
        if key not in seen:
            seen.add(key)
            unique.append({**row, "at": datetime.fromtimestamp(row["at"], UTC)})
    return unique


__all__ = [
    "ACTIONS",
    "EventError",
    "check_event",
    "parse_target",
    "record_event",
    "reestablishment",
    "timeline",
]
