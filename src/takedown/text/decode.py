"""Bytes to text for matching: BOMs, UTF-8, mixed encodings, binary data, enormous texts.

Nothing is lost: the original bytes stay in the evidence store; what this returns is only
what the text signals are computed on, with marks saying what was done.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO

#: Texts longer than this (in bytes) are matched on their first MAX_TEXT_BYTES (marked).
MAX_TEXT_BYTES = 4 * 1024 * 1024
_LEGACY = ("cp1256", "cp1251", "cp1252", "latin-1")  # tried on lines that are not UTF-8
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class NotText(ValueError):
    """Bytes that are not text (binary data)."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    truncated: bool = False
    marks: list[str] = field(default_factory=list)


def _letter_score(text: str) -> float:
    """Share of characters that are letters of the most common script (higher = plausible)."""
    scripts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "? ?").split(" ", 1)[0]
            scripts[name] = scripts.get(name, 0) + 1
    return max(scripts.values(), default=0) / max(1, len(text))


def _decode_legacy(line: bytes) -> tuple[str, str]:
    best = ("", "latin-1", -1.0)
    for encoding in _LEGACY:
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _letter_score(text)
        if score > best[2]:
            best = (text, encoding, score)
    return best[0], best[1]


def decode_bytes(data: bytes, *, max_bytes: int = MAX_TEXT_BYTES) -> DecodedText:
    """Decode text bytes; raise :class:`NotText` for binary data."""
    marks: list[str] = []
    truncated = len(data) > max_bytes
    if truncated:
        marks.append(f"enormous text: {len(data)} bytes, matched on the first {max_bytes}")
        data = data[:max_bytes]
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding, "replace")
            return DecodedText(text, encoding, truncated, marks)
    sample = data[:65536]
    if sample and (sample.count(0) > len(sample) // 100 or _control_share(sample) > 0.1):
        raise NotText("binary data, not text (NUL or control bytes)")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8", truncated, marks)
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(data) - 4:  # cut inside a character
            text = data[: exc.start].decode("utf-8", "replace")
            return DecodedText(text, "utf-8", truncated, marks)
    lines = data.split(b"\n")
    out: list[str] = []
    legacy: dict[str, int] = {}
    for line in lines:
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            text, encoding = _decode_legacy(line)
            legacy[encoding] = legacy.get(encoding, 0) + 1
            out.append(text)
    used = ", ".join(f"{n} line(s) as {enc}" for enc, n in sorted(legacy.items()))
    utf8_lines = len(lines) - sum(legacy.values())
    encoding = "mixed" if utf8_lines else max(legacy, key=lambda e: legacy[e])
    marks.append(f"not valid UTF-8: decoded {used}")
    return DecodedText("\n".join(out), encoding, truncated, marks)


def _control_share(sample: bytes) -> float:
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls / len(sample)


def read_text(stream: BinaryIO, *, max_bytes: int = MAX_TEXT_BYTES) -> DecodedText:
    """Read at most ``max_bytes`` (+1 to notice more) from ``stream`` and decode them."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        rest = 0
        while chunk := stream.read(1024 * 1024):
            rest += len(chunk)
        decoded = decode_bytes(data[:max_bytes], max_bytes=max_bytes)
        mark = f"enormous text: over {max_bytes + rest + 1} bytes, matched on the first {max_bytes}"
        return DecodedText(decoded.text, decoded.encoding, True, [mark, *decoded.marks])
    return decode_bytes(data, max_bytes=max_bytes)
