"""CSV item lists with a header row: one sighting per row, decoded and checked row by row."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path

from takedown.intake.fields import build_record, normalise_name
from takedown.intake.reading import Line, bounded_lines, raw_head, too_many
from takedown.intake.records import IntakeError, Item, Limits, Rejection

_DELIMITERS = (",", ";", "\t", "|")


def row_byte_limit(limits: Limits) -> int:
    """Largest row (or JSON line) accepted: every field at its own limit, UTF-8 worst case."""
    return 4 * (limits.max_text_chars + limits.max_url_chars) + 8 * limits.max_field_chars


class CsvImporter:
    """``url,seen_at,reporter,language,notes,text,content`` (any order, common aliases)."""

    name = "csv"

    def sniff(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() in (".csv", ".tsv")

    def parse(self, path: Path, limits: Limits, options: Mapping[str, str]) -> Iterator[Item]:
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise IntakeError(f"cannot open {path.name!r}: {exc.strerror or exc}") from exc
        with stream:
            rows = _logical_rows(bounded_lines(stream, row_byte_limit(limits)), limits)
            header, delimiter = _read_header(rows, options)
            names = [normalise_name(field) for field in header]
            if not {"url", "text", "content"}.intersection(names):
                raise IntakeError(
                    f"{path.name!r}: the header names no url, text or content column "
                    f"(found: {', '.join(header)[:200]})"
                )
            count = 0
            for item in rows:
                count += 1
                if too_many(count, limits.max_records):
                    yield Rejection("source", f"over the limit of {limits.max_records} records")
                    return
                if isinstance(item, Rejection):
                    yield item
                    continue
                number, data = item
                yield _row(number, data, names, delimiter, path.parent, limits)


_Row = tuple[int, bytes]


def _logical_rows(lines: Iterator[Line], limits: Limits) -> Iterator[_Row | Rejection]:
    """Join physical lines while a quoted field is open; reject over-long rows."""
    limit = row_byte_limit(limits)
    parts: list[bytes] = []
    start = 0
    size = 0
    quotes = 0
    for line in lines:
        if not parts:
            start = line.number
        if line.overlong or size + line.size > limit:
            head = raw_head(b"\n".join([*parts, line.data]))
            yield Rejection(f"line {start}", f"line {start}: row over {limit} bytes", head)
            parts, size, quotes = [], 0, 0
            continue
        parts.append(line.data)
        size += line.size
        quotes += line.data.count(b'"')
        if quotes % 2 == 0:
            data = b"\n".join(parts)
            parts, size, quotes = [], 0, 0
            if data.strip():
                yield start, data
    if parts:
        data = b"\n".join(parts)
        yield Rejection(f"line {start}", f"line {start}: quoted field never closed", raw_head(data))


def _read_header(
    rows: Iterator[_Row | Rejection], options: Mapping[str, str]
) -> tuple[list[str], str]:
    first = next(rows, None)
    if first is None:
        raise IntakeError("the CSV is empty: a header row is needed")
    if isinstance(first, Rejection):
        raise IntakeError(f"the CSV header cannot be read: {first.reason}")
    try:
        text = first[1].decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IntakeError(f"the CSV header is not UTF-8 (byte {exc.start})") from None
    delimiter = options.get("delimiter") or max(_DELIMITERS, key=text.count)
    if len(delimiter) != 1:
        raise IntakeError(f"delimiter {delimiter!r} must be one character")
    try:
        header = next(csv.reader([text], delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration) as exc:
        raise IntakeError(f"the CSV header cannot be parsed: {exc}") from None
    return [field.strip() for field in header], delimiter


def _row(
    number: int, data: bytes, names: list[str], delimiter: str, folder: Path, limits: Limits
) -> Item:
    ref = f"line {number}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(
            ref,
            f"{ref}: not UTF-8 (invalid byte at column {exc.start + 1}); save the file as UTF-8",
            raw_head(data),
        )
    try:
        parsed = list(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return Rejection(ref, f"{ref}: malformed CSV ({exc})", raw_head(data))
    if len(parsed) != 1:
        return Rejection(ref, f"{ref}: malformed CSV (row breaks unexpectedly)", raw_head(data))
    values = parsed[0]
    if len(values) != len(names):
        return Rejection(
            ref,
            f"{ref}: {len(values)} fields, but the header has {len(names)}",
            raw_head(data),
        )
    fields: dict[str, object] = {}
    for name, value in zip(names, values, strict=True):
        fields.setdefault(name, value)
    return build_record(ref, fields, folder, limits, data)
