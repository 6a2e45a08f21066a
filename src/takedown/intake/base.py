"""The importer interface, the built-in importers and source-format detection."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from takedown.intake.csvlist import CsvImporter
from takedown.intake.folder import FolderImporter
from takedown.intake.jsonl import JsonLinesImporter
from takedown.intake.records import IntakeError, Item, Limits
from takedown.intake.telegram import TelegramImporter
from takedown.intake.urllist import UrlListImporter
from takedown.intake.warc import WarcImporter


class Importer(Protocol):
    """A pure parser: a source in, Records and Rejections out (no database, no network)."""

    name: str

    def sniff(self, path: Path) -> bool:
        """Cheap guess: could ``path`` be in this importer's format?"""
        ...

    def parse(self, path: Path, limits: Limits, options: Mapping[str, str]) -> Iterator[Item]:
        """Every record of the source; IntakeError only if the source cannot be read at all."""
        ...


BUILTIN_IMPORTERS: dict[str, Importer] = {
    importer.name: importer
    for importer in (
        CsvImporter(),
        JsonLinesImporter(),
        UrlListImporter(),
        TelegramImporter(),
        WarcImporter(),
        FolderImporter(),
    )
}


def detect_format(path: Path) -> str:
    """The built-in format name for ``path``, judged by its shape, name and first bytes."""
    if path.is_dir():
        return "telegram" if (path / "result.json").is_file() else "folder"
    if not path.is_file():
        raise IntakeError(f"{path.name!r} is neither a file nor a folder")
    lower = path.name.lower()
    if lower.endswith(".zip"):
        return "folder"
    if BUILTIN_IMPORTERS["warc"].sniff(path):
        return "warc"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith((".csv", ".tsv")):
        return "csv"
    if lower.endswith((".txt", ".urls", ".lst")):
        return "urls"
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise IntakeError(f"cannot read {path.name!r}: {exc.strerror or exc}") from exc
    if zipfile.is_zipfile(path):
        return "folder"
    return _by_content(path.name, head)


def _by_content(name: str, head: bytes) -> str:
    lines = [line.strip() for line in head.split(b"\n")[:20] if line.strip()]
    if lines and len(head) == 4096:
        lines = lines[:-1] or lines  # the last line may be cut
    if lines and all(line.startswith(b"{") for line in lines):
        return "jsonl"
    body = [line for line in lines if not line.startswith(b"#")]
    if body and all(b"://" in line and b" " not in line for line in body):
        return "urls"
    if lines and lines[0].lstrip(b"\xef\xbb\xbf").count(b",") >= 1:
        return "csv"
    raise IntakeError(
        f"cannot tell the format of {name!r}; name it .csv, .jsonl, .txt, .warc, .zip "
        "or pass the format explicitly"
    )
