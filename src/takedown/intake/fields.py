"""Item-list fields shared by the CSV and JSON Lines importers: names, dates, limits."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from takedown.intake.records import ContentRef, IntakeError, Limits, Record, Rejection
from takedown.intake.safepath import regular_file_size, resolve_inside

ALIASES: dict[str, str] = {
    **dict.fromkeys(("url", "link", "uri", "href", "address", "post_url"), "url"),
    **dict.fromkeys(
        ("seen_at", "seen", "date", "datetime", "timestamp", "time", "first_seen", "observed_at"),
        "seen_at",
    ),
    **dict.fromkeys(("reporter", "reported_by", "submitter", "analyst"), "reporter"),
    **dict.fromkeys(("language", "lang"), "language"),
    **dict.fromkeys(("notes", "note", "comment", "comments"), "notes"),
    **dict.fromkeys(("text", "body", "message", "post_text", "caption"), "text"),
    **dict.fromkeys(("content", "file", "path", "content_path", "file_path", "media"), "content"),
}
"""Accepted column/key names (normalised: lower case, spaces and dashes as underscores)."""

KNOWN = frozenset(ALIASES.values())
_UNIX = re.compile(r"^[+-]?\d{1,12}(\.\d{1,9})?$")


class FieldError(ValueError):
    """One field of one record is unusable (the message says which and why)."""


@lru_cache(maxsize=4096)
def normalise_name(name: str) -> str:
    """``" Seen-At "`` -> ``"seen_at"``; then aliases map it to the canonical field."""
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return ALIASES.get(key, key)


def parse_seen_at(value: object) -> datetime:
    """ISO 8601 text or unix seconds (text or number) -> aware UTC; naive is read as UTC."""
    if isinstance(value, bool):
        raise FieldError(f"seen_at {value!r} is not a date")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            raise FieldError(f"seen_at {str(value)[:40]}... is out of range") from None
        return _from_unix(seconds, value)
    if not isinstance(value, str):
        raise FieldError(f"seen_at must be text or a number, not {type(value).__name__}")
    text = value.strip()
    if _UNIX.match(text):
        return _from_unix(float(text), value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(
            f"seen_at {text[:80]!r} is not an ISO 8601 date (2024-05-01T12:00:00Z) or unix seconds"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _from_unix(seconds: float, shown: object) -> datetime:
    if not math.isfinite(seconds):
        raise FieldError(f"seen_at {shown!r} is not a date")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise FieldError(f"seen_at {str(shown)[:40]!r} is out of range for unix seconds") from None


def _check_length(name: str, value: str, limits: Limits) -> str:
    limit = {"url": limits.max_url_chars, "text": limits.max_text_chars}.get(
        name, limits.max_field_chars
    )
    if len(value) > limit:
        raise FieldError(f"{name} has {len(value)} characters, over the limit of {limit}")
    return value


def content_ref(folder: Path, relative: str, limits: Limits) -> ContentRef:
    """A ContentRef for a file named relative to ``folder``, refused if it could escape."""
    try:
        path = resolve_inside(folder, relative)
        size = regular_file_size(path, relative, limits.max_file_bytes)
    except IntakeError as exc:
        raise FieldError(f"content {exc}") from None
    return ContentRef(open=lambda: path.open("rb"), name=Path(relative).name, size=size)


def build_record(
    ref: str, fields: Mapping[str, object], folder: Path, limits: Limits, raw: bytes
) -> Record | Rejection:
    """A Record from named fields (already alias-normalised), or a Rejection saying why not.

    Unknown fields with text values go to ``extra``; an ``extra`` object of text values is
    merged in. A record needs a url, a text or a content file.
    """
    try:
        known: dict[str, str] = {}
        extra: dict[str, str] = {}
        seen_at = None
        for name, value in fields.items():
            if value is None or value == "":
                continue
            if name == "seen_at":
                seen_at = parse_seen_at(value)
            elif name == "extra":
                extra.update(_extra_object(value, limits))
            elif name in KNOWN:
                if not isinstance(value, str):
                    raise FieldError(f"{name} must be text, not {type(value).__name__}")
                known[name] = _check_length(name, value, limits)
            elif isinstance(value, str):
                extra[_check_length("field name", name, limits)] = _check_length(
                    name, value, limits
                )
        content = None
        if known.get("content", "").strip():
            content = content_ref(folder, known["content"].strip(), limits)
        url = known.get("url", "").strip() or None
        text = known.get("text")
        if url is None and content is None and not (text and text.strip()):
            raise FieldError("record has no url, text or content")
        return Record(
            ref=ref,
            url=url,
            seen_at=seen_at,
            reporter=known.get("reporter"),
            language=known.get("language"),
            notes=known.get("notes"),
            text=text,
            content=content,
            extra=extra,
        )
    except FieldError as exc:
        return Rejection(ref, f"{ref}: {exc}", raw[:4096])


def _extra_object(value: object, limits: Limits) -> dict[str, str]:
    if not isinstance(value, dict):
        raise FieldError(f"extra must be an object, not {type(value).__name__}")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise FieldError(f"extra.{str(key)[:40]} must be text, not {type(item).__name__}")
        out[_check_length("extra name", str(key), limits)] = _check_length(
            f"extra.{str(key)[:40]}", item, limits
        )
    return out
