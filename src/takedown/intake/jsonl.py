"""JSON Lines item lists: one JSON object per line, with the same fields as the CSV lists."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from takedown.intake.csvlist import row_byte_limit
from takedown.intake.fields import build_record, normalise_name
from takedown.intake.reading import bounded_lines, raw_head, too_many
from takedown.intake.records import IntakeError, Item, Limits, Rejection


class JsonLinesImporter:
    """``{"url": ..., "seen_at": ..., "text": ..., "content": ..., "extra": {...}}`` per line."""

    name = "jsonl"

    def sniff(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() in (".jsonl", ".ndjson")

    def parse(self, path: Path, limits: Limits, options: Mapping[str, str]) -> Iterator[Item]:
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise IntakeError(f"cannot open {path.name!r}: {exc.strerror or exc}") from exc
        limit = row_byte_limit(limits)
        count = 0
        with stream:
            for line in bounded_lines(stream, limit):
                ref = f"line {line.number}"
                if line.overlong:
                    yield Rejection(ref, f"{ref}: over {limit} bytes", line.data)
                elif line.data.strip():
                    yield _line(ref, line.data, line.number == 1, path.parent, limits)
                else:
                    continue
                count += 1
                if too_many(count, limits.max_records):
                    yield Rejection("source", f"over the limit of {limits.max_records} records")
                    return


def _line(ref: str, data: bytes, first: bool, folder: Path, limits: Limits) -> Item:
    try:
        text = data.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(
            ref, f"{ref}: not UTF-8 (invalid byte at column {exc.start + 1})", raw_head(data)
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return Rejection(
            ref, f"{ref}: not valid JSON ({exc.msg} at column {exc.colno})", raw_head(data)
        )
    except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
        return Rejection(ref, f"{ref}: JSON cannot be read ({type(exc).__name__})", raw_head(data))
    if not isinstance(value, dict):
        return Rejection(
            ref, f"{ref}: expected a JSON object, got {type(value).__name__}", raw_head(data)
        )
    fields: dict[str, object] = {}
    for key, item in value.items():
        fields.setdefault(normalise_name(key), item)
    return build_record(ref, fields, folder, limits, data)
