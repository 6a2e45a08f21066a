"""IP-to-ASN/country tables: iptoasn.com TSV (start, end, ASN, country, holder), DB-IP Lite
ASN CSV (start, end, ASN, holder) or DB-IP Lite country CSV (start, end, country); streamed
in batches."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from takedown.infra.facts import MAX_RAW, InfraParseError, LabelError, Parsed, Problem, Range
from takedown.infra.parse_base import (
    BATCH,
    MAX_FIELD,
    MAX_LINE,
    Source,
    _Lines,
    _range,
    _stream,
)


def iter_ip2asn(data: Source, *, source: str = "ip2asn", batch: int = BATCH) -> Iterator[Parsed]:
    """Batches of ranges from an iptoasn TSV or DB-IP Lite CSV (format guessed per file)."""
    out = Parsed("ip2asn", source)
    layout: str | None = None
    lines = _Lines(_stream(data), "IP table")
    for line in lines:
        lineno = lines.lineno
        text = line.rstrip("\r\n")
        if not text.strip() or text.startswith("#"):
            continue
        ref = f"line {lineno}"
        if len(text) > MAX_FIELD:
            out.problems.append(Problem(ref, "line too long", text[:MAX_RAW]))
            continue
        delim = "\t" if "\t" in text else ","
        try:
            cols = next(csv.reader([text], delimiter=delim))
        except (csv.Error, StopIteration) as exc:
            out.problems.append(Problem(ref, f"unreadable row: {exc}", text[:MAX_RAW]))
            continue
        if layout is None:
            if cols and cols[0].strip().lower() in ("range_start", "start", "ip_start", "start_ip"):
                continue  # a header line
            layout = {5: "iptoasn", 4: "dbip-asn", 3: "dbip-country"}.get(len(cols))
            if layout is None:
                raise InfraParseError(
                    f"{ref}: {len(cols)} columns; expected start, end, ASN, country, holder "
                    "(iptoasn), start, end, ASN, holder (DB-IP ASN) or start, end, country"
                )
        try:
            out.ranges.append(_ip2asn_row(layout, cols, source))
        except (LabelError, ValueError) as exc:
            out.problems.append(Problem(ref, str(exc), text[:MAX_RAW]))
        if len(out.ranges) + len(out.problems) >= batch:
            yield out
            out = Parsed("ip2asn", source)
    out.problems += [
        Problem(f"line {n}", f"line longer than {MAX_LINE} bytes") for n in lines.overlong
    ]
    if layout is None and not out.problems:
        raise InfraParseError("IP table has no rows")
    yield out


def _ip2asn_row(layout: str, cols: list[str], source: str) -> Range:
    expected = {"iptoasn": 5, "dbip-asn": 4, "dbip-country": 3}[layout]
    if len(cols) != expected:
        raise LabelError(f"{len(cols)} columns where the file has {expected}")
    asn_text = cols[2].strip().upper().removeprefix("AS") if layout != "dbip-country" else ""
    if asn_text and not asn_text.isdigit():
        raise LabelError(f"ASN is not a number: {cols[2][:20]!r}")
    asn = int(asn_text) if asn_text else None
    if asn is not None and asn >= 2**32:
        raise LabelError("ASN out of range")
    country = cols[3] if layout == "iptoasn" else cols[2] if layout == "dbip-country" else None
    holder = cols[-1] if layout in ("iptoasn", "dbip-asn") else None
    if holder and holder.strip().lower() in ("not routed", "none"):
        holder = None
    return _range(cols[0], cols[1], source, asn=asn, country=country, holder=holder)


def parse_ip2asn(data: Source, *, source: str = "ip2asn") -> Parsed:
    out = Parsed("ip2asn", source)
    for part in iter_ip2asn(data, source=source):
        out.extend(part)
    return out
