"""Signal type names of the field (pytx, HMA, ThreatExchange) and Takedown's, both ways.

- pytx / HMA 2.0 names (``pdq``, ``video_md5``, ``video_sha256``, ``vpdq``, ``url``, ``url_md5``,
  ``raw_text``, ``text_tlsh``, ``pdq_ocr``, ``trend_query``) and the older ``photo_md5`` /
  ``photo_pdq`` are read; every Takedown type name is read as itself.
- ThreatExchange indicator types (``HASH_PDQ``, ``HASH_MD5``, ``HASH_TMK``, ``URI`` …) are read
  from ``type`` columns and from the names of pytx's ``simple.<TYPE>.te`` cache files.
- Writing for pytx maps each Takedown type to the pytx name that carries it; the types pytx has
  no name for (Takedown's text, keypoint and key-frame signals, TMK) are reported, not written.

Takedown's ``md5`` and ``sha256`` are digests of a file's bytes, which is exactly what pytx's
``video_md5`` and ``video_sha256`` compute (for any file), so they are written under those names.
Takedown's ``video`` values (vPDQ frames) are converted to and from pytx's ``vpdq`` lines; pytx
writes frame timestamps with 3 significant digits, so a timestamp past 10 s comes back rounded
(12.345 s as 12.3 s) — that precision is all a pytx list can carry.
"""

from __future__ import annotations

import json

from takedown.signals.base import InvalidSignal
from takedown.signals.exchange_types import quote_text

PYTX_TO_TAKEDOWN = {
    "pdq": "pdq",
    "photo_pdq": "pdq",
    "md5": "md5",
    "photo_md5": "md5",
    "video_md5": "md5",
    "sha256": "sha256",
    "video_sha256": "sha256",
    "url": "url",
    "url_md5": "url_md5",
    "raw_text": "raw_text",
    "text_tlsh": "text_tlsh",
    "pdq_ocr": "pdq_ocr",
    "trend_query": "trend_query",
    "vpdq": "video",
    "video_tmk_pdqf": "tmk",
}
TAKEDOWN_TO_PYTX = {
    "pdq": "pdq",
    "md5": "video_md5",
    "sha256": "video_sha256",
    "url": "url",
    "url_md5": "url_md5",
    "raw_text": "raw_text",
    "text_tlsh": "text_tlsh",
    "pdq_ocr": "pdq_ocr",
    "trend_query": "trend_query",
    "video": "vpdq",
}
INDICATOR_TO_TAKEDOWN = {
    "HASH_PDQ": "pdq",
    "HASH_MD5": "md5",
    "HASH_VIDEO_MD5": "md5",
    "HASH_PHOTO_MD5": "md5",
    "HASH_SHA256": "sha256",
    "HASH_VIDEO_SHA256": "sha256",
    "URI": "url",
    "RAW_URI": "url",
    "UNCLICKABLE_URL": "url",
    "HASH_URL_MD5": "url_md5",
    "TEXT_STRING": "raw_text",
    "HASH_TEXT_TLSH": "text_tlsh",
    "HASH_PDQ_OCR": "pdq_ocr",
    "TREND_QUERY": "trend_query",
    "HASH_TMK": "tmk",
}
TAKEDOWN_TO_INDICATOR = {
    "pdq": "HASH_PDQ",
    "md5": "HASH_MD5",
    "sha256": "HASH_SHA256",
    "url": "URI",
    "url_md5": "HASH_URL_MD5",
    "raw_text": "TEXT_STRING",
    "text_tlsh": "HASH_TEXT_TLSH",
    "pdq_ocr": "HASH_PDQ_OCR",
    "trend_query": "TREND_QUERY",
    "tmk": "HASH_TMK",
}
#: pytx's SignalOpinionCategory names, the trailing word of ``threatexchange dataset -P`` lines.
PYTX_CATEGORIES = frozenset(
    {
        "FALSE_POSITIVE",
        "WORTH_INVESTIGATING",
        "INVESTIGATION_SEED",
        "POSITIVE_CLASS",
        "NEGATIVE_CLASS",
    }
)
#: The vPDQ timestamp precision pytx writes (``f"{t:.3}"``).
VPDQ_DIGITS = 3


def takedown_name(name: str, known: frozenset[str] | set[str]) -> str | None:
    """Takedown's type for a pytx, HMA, ThreatExchange or Takedown name, or None."""
    clean = name.strip()
    mapped = PYTX_TO_TAKEDOWN.get(clean.lower()) or INDICATOR_TO_TAKEDOWN.get(clean.upper())
    if mapped is not None:
        return mapped
    return clean.lower() if clean.lower() in known else None


def from_pytx(kind: str, value: str, given: str) -> str:
    """The value of a list row in the form Takedown stores for ``kind`` (a Takedown type),
    ``given`` being the type name the row used: a pytx ``vpdq`` JSON list becomes a ``video``
    value (a ``video`` row is already one); a ``raw_text`` text, which every writer writes
    plain, becomes its stored JSON literal."""
    if kind == "video" and given.strip().lower() == "vpdq":
        return vpdq_to_video(value)
    if kind == "raw_text":
        return quote_text(value)
    return value


def to_pytx(kind: str, value: str) -> tuple[str, str] | None:
    """(pytx name, pytx value) of a stored Takedown value, or None if pytx cannot carry it."""
    name = TAKEDOWN_TO_PYTX.get(kind)
    if name is None:
        return None
    if kind == "video":
        return name, video_to_vpdq(value)
    if kind == "raw_text":
        return name, unquote_text(value)
    return name, value


def unquote_text(value: str) -> str:
    text = json.loads(value)
    if not isinstance(text, str):
        raise InvalidSignal("raw_text must be a JSON string literal")
    return text


def vpdq_to_video(line: str) -> str:
    """pytx's vpdq value (JSON list of ``"pdq_hex,quality,seconds"``) as a Takedown video value."""
    from takedown.signals.video import VideoFrameHash, serialise  # numpy, PyAV: when used

    try:
        items = json.loads(line)
    except ValueError as exc:
        raise InvalidSignal(f"vpdq must be a JSON list: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise InvalidSignal("vpdq must be a non-empty JSON list of 'pdq_hex,quality,timestamp'")
    frames = []
    for item in items:
        if not isinstance(item, str) or item.count(",") != 2:
            raise InvalidSignal(
                f"vpdq frame must be 'pdq_hex,quality,timestamp', got {str(item)[:80]!r}"
            )
        pdq, quality, seconds = item.split(",")
        pdq = pdq.strip().lower()
        try:
            q = int(quality)
            ms = round(float(seconds) * 1000)
            bytes.fromhex(pdq)
        except ValueError as exc:
            raise InvalidSignal(f"vpdq frame {item[:80]!r}: {exc}") from exc
        if len(pdq) != 64 or not 0 <= q <= 100 or not 0 <= ms < 2**32:
            raise InvalidSignal(f"vpdq frame out of range: {item[:80]!r}")
        frames.append(VideoFrameHash(ms, q, pdq))
    frames.sort(key=lambda f: f.timestamp_ms)
    return serialise(frames)


def video_to_vpdq(value: str) -> str:
    """A Takedown video value as pytx writes a vpdq value (``vpdq_to_json``)."""
    from takedown.signals.video import parse  # numpy, PyAV: when used

    return json.dumps(
        [f"{f.pdq},{f.quality},{f.timestamp_ms / 1000:.{VPDQ_DIGITS}}" for f in parse(value)]
    )
