"""The two text forms vPDQ hashes travel in, read and written exactly.

* Meta's vpdq hash file (``vpdq-hash-video``, ``vpdq/sample-hashes``): one line per hashed
  frame, ``frame_number,quality,pdq_hex,timestamp_seconds`` with the timestamp to 3 decimals,
  no header.
* pytx's ``VPDQSignal`` signal string: a JSON list of ``"pdq_hex,quality,timestamp"`` strings
  (``VpdqCompactFeature.__str__``, whose timestamp format ``:.3`` keeps 3 *significant*
  digits: 12.345 s is written ``12.3``, 123.4 s ``1.23e+02``; we write the same bytes).

Frames are ``(timestamp_ms, quality, pdq_hex, frame_number)`` tuples (frame -1: unknown).
Every malformed line raises :class:`InvalidSignal` naming the line; nothing is half-read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from takedown.signals.base import InvalidSignal

Frame = tuple[int, int, str, int]

_HEX = frozenset("0123456789abcdef")
#: Longest accepted input (a 4 h video hashed at every frame at 60 frames/s is ~80 MB of
#: lines; refuse more rather than hold it).
MAX_TEXT_CHARS = 100_000_000


def _hex(value: str, where: str) -> str:
    canonical = value.strip().lower()
    if len(canonical) != 64 or not set(canonical) <= _HEX:
        raise InvalidSignal(f"{where}: the PDQ hash must be 64 hex characters, got {value[:80]!r}")
    return canonical


def _quality(value: str, where: str) -> int:
    try:
        quality = int(value.strip())
    except ValueError as exc:
        raise InvalidSignal(f"{where}: quality must be an integer, got {value[:20]!r}") from exc
    if not 0 <= quality <= 100:
        raise InvalidSignal(f"{where}: quality must be 0-100, got {quality}")
    return quality


def _seconds(value: str, where: str) -> int:
    try:
        seconds = float(value.strip())
    except ValueError as exc:
        raise InvalidSignal(f"{where}: timestamp must be a number, got {value[:20]!r}") from exc
    if not math.isfinite(seconds) or seconds < 0 or seconds > 10**7:
        raise InvalidSignal(f"{where}: timestamp out of range: {value[:20]!r}")
    return round(seconds * 1000)


def _check_size(text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidSignal(f"vpdq text too long: {len(text)} characters > {MAX_TEXT_CHARS}")


def looks_like_vpdq_file(text: str) -> bool:
    first = text.lstrip("\ufeff").lstrip().split("\n", 1)[0]
    return first.count(",") == 3 and first.split(",", 1)[0].strip().isdigit()


def looks_like_pytx(text: str) -> bool:
    return text.lstrip("\ufeff").lstrip().startswith("[")


def from_vpdq_file(text: str) -> list[Frame]:
    """Frames of Meta's hash file lines (a BOM, CRLF and blank lines tolerated)."""
    _check_size(text)
    frames: list[Frame] = []
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        where = f"vpdq line {number}"
        parts = line.split(",")
        if len(parts) != 4:
            raise InvalidSignal(
                f"{where}: expected frame,quality,hash,timestamp, got {len(parts)} fields"
            )
        frame_text, quality, pdq, seconds = parts
        if not frame_text.strip().isdigit():
            raise InvalidSignal(f"{where}: frame number must be a non-negative integer")
        frames.append(
            (
                _seconds(seconds, where),
                _quality(quality, where),
                _hex(pdq, where),
                int(frame_text),
            )
        )
    if not frames:
        raise InvalidSignal("vpdq file has no frame lines")
    return frames


def to_vpdq_file(frames: Iterable[Frame]) -> str:
    """Meta's hash file text (``%d,%d,%s,%.3f`` lines, ``\\n`` endings)."""
    return "".join(
        f"{max(frame, 0)},{quality},{pdq},{ms / 1000:.3f}\n" for ms, quality, pdq, frame in frames
    )


def from_pytx(text: str) -> list[Frame]:
    """Frames of pytx's vpdq signal string (``json_to_vpdq``'s checks, per entry)."""
    _check_size(text)
    try:
        items = json.loads(text.lstrip("\ufeff") or "[]")
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidSignal(f"pytx vpdq value is not JSON: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise InvalidSignal("pytx vpdq value must be a non-empty JSON list of strings")
    frames: list[Frame] = []
    for index, item in enumerate(items):
        where = f"pytx vpdq entry {index}"
        if not isinstance(item, str) or item.count(",") != 2:
            raise InvalidSignal(f"{where}: expected 'hash,quality,timestamp'")
        pdq, quality, seconds = item.split(",")
        frames.append((_seconds(seconds, where), _quality(quality, where), _hex(pdq, where), -1))
    return frames


def pytx_timestamp(ms: int) -> str:
    """pytx's ``f"{timestamp:.3}"`` of the timestamp in seconds."""
    return f"{ms / 1000:.3}"


def to_pytx(frames: Iterable[Frame]) -> str:
    """pytx's signal string (``vpdq_to_json``: ``json.dumps`` of the entries)."""
    return json.dumps(
        [f"{pdq},{quality},{pytx_timestamp(ms)}" for ms, quality, pdq, _frame in frames]
    )
