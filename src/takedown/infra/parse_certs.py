"""Hostname -> certificate facts from a CSV (hostname, SHA-256 fingerprint, first/last seen
or not_before/not_after), e.g. exported certificate-transparency results."""

from __future__ import annotations

import re
from collections.abc import Iterator

from takedown.infra.facts import (
    MAX_RAW,
    Fact,
    LabelError,
    Parsed,
    Problem,
    host_name,
    parse_time,
    registrable,
)
from takedown.infra.graph import EdgeKind, NodeKind
from takedown.infra.parse_base import BATCH, Source, _CsvTable, _name_note

_CERT_ALIASES = {
    "hostname": ("hostname", "name", "common_name", "name_value", "san", "host"),
    "sha256": ("sha256", "fingerprint", "sha256_fingerprint", "cert_sha256"),
    "first_seen": ("first_seen", "not_before", "time_first"),
    "last_seen": ("last_seen", "not_after", "time_last"),
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def iter_certs(data: Source, *, source: str = "certs", batch: int = BATCH) -> Iterator[Parsed]:
    """Batches of hostname -> certificate facts from a CSV (hostname, SHA-256 fingerprint,
    first/last seen or not_before/not_after), e.g. an export of certificate-transparency
    search results. One certificate serving several names ties those names together."""
    out = Parsed("certs", source)
    table = _CsvTable(data, "certificate CSV", _CERT_ALIASES, ("hostname", "sha256"))
    cols = table.cols
    for ref, row in table.rows():
        if isinstance(row, str):
            out.problems.append(Problem(ref, row))
            continue
        try:
            if len(row) <= max(cols.values()):
                raise LabelError("too few columns")
            fp = row[cols["sha256"]].strip().lower().replace(":", "").removeprefix("sha256:")
            if not _SHA256.match(fp):
                raise LabelError("fingerprint is not 64 hex digits (SHA-256)")
            first = parse_time(row[cols["first_seen"]]) if "first_seen" in cols else None
            last = parse_time(row[cols["last_seen"]]) if "last_seen" in cols else None
            if first and last and last < first:
                raise LabelError("last_seen before first_seen")
            cert = f"sha256:{fp}"
            for raw in re.split(r"[\s;]+", row[cols["hostname"]].strip()):
                if not raw:
                    continue
                name = host_name(raw)
                dom = registrable(name.label)
                out.facts.append(
                    Fact(EdgeKind.DOMAIN_HOSTNAME, dom, name.label, source, first, last, ref)
                )
                out.facts.append(
                    Fact(EdgeKind.HOSTNAME_CERTIFICATE, name.label, cert, source, first, last, ref)
                )
                note = _name_note(NodeKind.HOSTNAME, name, source)
                if note:
                    out.notes.append(note)
        except LabelError as exc:
            out.problems.append(Problem(ref, str(exc), ",".join(row)[:MAX_RAW]))
        if len(out.facts) + len(out.problems) >= batch:
            yield out
            out = Parsed("certs", source)
    out.problems += table.overlong()
    yield out


def parse_certs(data: Source, *, source: str = "certs") -> Parsed:
    out = Parsed("certs", source)
    for part in iter_certs(data, source=source):
        out.extend(part)
    return out
