from __future__ import annotations

import io
import struct
import warnings
import zlib

import pytest
from PIL import Image

from takedown.intake.inspect import check_image, decode_text, inspect_content
from takedown.intake.records import IntakeError, Limits

LIMITS = Limits(max_image_pixels=1_000_000)


def png_bytes(width: int, height: int, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims a size its (tiny) data never holds."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("head", "kind", "media_type"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image", "image/png"),
        (b"GIF89a\x01\x00", "image", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image", "image/webp"),
        (
            b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00",
            "image",
            "image/bmp",
        ),
        (b"II*\x00\x08\x00", "image", "image/tiff"),
        (b"\x00\x00\x00\x18ftypmp42", "video", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  ", "video", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "video", "video/webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska", "video", "video/x-matroska"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video", "video/x-msvideo"),
        (b"%PDF-1.7\n", "document", "application/pdf"),
        (b"PK\x03\x04\x14\x00", "other", "application/zip"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html>", "document", "text/html"),
        (b"  <html lang='en'>", "document", "text/html"),
        ("plain words, ünïcode\n".encode(), "text", "text/plain; charset=utf-8"),
        (b"\xff\xfeh\x00i\x00", "text", "text/plain; charset=utf-16"),
        (b"\x00\x01\x02\x03binary", "other", "application/octet-stream"),
        (b"caf\xe9 latin-1", "other", "application/octet-stream"),
    ],
)
def test_content_is_classified_by_magic_bytes(head: bytes, kind: str, media_type: str) -> None:
    info = inspect_content(head, "misleading-name.txt", LIMITS)
    assert (info.kind, info.media_type) == (kind, media_type)


def test_text_cut_inside_a_character_is_still_text() -> None:
    head = ("é" * 100).encode()[:-1]
    assert inspect_content(head, "x", LIMITS).kind == "text"


def test_check_image_returns_the_size_without_decoding() -> None:
    assert check_image(io.BytesIO(png_bytes(40, 30)), LIMITS) == (40, 30)


def test_palette_bomb_over_our_limit_is_refused() -> None:
    data = png_bytes(2000, 1000, mode="P")  # 2 Mpx of zeros compresses to a few KiB
    assert len(data) < 50_000
    with pytest.raises(IntakeError, match=r"decompression bomb: 2000x1000 pixels over the limit"):
        check_image(io.BytesIO(data), LIMITS)


def test_crafted_header_past_pillows_own_limit_is_refused_without_warnings() -> None:
    data = png_header_claiming(100_000, 100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(IntakeError, match="decompression bomb"):
            check_image(io.BytesIO(data), Limits())


def test_header_between_pillows_warning_and_error_levels_raises_no_warning() -> None:
    data = png_header_claiming(12_000, 10_000)  # 120 Mpx: Pillow would only warn
    with pytest.raises(IntakeError, match="decompression bomb: 12000x10000 pixels"):
        check_image(io.BytesIO(data), Limits())


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, b"\xff\xd8\xff" + b"\x00" * 10, b"not an image", b""],
)
def test_corrupt_images_are_refused(data: bytes) -> None:
    with pytest.raises(IntakeError, match="corrupt image"):
        check_image(io.BytesIO(data), LIMITS)


def test_zero_sized_image_is_corrupt() -> None:
    with pytest.raises(IntakeError, match="corrupt image"):
        check_image(io.BytesIO(png_header_claiming(0, 10)), LIMITS)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("héllo".encode(), "héllo"),
        (b"\xef\xbb\xbfh\xc3\xa9", "hé"),
        ("hé".encode("utf-16"), "hé"),
        (b"\xfe\xff\x00h\x00i", "hi"),
    ],
)
def test_decode_text_accepts_utf8_and_utf16_with_bom(data: bytes, text: str) -> None:
    assert decode_text(data) == text


@pytest.mark.parametrize("data", [b"caf\xe9", b"\xc3\x28", "hé".encode("utf-16-le")[:-1] + b"\xff"])
def test_decode_text_refuses_other_encodings(data: bytes) -> None:
    with pytest.raises(IntakeError, match="text is not UTF-8"):
        decode_text(data)
