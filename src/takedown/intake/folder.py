"""A folder of files (walked, sorted, confined) or a ``.zip`` archive: one Record per file."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

from takedown.intake.reading import too_many
from takedown.intake.records import ContentRef, IntakeError, Item, Limits, Record, Rejection
from takedown.intake.safepath import regular_file_size, relative_parts, resolve_inside

BOMB_RATIO = 100
"""Entries that expand more than this many times are refused as zip bombs..."""
BOMB_MIN_BYTES = 1024 * 1024
"""...once they would expand past this size (tiny, very repetitive files are harmless)."""
ARCHIVE_TOTAL_FACTOR = 4
"""Default cap on an archive's total uncompressed size: this many times max_file_bytes."""


class FolderImporter:
    """Option ``max_total_bytes``: cap on a zip archive's total uncompressed size."""

    name = "folder"

    def sniff(self, path: Path) -> bool:
        return path.is_dir() or (path.is_file() and zipfile.is_zipfile(path))

    def parse(self, path: Path, limits: Limits, options: Mapping[str, str]) -> Iterator[Item]:
        if path.is_dir():
            items = _walk(path, limits)
        else:
            items = _zip(path, limits, _total_cap(limits, options))
        for count, item in enumerate(items, start=1):
            if too_many(count, limits.max_records):
                yield Rejection("source", f"over the limit of {limits.max_records} files")
                return
            yield item


def _total_cap(limits: Limits, options: Mapping[str, str]) -> int:
    given = options.get("max_total_bytes", "").strip()
    if not given:
        return ARCHIVE_TOTAL_FACTOR * limits.max_file_bytes
    if not given.isdigit():
        raise IntakeError(f"max_total_bytes {given[:40]!r} is not a whole number of bytes")
    return int(given)


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in relative.split("/"))


def _walk(root: Path, limits: Limits) -> Iterator[Item]:
    """Depth-first in sorted order; hidden names skipped; symbolic links never walked into."""
    base = root.resolve()
    pending: list[Iterator[os.DirEntry[str]]] = [_sorted_entries(base)]
    while pending:
        entry = next(pending[-1], None)
        if entry is None:
            pending.pop()
            continue
        if entry.name.startswith("."):
            continue
        relative = Path(entry.path).relative_to(base).as_posix()
        try:
            is_dir = entry.is_dir()  # follows links: a linked folder is reported, not walked
            is_link = entry.is_symlink()
        except OSError as exc:
            yield Rejection(relative, f"{relative}: cannot be read: {exc.strerror or exc}")
            continue
        if is_dir and is_link:
            yield Rejection(relative, f"{relative}: symbolic link to a folder, not followed")
        elif is_dir:
            try:
                pending.append(_sorted_entries(Path(entry.path)))
            except OSError as exc:
                yield Rejection(relative, f"{relative}: folder cannot be read: {exc.strerror}")
        else:
            yield _file(base, relative, limits)


def _sorted_entries(folder: Path) -> Iterator[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        listed = sorted(entries, key=lambda entry: entry.name)
    return iter(listed)


def _file(base: Path, relative: str, limits: Limits) -> Item:
    try:
        path = resolve_inside(base, relative)
        size = regular_file_size(path, relative, limits.max_file_bytes)
    except IntakeError as exc:
        return Rejection(relative, f"{relative}: {exc}")
    content = ContentRef(open=lambda: path.open("rb"), name=PurePosixPath(relative).name, size=size)
    return Record(ref=relative, content=content)


def _zip(path: Path, limits: Limits, total_cap: int) -> Iterator[Item]:
    try:
        shared = _SharedArchive(path)
        entries = sorted(shared.archive.infolist(), key=lambda info: info.filename)
    except Exception as exc:  # BadZipFile, NotImplementedError, struct errors, ...
        raise IntakeError(f"{path.name!r} is not a readable zip archive: {exc}") from None
    try:
        total = 0
        for info in entries:
            name = info.filename
            if name.endswith("/"):
                continue
            problem = _entry_problem(info, limits)
            if problem is None and _hidden(name.replace("\\", "/")):
                continue
            if problem is None and total + info.file_size > total_cap:
                problem = (
                    f"the archive expands past {total_cap} bytes in total; the rest is not read"
                )
                yield Rejection(name[:200], f"{name[:200]}: {problem}")
                return
            if problem is not None:
                yield Rejection(name[:200], f"{name[:200]}: {problem}")
                continue
            total += info.file_size
            content = ContentRef(
                open=shared.opener(info), name=PurePosixPath(name).name, size=info.file_size
            )
            yield Record(ref=name, content=content)
    finally:
        shared.close()


def _entry_problem(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    name = info.filename
    try:
        relative_parts(name)
    except IntakeError as exc:
        return f"unsafe entry name: {exc}"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link entry refused"
    if info.flag_bits & 0x1:
        return "encrypted entry cannot be read"
    if info.file_size > limits.max_file_bytes:
        return f"{info.file_size} bytes uncompressed, over the limit of {limits.max_file_bytes}"
    if info.file_size > BOMB_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
        return (
            f"expands {info.file_size} / {info.compress_size} bytes "
            f"(over {BOMB_RATIO}:1): refused as a zip bomb"
        )
    return None


class _SharedArchive:
    """One open ZipFile for every entry (reading the central directory once), reopened if an
    entry is opened after the parse has ended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.archive = zipfile.ZipFile(path)

    def close(self) -> None:
        self.archive.close()

    def opener(self, info: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
        def open_entry() -> BinaryIO:
            try:
                if self.archive.fp is None:
                    self.archive = zipfile.ZipFile(self.path)
                handle = self.archive.open(info)
            except OSError:
                raise
            except Exception as exc:  # BadZipFile, NotImplementedError (method), RuntimeError
                raise OSError(f"zip entry {info.filename!r} cannot be read: {exc}") from None
            return io.BufferedReader(_EntryStream(handle, info.file_size))

        return open_entry


class _EntryStream(io.RawIOBase):
    """A zip entry read no further than its declared size; decoding errors become OSError."""

    def __init__(self, inner: IO[bytes], size: int) -> None:
        super().__init__()
        self._inner = inner
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._left)
        if want <= 0:
            return 0
        try:
            data = self._inner.read(want)
        except OSError:
            raise
        except Exception as exc:  # BadZipFile (CRC), zlib/lzma/bz2 errors, EOFError
            raise OSError(f"zip entry is corrupt: {exc}") from None
        view[: len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()
