"""Shared pieces of the infra parsers: limits, input reading, names, ranges, line streams."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from takedown.infra.facts import (
    MAX_RAW,
    Fact,
    InfraParseError,
    LabelError,
    Name,
    NodeNote,
    Parsed,
    Problem,
    Range,
    text_label,
)
from takedown.infra.graph import EdgeKind, NodeKind

FORMATS = ("rdap", "whois", "pdns", "ip2asn", "certs")
MAX_JSON_BYTES = 64 * 1024 * 1024  # one RDAP document; bigger is refused, not half-read
MAX_WHOIS_BYTES = 4 * 1024 * 1024
MAX_FIELD = 4096  # characters of one CSV field
MAX_LINE = 64 * 1024  # bytes of one CSV/TSV line
BATCH = 5000

Source = bytes | IO[bytes]


def _bytes(data: Source, limit: int, what: str) -> bytes:
    raw = bytes(data) if isinstance(data, bytes | bytearray) else data.read(limit + 1)
    if len(raw) > limit:
        raise InfraParseError(f"{what} larger than {limit} bytes; split it")
    return raw


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InfraParseError(f"{what} is not UTF-8 text (byte {exc.start})") from exc


def _raw(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:MAX_RAW]


def _name_note(kind: NodeKind, name: Name, source: str, **extra: Any) -> NodeNote | None:
    attrs = {**name.attrs(), **{k: v for k, v in extra.items() if v not in (None, "", [])}}
    return NodeNote(kind, name.label, attrs, source) if attrs else None


def _domain_facts(out: Parsed, domain: Name, source: str, ref: str, seen: datetime | None) -> None:
    """The domain -> its own name as a hostname (the apex serves too)."""
    out.facts.append(
        Fact(EdgeKind.DOMAIN_HOSTNAME, domain.label, domain.label, source, seen, seen, ref)
    )


_REDACTED = re.compile(
    r"redacted|privacy|withheld|not disclosed|data protected|gdpr|statutory masking|"
    r"contact .* registrar|please query",
    re.IGNORECASE,
)


def _registrant_key(card: dict[str, str]) -> str | None:
    """An identifier of the registrant (email, else organisation, else name), unless redacted."""
    for field_name in ("email", "org", "fn"):
        value = card.get(field_name)
        if value and not _REDACTED.search(value):
            try:
                return text_label(value.lower() if field_name == "email" else value, "registrant")
            except LabelError:
                return None
    return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


_CC = re.compile(r"^[A-Z]{2}$")


def _country(value: str) -> str:
    cc = value.strip().upper()
    if not _CC.match(cc):
        raise LabelError(f"not a two-letter country code: {value[:20]!r}")
    return cc


def _range(
    start: str,
    end: str,
    source: str,
    *,
    asn: int | None = None,
    country: Any = None,
    holder: Any = None,
    abuse: Any = None,
    handle: Any = None,
    seen: datetime | None = None,
) -> Range:
    try:
        a, b = ipaddress.ip_address(start.strip()), ipaddress.ip_address(end.strip())
    except ValueError as exc:
        raise LabelError(f"bad range bounds {start[:45]!r} - {end[:45]!r}") from exc
    if a.version != b.version:
        raise LabelError("range mixes IPv4 and IPv6")
    if int(b) < int(a):
        raise LabelError(f"range end {b} before start {a}")
    cc = None
    if isinstance(country, str) and country.strip().upper() not in ("", "ZZ", "NONE", "-"):
        cc = _country(country)
    return Range(
        int(a),
        int(b),
        a.version,
        source,
        asn=asn if asn else None,
        country=cc,
        holder=text_label(holder, "holder") if isinstance(holder, str) and holder.strip() else None,
        abuse_email=abuse.strip()[:254] if isinstance(abuse, str) and abuse.strip() else None,
        handle=text_label(handle, "handle") if isinstance(handle, str) and handle.strip() else None,
        first_seen=seen,
        last_seen=seen,
    )


class _Lines:
    """UTF-8 lines of a binary stream, each at most ``MAX_LINE`` bytes; longer lines are
    skipped and their numbers kept in ``overlong`` (reported, never silently dropped)."""

    def __init__(self, stream: IO[bytes], what: str) -> None:
        self.stream = stream
        self.what = what
        self.lineno = 0
        self.overlong: list[int] = []

    def __iter__(self) -> Iterator[str]:
        first = True
        while True:
            raw = self.stream.readline(MAX_LINE + 1)
            if not raw:
                return
            self.lineno += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                self.overlong.append(self.lineno)
                while raw and not raw.endswith(b"\n"):
                    raw = self.stream.readline(MAX_LINE + 1)
                continue
            if first:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                first = False
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InfraParseError(
                    f"{self.what} line {self.lineno} is not UTF-8 text: {exc}"
                ) from exc


class _CsvTable:
    """A CSV source with a header row, read line by line: ``cols`` maps each column name of
    ``aliases`` found in the header to its index (a ``required`` one missing is an error);
    ``rows`` gives (ref, row) for every non-empty row, or (ref, message) for a row the CSV
    reader refused; ``overlong`` lists the problems of lines over the size limit."""

    def __init__(
        self,
        data: Source,
        what: str,
        aliases: dict[str, tuple[str, ...]],
        required: tuple[str, ...],
    ) -> None:
        self.lines = _Lines(_stream(data), what)
        self._reader = csv.reader(iter(self.lines))
        try:
            header = [h.strip().lower() for h in next(self._reader)]
        except StopIteration:
            raise InfraParseError(f"{what} is empty") from None
        except csv.Error as exc:
            raise InfraParseError(f"{what} header: {exc}") from exc
        self.cols: dict[str, int] = {}
        for name, names in aliases.items():
            found = [header.index(a) for a in names if a in header]
            if found:
                self.cols[name] = found[0]
            elif name in required:
                raise InfraParseError(
                    f"{what} header lacks {name!r} (has: {', '.join(header)[:200]})"
                )

    def rows(self) -> Iterator[tuple[str, list[str] | str]]:
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield f"line {self._reader.line_num}", f"CSV: {exc}"
                continue
            if any(c.strip() for c in row):
                yield f"line {self._reader.line_num}", row

    def overlong(self) -> list[Problem]:
        return [
            Problem(f"line {n}", f"line longer than {MAX_LINE} bytes") for n in self.lines.overlong
        ]


def _stream(data: Source) -> IO[bytes]:
    return io.BytesIO(bytes(data)) if isinstance(data, bytes | bytearray) else data
