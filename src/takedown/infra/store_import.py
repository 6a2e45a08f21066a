"""Importing one file into the infra store, linking IPs to networks, finding CNAME loops.

``infra.import`` is the task of one file: on PostgreSQL the command stores the file's bytes in
``job_file`` first (a worker on another machine cannot read this machine's disk) and a worker
imports them; the file row is deleted in the import's own transaction, so a job run again after
a crash that followed the commit finds the import done instead of importing twice.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.orm import Session

from takedown.infra.facts import Fact, InfraParseError, NodeNote, Parsed, Range
from takedown.infra.graph import EdgeKind, GraphBuilder, NodeKind
from takedown.infra.models import InfraEdge, InfraNode, InfraRange
from takedown.infra.parsers import (
    iter_certs,
    iter_ip2asn,
    iter_pdns,
    parse_rdap,
    parse_whois,
    sniff,
)
from takedown.infra.store_write import INSERT_BATCH, Writer
from takedown.jobs import task
from takedown.store.models import ImportRun, utcnow


def _batches(path: Path, fmt: str, source: str, observed: datetime) -> Iterator[Parsed]:
    if fmt in ("rdap", "whois"):
        data = path.read_bytes() if path.stat().st_size < 256 * 1024 * 1024 else b""
        if not data:
            raise InfraParseError(f"{path.name}: too large for {fmt} (split it)")
        parse = parse_rdap if fmt == "rdap" else parse_whois
        yield parse(data, source=source, observed_at=observed)
        return
    with path.open("rb") as stream:
        if fmt == "pdns":
            yield from iter_pdns(stream, source=source)
        elif fmt == "ip2asn":
            yield from iter_ip2asn(stream, source=source)
        elif fmt == "certs":
            yield from iter_certs(stream, source=source)
        else:
            raise InfraParseError(f"unknown format {fmt!r}")


def import_file(
    session: Session,
    path: Path,
    fmt: str | None = None,
    *,
    observed_at: datetime | None = None,
    submitted_by: str | None = None,
    source: str | None = None,
    shown_as: str | None = None,
) -> dict[str, Any]:
    """Imports one file in one transaction (the caller's session); refused records are kept
    as ``rejected_record`` rows of the import run. Raises :class:`InfraParseError` when the
    file as a whole is unusable (nothing is written then). ``shown_as``: the name recorded and
    reported for the file (its path on the submitting machine) when ``path`` is a copy."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    fmt = fmt or sniff(head)
    observed = observed_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    label = source or f"{fmt}:{path.name}"
    run = ImportRun(
        source=shown_as or str(path),
        source_sha256=digest.hexdigest(),
        format=f"infra-{fmt}",
        submitted_by=submitted_by,
    )
    session.add(run)
    session.flush()
    writer = Writer(session, run.id)
    totals: dict[str, int] = defaultdict(int)
    for parsed in _batches(path, fmt, label[:200], observed):
        for k, v in writer.write(parsed).items():
            totals[k] += v
    linked = link_ips(session) if totals["ranges"] or totals["facts"] else 0
    run.status = "done"
    run.finished_at = utcnow()
    run.created = totals["new_edges"] + totals["new_ranges"]
    run.rejected = totals["rejected"]
    loops = cname_loops(session)
    return {
        "file": shown_as or str(path),
        "format": fmt,
        "import_id": run.id,
        **totals,
        "ips_linked": linked,
        "cname_loops": loops,
    }


@task("infra.import")
def import_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """Import the stored file ``file_id`` (see :func:`takedown.jobs.results.put_file`).

    A file unusable as a whole is a result (``{"file", "error"}``), not a failed job: running
    it again would not make it usable.
    """
    from takedown.jobs.models import JobFile
    from takedown.jobs.results import get_file

    file_id, shown = args.get("file_id"), args.get("file")
    if not isinstance(file_id, int) or isinstance(file_id, bool) or not isinstance(shown, str):
        raise ValueError(f"infra.import needs file_id (integer) and file (text), not {args!r}")
    observed = args.get("observed_at")
    observed_at = datetime.fromisoformat(observed) if isinstance(observed, str) else None
    stored = get_file(app.db.engine, file_id)
    if stored is None:  # imported by an earlier run of this job (the row went with its commit)
        with app.db.session() as session:
            run_id = session.scalar(
                select(ImportRun.id)
                .where(ImportRun.source == shown, ImportRun.format.like("infra-%"))
                .order_by(ImportRun.id.desc())
                .limit(1)
            )
        return {"file": shown, "import_id": run_id, "already_imported": True}
    name = Path(str(stored["name"])).name or "upload"
    with tempfile.TemporaryDirectory(prefix="takedown-infra-") as folder:
        copy = Path(folder) / name
        copy.write_bytes(stored["data"])
        try:
            with app.db.session() as session:
                result = import_file(
                    session,
                    copy,
                    args.get("format") or None,
                    observed_at=observed_at,
                    submitted_by=args.get("submitted_by") or None,
                    source=args.get("source") or None,
                    shown_as=shown,
                )
                session.execute(delete(JobFile).where(JobFile.id == file_id))
        except (InfraParseError, OSError) as exc:
            from takedown.jobs.results import drop_file

            drop_file(app.db.engine, file_id)
            return {"file": shown, "error": str(exc)}
    return result


# --- linking IPs to networks --------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """A stored range, its bounds as numbers."""

    start: int
    end: int
    version: int
    source: str
    asn: int | None
    country: str | None
    holder: str | None
    abuse_email: str | None
    handle: str | None
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass
class _RangeIndex:
    starts: list[int]
    rows: list[_Span]


def _span(row: Row[Any]) -> _Span:
    m = row._mapping
    return _Span(
        int(m["start_key"], 16),
        int(m["end_key"], 16),
        *(m[c] for c in _SPAN_COLUMNS[2:]),
    )


_SPAN_COLUMNS = (
    "start_key",
    "end_key",
    "version",
    "source",
    "asn",
    "country",
    "holder",
    "abuse_email",
    "handle",
    "first_seen",
    "last_seen",
)


def _index(session: Session, version: int) -> _RangeIndex:
    table = InfraRange.__table__
    rows = [
        _span(row)
        for row in session.connection().execute(
            select(*(table.c[c] for c in _SPAN_COLUMNS))
            .where(table.c.version == version)
            .order_by(table.c.start_key, table.c.end_key)
        )
    ]
    return _RangeIndex([r.start for r in rows], rows)


def covering(index: _RangeIndex, value: int, window: int = 64) -> list[_Span]:
    """Ranges covering ``value``, most specific first (nested ranges within ``window``)."""
    pos = bisect.bisect_right(index.starts, value)
    found = [r for r in index.rows[max(0, pos - window) : pos] if r.start <= value <= r.end]
    return sorted(found, key=lambda r: r.end - r.start)


def link_ips(session: Session) -> int:
    """Adds ip -> network -> hoster/country facts from the most specific covering ranges."""
    indexes = {4: _index(session, 4), 6: _index(session, 6)}
    if not (indexes[4].rows or indexes[6].rows):
        return 0
    facts: list[Fact] = []
    notes: list[NodeNote] = []
    linked = 0
    nodes = InfraNode.__table__
    for (label,) in session.connection().execute(select(nodes.c.label).where(nodes.c.kind == "ip")):
        addr = ipaddress.ip_address(label)
        found = covering(indexes[addr.version], int(addr))
        if not found:
            continue
        linked += 1
        with_asn = [r for r in found if r.asn]
        net = f"AS{with_asn[0].asn}" if with_asn else (found[0].handle or _cidr(found[0]))
        src = with_asn[0] if with_asn else found[0]
        facts.append(
            Fact(EdgeKind.IP_NETWORK, label, net, src.source, src.first_seen, src.last_seen)
        )
        holder = next((r for r in found if r.holder), None)
        if holder is not None and holder.holder:
            facts.append(
                Fact(
                    EdgeKind.NETWORK_HOSTER,
                    net,
                    holder.holder,
                    holder.source,
                    holder.first_seen,
                    holder.last_seen,
                )
            )
        country = next((r for r in found if r.country), None)
        if country is not None and country.country:
            facts.append(
                Fact(
                    EdgeKind.NETWORK_COUNTRY,
                    net,
                    country.country,
                    country.source,
                    country.first_seen,
                    country.last_seen,
                )
            )
        abuse = next((r for r in found if r.abuse_email), None)
        attrs: dict[str, Any] = {"range": _cidr(found[0])}
        if abuse is not None:
            attrs["abuse_email"] = abuse.abuse_email
        notes.append(NodeNote(NodeKind.NETWORK, net, attrs, src.source))
    writer = Writer(session)
    for i in range(0, len(facts), INSERT_BATCH):
        writer.facts(facts[i : i + INSERT_BATCH])
    if notes:
        writer.notes(notes)
    return linked


def _cidr(r: _Span) -> str:
    return Range(r.start, r.end, r.version, r.source).cidr


def cname_loops(session: Session) -> list[list[str]]:
    rows = session.execute(
        select(InfraEdge.src_id, InfraEdge.dst_id).where(InfraEdge.kind == "cname")
    ).all()
    if not rows:
        return []
    succ: dict[int, set[int]] = defaultdict(set)
    for s, d in rows:
        succ[s].add(d)
    b = GraphBuilder()
    for s, ds in succ.items():
        for d in ds:
            b.edge(EdgeKind.CNAME, str(s), str(d))
    g = b.build()
    ids = [int(g.labels[i]) for loop in g.cname_loops() for i in loop]
    names = dict(
        session.execute(select(InfraNode.id, InfraNode.label).where(InfraNode.id.in_(ids))).all()
    )
    return [[names[int(g.labels[i])] for i in loop] for loop in g.cname_loops()]
