"""Live DNS look-ups (off by default; only ``takedown infra resolve --live`` runs them).

:func:`resolve_names` asks a resolver for A, AAAA, CNAME, NS and MX records of each name and
returns the answers as :class:`Parsed` facts (source ``live-dns``, first/last seen = now), the
same records an import yields, so they go through the same checks and store. The resolver is
passed in: tests give a fake one; nothing here opens a socket by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from takedown.infra.facts import Fact, LabelError, NodeNote, Parsed, Problem, host_name, ip_flags
from takedown.infra.facts import registrable as registrable_of
from takedown.infra.graph import EdgeKind, NodeKind

RRTYPES = ("A", "AAAA", "CNAME", "NS", "MX")
MAX_NAMES = 10_000


class Resolver(Protocol):
    def answers(self, name: str, rrtype: str) -> list[str]:
        """Record data (text) of one name and type; empty when there is none."""
        ...


class DnsPythonResolver:
    """Resolver over dnspython with a timeout; NXDOMAIN/no answer give an empty list."""

    def __init__(self, nameservers: list[str] | None = None, timeout: float = 5.0) -> None:
        import dns.resolver

        self._resolver = dns.resolver.Resolver(configure=not nameservers)
        if nameservers:
            self._resolver.nameservers = nameservers
        self._resolver.lifetime = timeout

    def answers(self, name: str, rrtype: str) -> list[str]:
        import dns.exception
        import dns.resolver

        try:
            answer = self._resolver.resolve(name, rrtype, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
            return []
        except dns.exception.Timeout as exc:
            raise LabelError(f"timeout resolving {name} {rrtype}") from exc
        return [r.to_text() for r in answer]


def resolve_names(
    names: Iterable[str], resolver: Resolver, *, now: datetime | None = None
) -> Parsed:
    now = now or datetime.now(UTC)
    out = Parsed("live-dns", "live-dns")
    todo = list(dict.fromkeys(names))[:MAX_NAMES]
    seen: set[str] = set()
    while todo:
        raw = todo.pop(0)
        try:
            name = host_name(raw)
        except LabelError as exc:
            out.problems.append(Problem(raw[:200], str(exc)))
            continue
        if name.label in seen or len(seen) >= MAX_NAMES:
            continue
        seen.add(name.label)
        domain = registrable_of(name.label)
        out.facts.append(
            Fact(EdgeKind.DOMAIN_HOSTNAME, domain, name.label, "live-dns", now, now, "live")
        )
        for rrtype in RRTYPES:
            try:
                rdatas = resolver.answers(name.label, rrtype)
            except LabelError as exc:
                out.problems.append(Problem(f"{name.label} {rrtype}", str(exc)))
                continue
            for rdata in rdatas:
                try:
                    _fact(out, name.label, domain, rrtype, rdata, now, todo)
                except LabelError as exc:
                    out.problems.append(Problem(f"{name.label} {rrtype}", str(exc), rdata[:200]))
    return out


def _fact(
    out: Parsed,
    name: str,
    domain: str,
    rrtype: str,
    rdata: str,
    now: datetime,
    todo: list[str],
) -> None:
    if rrtype in ("A", "AAAA"):
        ip, flags = ip_flags(rdata)
        kind = EdgeKind.A if ":" not in ip else EdgeKind.AAAA
        out.facts.append(Fact(kind, name, ip, "live-dns", now, now, "live"))
        if flags:
            out.notes.append(NodeNote(NodeKind.IP, ip, {"flags": flags}, "live-dns"))
        return
    target = host_name(rdata.split()[-1]).label
    if rrtype == "NS":
        out.facts.append(
            Fact(EdgeKind.DOMAIN_NAMESERVER, domain, target, "live-dns", now, now, "live")
        )
        return
    kind = EdgeKind.CNAME if rrtype == "CNAME" else EdgeKind.MX
    if kind == EdgeKind.CNAME and target == name:
        raise LabelError("CNAME points to itself")
    out.facts.append(
        Fact(EdgeKind.DOMAIN_HOSTNAME, registrable_of(target), target, "live-dns", now, now)
    )
    out.facts.append(Fact(kind, name, target, "live-dns", now, now, "live"))
    if kind == EdgeKind.CNAME:
        todo.append(target)  # follow the chain (bounded by ``seen``: loops end)
