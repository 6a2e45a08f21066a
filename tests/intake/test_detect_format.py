from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from warcio.warcwriter import WARCWriter

from takedown.intake.base import BUILTIN_IMPORTERS, detect_format
from takedown.intake.records import IntakeError


def warc_bytes() -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    body = b"x"
    record = writer.create_warc_record(
        "https://example.test/", "resource", payload=io.BytesIO(body), length=len(body)
    )
    writer.write_record(record)
    return buffer.getvalue()


def test_builtin_importers_are_registered_by_name() -> None:
    assert set(BUILTIN_IMPORTERS) == {"csv", "jsonl", "urls", "telegram", "warc", "folder"}
    assert all(name == importer.name for name, importer in BUILTIN_IMPORTERS.items())


def test_folders_are_telegram_exports_or_plain_folders(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    export = tmp_path / "export"
    export.mkdir()
    (export / "result.json").write_text("{}")
    assert detect_format(plain) == "folder"
    assert detect_format(export) == "telegram"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.csv", b"url\n", "csv"),
        ("a.jsonl", b"{}\n", "jsonl"),
        ("a.ndjson", b"{}\n", "jsonl"),
        ("a.txt", b"https://x\n", "urls"),
        ("a.warc", b"WARC/1.1\r\n", "warc"),
        ("download", None, "warc"),
        ("items.dat", b'{"url": "https://x"}\n{"url": "https://y"}\n', "jsonl"),
        ("list.dat", b"# list\nhttps://x/1\nhxxps://y[.]z/2\n", "urls"),
        ("sheet.dat", b"url,notes\nhttps://x,y\n", "csv"),
    ],
)
def test_files_are_recognised_by_name_then_content(
    tmp_path: Path, name: str, data: bytes | None, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(warc_bytes() if data is None else data)
    assert detect_format(path) == expected


def test_zip_archives_are_folders(tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", b"a")
    assert detect_format(path) == "folder"


@pytest.mark.parametrize("data", [b"\x00\x01\x02binary", b"just some words\n", b""])
def test_unknown_content_raises_intake_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "mystery.bin"
    path.write_bytes(data)
    with pytest.raises(IntakeError, match="cannot tell the format"):
        detect_format(path)


def test_missing_source_raises_intake_error(tmp_path: Path) -> None:
    with pytest.raises(IntakeError):
        detect_format(tmp_path / "nope.csv")
