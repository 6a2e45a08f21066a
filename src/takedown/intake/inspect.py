"""What a content file is (from its magic bytes, never its name), image checks, text decoding."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import BinaryIO, Literal

from takedown.intake.records import IntakeError, Limits

Kind = Literal["image", "video", "text", "document", "other"]

PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
"""Formats check_image lets Pillow parse (a small, well-trodden attack surface)."""

_BMP_DIB_SIZES = (12, 40, 52, 56, 64, 108, 124)
_HTML = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]", re.I | re.S)


@dataclass(frozen=True)
class ContentInfo:
    kind: Kind
    media_type: str


def inspect_content(head: bytes, name: str, limits: Limits) -> ContentInfo:
    """Classify content from its first bytes (8 KiB is plenty). ``name`` is never trusted."""
    del name, limits  # the decision rests on bytes alone; kept for a stable signature
    found = _magic(head)
    if found is not None:
        return found
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not head.startswith(b"\xff\xfe\x00\x00"):
        return ContentInfo("text", "text/plain; charset=utf-16")
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if _HTML.match(body[:1024]):
        return ContentInfo("document", "text/html")
    if _looks_like_utf8_text(body):
        return ContentInfo("text", "text/plain; charset=utf-8")
    return ContentInfo("other", "application/octet-stream")


def _magic(head: bytes) -> ContentInfo | None:
    if head.startswith(b"\xff\xd8\xff"):
        return ContentInfo("image", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ContentInfo("image", "image/png")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ContentInfo("image", "image/gif")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return ContentInfo("image", "image/webp")
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return ContentInfo("video", "video/x-msvideo")
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
        return ContentInfo("image", "image/bmp")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return ContentInfo("image", "image/tiff")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
            return ContentInfo("other", "image/avif" if brand == b"avif" else "image/heic")
        if brand == b"qt  ":
            return ContentInfo("video", "video/quicktime")
        return ContentInfo("video", "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        is_webm = b"webm" in head[:64]
        return ContentInfo("video", "video/webm" if is_webm else "video/x-matroska")
    if head.startswith(b"%PDF-"):
        return ContentInfo("document", "application/pdf")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ContentInfo("other", "application/zip")
    if head.startswith(b"OggS"):
        return ContentInfo("other", "audio/ogg")
    return None


def _looks_like_utf8_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    for cut in range(4):  # the head may end inside a multi-byte character
        try:
            text = head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
        return controls * 100 <= len(text)
    return False


def check_image(stream: BinaryIO, limits: Limits) -> tuple[int, int]:
    """(width, height) from the image header alone; no pixel is decoded.

    Raises IntakeError "decompression bomb: ..." when width × height is over
    ``limits.max_image_pixels`` and "corrupt image: ..." when the header cannot be read.
    Pillow's own global bomb warning/error never escapes.
    """
    from PIL import Image  # loaded by the first image, not by every command that imports this

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb and EXIF warnings: we judge ourselves
            with Image.open(stream, formats=PILLOW_FORMATS) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        shown = f"{pixels.group(1)} pixels" if pixels else "image"
        raise IntakeError(
            f"decompression bomb: {shown} over the limit of {limits.max_image_pixels}"
        ) from None
    except Exception as exc:  # hostile headers raise all manner of things inside Pillow
        raise IntakeError(f"corrupt image: {type(exc).__name__}: {str(exc)[:200]}") from None
    if width <= 0 or height <= 0:
        raise IntakeError(f"corrupt image: {width}x{height} pixels")
    if width * height > limits.max_image_pixels:
        raise IntakeError(
            f"decompression bomb: {width}x{height} pixels over the limit of "
            f"{limits.max_image_pixels}"
        )
    return width, height


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM; anything else is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")) and not data.startswith(b"\xff\xfe\x00\x00"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IntakeError(f"text is not UTF-16 despite its BOM (byte {exc.start})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(
            f"text is not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it to UTF-8"
        ) from None
