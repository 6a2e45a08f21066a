"""Bounded reading shared by the line-based importers: lines never grow past a limit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

RAW_BYTES = 4096
"""At most this many offending bytes travel with a Rejection."""

_CHUNK = 64 * 1024


def raw_head(data: bytes) -> bytes:
    """The first RAW_BYTES of ``data`` (what a Rejection keeps for quarantine)."""
    return data[:RAW_BYTES]


@dataclass(frozen=True)
class Line:
    """One physical line. ``data`` excludes the line end; ``overlong`` means it was cut."""

    number: int
    data: bytes
    overlong: bool = False
    size: int = 0


def bounded_lines(stream: BinaryIO, max_bytes: int) -> Iterator[Line]:
    """Physical lines of ``stream``, 1-numbered, each holding at most ``max_bytes`` bytes.

    An over-long line is cut: its first RAW_BYTES are kept, the rest is read in chunks and
    dropped, so memory stays bounded whatever the input.
    """
    number = 0
    while True:
        data = stream.readline(max_bytes + 1)
        if not data:
            return
        number += 1
        if len(data) > max_bytes and not data.endswith(b"\n"):
            size = len(data)
            head = data[:RAW_BYTES]
            while True:
                rest = stream.readline(_CHUNK)
                size += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield Line(number, head, overlong=True, size=size)
            continue
        yield Line(number, data.rstrip(b"\r\n"), size=len(data))


def too_many(count: int, max_records: int) -> bool:
    """True once an importer has produced more items than Limits.max_records allows."""
    return count > max_records
