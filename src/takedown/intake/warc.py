"""WARC 1.0/1.1 files (gzipped or not): ``response`` and ``resource`` records become Records."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import weakref
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator

from takedown.intake.fields import FieldError, parse_seen_at
from takedown.intake.reading import too_many
from takedown.intake.records import ContentRef, IntakeError, Item, Limits, Record, Rejection

_CHUNK = 64 * 1024
_IN_MEMORY = 1024 * 1024
"""Payloads up to this size stay in memory; larger ones are spooled to a temporary file."""

_KEPT = ("response", "resource")


class WarcImporter:
    name = "warc"

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        lower = path.name.lower()
        if lower.endswith((".warc", ".warc.gz")):
            return True
        try:
            with path.open("rb") as handle:
                head = handle.read(512)
            if head.startswith(b"\x1f\x8b"):
                head = zlib.decompressobj(wbits=31).decompress(head, 16)
        except (OSError, zlib.error):
            return False
        return head.startswith(b"WARC/")

    def parse(self, path: Path, limits: Limits, options: Mapping[str, str]) -> Iterator[Item]:
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise IntakeError(f"cannot open {path.name!r}: {exc.strerror or exc}") from exc
        with stream:
            if not stream.read(1):
                raise IntakeError(f"{path.name!r} is empty")
            stream.seek(0)
            yield from _records(stream, path.name, limits)


def _records(stream: BinaryIO, label: str, limits: Limits) -> Iterator[Item]:
    archive = ArchiveIterator(stream)
    gzip_state = _watch_gzip_end(archive)
    number = 0
    while True:
        try:
            record = next(archive)
        except StopIteration:
            break
        except Exception as exc:  # warcio raises many types on corrupt input
            if number == 0:
                raise IntakeError(f"{label!r} is not a readable WARC file: {exc}") from None
            yield _unreadable(number, str(exc))
            return
        if getattr(record, "format", "warc") != "warc":
            if number == 0:
                raise IntakeError(f"{label!r} is not a WARC file (no WARC/1.x header)")
            yield _unreadable(number, "a record without a WARC/1.x header")
            return
        number += 1
        if too_many(number, limits.max_records):
            yield Rejection("source", f"over the limit of {limits.max_records} records")
            return
        declared = str(record.rec_headers.get_header("Content-Length") or "").strip()
        if record.length is None or not declared.isdigit():
            yield Rejection(
                f"record {number}",
                f"record {number}: WARC headers are incomplete (no Content-Length); "
                "the file may be truncated",
            )
        elif record.rec_type in _KEPT:
            yield _item(record, number, limits)
    if gzip_state.get("truncated"):
        if number == 0:
            raise IntakeError(f"{label!r} is not a readable WARC file: gzip stream is truncated")
        yield _unreadable(number, "the gzip stream is truncated")
    elif _left_over(stream, archive):
        # warcio takes a record cut inside its header block for the end of the file
        if number == 0:
            raise IntakeError(f"{label!r} is not a readable WARC file: the first record is cut")
        yield Rejection(
            f"record {number + 1}",
            f"record {number + 1}: truncated inside its WARC headers (the file ends there)",
        )


def _left_over(stream: BinaryIO, archive: Any) -> bool:
    """True if bytes other than blank lines follow the last record warcio returned."""
    try:
        end = int(archive.offset)
        stream.seek(end)
        rest = stream.read(65536)
    except (OSError, ValueError, TypeError):
        return False
    return bool(rest.strip(b"\r\n \t"))


def _unreadable(number: int, why: str) -> Rejection:
    return Rejection(f"record {number + 1}", f"WARC unreadable after record {number}: {why[:300]}")


def _watch_gzip_end(archive: Any) -> dict[str, bool]:
    """Notice a gzip member that ends before its end marker (warcio stops silently there)."""
    state: dict[str, bool] = {}
    reader = archive.reader
    close = reader.close_decompressor

    def close_and_note() -> None:
        decompressor = reader.decompressor
        if decompressor is not None and not getattr(decompressor, "eof", True):
            state["truncated"] = True
        close()

    reader.close_decompressor = close_and_note
    return state


def _item(record: Any, number: int, limits: Limits) -> Item:
    ref = f"record {number}"
    headers = record.rec_headers
    uri = headers.get_header("WARC-Target-URI") or None
    if uri is not None and len(uri) > limits.max_url_chars:
        return Rejection(ref, f"{ref}: WARC-Target-URI over {limits.max_url_chars} characters")
    try:
        date = headers.get_header("WARC-Date")
        seen_at = parse_seen_at(date) if date else None
    except FieldError as exc:
        return Rejection(ref, f"{ref}: WARC-Date: {exc}")
    try:
        payload = _spool(record.content_stream(), limits.max_file_bytes)
    except Exception as exc:  # chunked/gzip decoding errors from warcio
        return Rejection(ref, f"{ref}: payload cannot be decoded: {str(exc)[:200]}")
    if payload is None:
        return Rejection(
            ref, f"{ref}: payload over the limit of {limits.max_file_bytes} bytes ({uri})"
        )
    missing = getattr(record.raw_stream, "limit", 0)
    if isinstance(missing, int) and missing > 0:
        return Rejection(
            ref,
            f"{ref}: truncated: {missing} of {record.length} bytes are missing",
            payload.head(),
        )
    http = record.http_headers
    if record.rec_type == "response" and http is not None:
        media_type = http.get_header("Content-Type")
    else:
        media_type = headers.get_header("Content-Type")
    extra = {"warc_record": ref}
    if record.rec_type == "response" and http is not None:
        extra["http_status"] = str(http.get_statuscode())[:16]
    record_id = headers.get_header("WARC-Record-ID")
    if record_id:
        extra["warc_record_id"] = str(record_id)[: limits.max_field_chars]
    name = (uri or "").rstrip("/").rsplit("/", 1)[-1][:200] or f"record-{number}"
    content = ContentRef(
        open=payload.open,
        name=name,
        size=payload.size,
        media_type=media_type[:128] if isinstance(media_type, str) else None,
    )
    return Record(ref=ref, url=uri, seen_at=seen_at, content=content, extra=extra)


class _Payload:
    """Payload bytes kept in memory or in a temporary file deleted with this object."""

    def __init__(self, data: bytes | None, path: str | None, size: int) -> None:
        self._data = data
        self._path = path
        self.size = size
        if path is not None:
            weakref.finalize(self, _unlink, path)

    def open(self) -> BinaryIO:
        if self._path is not None:
            return open(self._path, "rb")  # the caller closes it
        return io.BytesIO(self._data or b"")

    def head(self) -> bytes:
        with self.open() as handle:
            return handle.read(4096)


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _spool(stream: BinaryIO, limit: int) -> _Payload | None:
    """Read a payload in chunks; None as soon as it passes ``limit`` bytes."""
    buffer = bytearray()
    spill: Any = None
    size = 0
    try:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                if spill is not None:
                    spill.close()
                    _unlink(spill.name)
                return None
            if spill is not None:
                spill.write(chunk)
                continue
            buffer += chunk
            if len(buffer) > _IN_MEMORY:
                spill = tempfile.NamedTemporaryFile(prefix="takedown-warc-", delete=False)  # noqa: SIM115
                spill.write(buffer)
                buffer = bytearray()
    except BaseException:
        if spill is not None:
            spill.close()
            _unlink(spill.name)
        raise
    if spill is None:
        return _Payload(bytes(buffer), None, size)
    spill.close()
    return _Payload(None, spill.name, size)
