"""What importers yield: records to store and rejections to report.

Importers are pure parsers: they read a source (bytes, or a folder they are confined to) and
yield :class:`Record` and :class:`Rejection` objects. They never touch the database or the
blob store; the ingest workflow (``takedown.intake.ingest``) does that.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO


class IntakeError(Exception):
    """A source as a whole cannot be read (wrong format, unreadable, over a limit)."""


@dataclass(frozen=True)
class Limits:
    """Limits that protect intake from hostile input. Every importer honours them."""

    max_file_bytes: int = 512 * 1024 * 1024
    max_url_chars: int = 8192
    max_text_chars: int = 1_000_000
    max_field_chars: int = 100_000
    max_image_pixels: int = 100_000_000
    max_records: int = 10_000_000


@dataclass(frozen=True)
class ContentRef:
    """Content bytes that a record carries, opened lazily and streamed.

    ``open`` returns a fresh binary stream each time it is called. ``name`` is the file name
    as the source gave it (for display and custody only, never used as a path).
    """

    open: Callable[[], BinaryIO]
    name: str
    size: int | None = None
    media_type: str | None = None

    @classmethod
    def from_bytes(cls, data: bytes, name: str, media_type: str | None = None) -> ContentRef:
        return cls(open=lambda: io.BytesIO(data), name=name, size=len(data), media_type=media_type)

    @classmethod
    def from_path(cls, path: Path, name: str, media_type: str | None = None) -> ContentRef:
        size = path.stat().st_size
        return cls(open=lambda: path.open("rb"), name=name, size=size, media_type=media_type)


@dataclass(frozen=True)
class Record:
    """One sighting as a source states it: a URL, content, or both.

    ``ref`` locates the record in its source ("line 12", "message 345", "record 3") so that
    reports and chain-of-custody entries can point back at it.
    """

    ref: str
    url: str | None = None
    seen_at: datetime | None = None
    reporter: str | None = None
    language: str | None = None
    notes: str | None = None
    text: str | None = None
    content: ContentRef | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    """A record that could not be accepted, with a reason a person can act on.

    ``raw`` keeps up to a bounded number of the offending bytes for quarantine.
    """

    ref: str
    reason: str
    raw: bytes | None = None


Item = Record | Rejection
