from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from takedown.intake.folder import FolderImporter
from takedown.intake.records import IntakeError, Item, Limits, Record, Rejection

LIMITS = Limits(max_file_bytes=4 * 1024 * 1024)


def parse(path: Path, limits: Limits = LIMITS, **options: str) -> list[Item]:
    return list(FolderImporter().parse(path, limits, options))


def read(item: Item) -> bytes:
    assert isinstance(item, Record) and item.content is not None
    with item.content.open() as handle:
        return handle.read()


def test_folder_files_become_records_sorted_and_hidden_skipped(tmp_path: Path) -> None:
    root = tmp_path / "seized"
    (root / "b" / ".cache").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"a")
    (root / "b" / "c.bin").write_bytes(b"c")
    (root / ".hidden").write_bytes(b"h")
    (root / "b" / ".cache" / "x").write_bytes(b"x")
    items = parse(root)
    assert [i.ref for i in items] == ["a.txt", "b/c.bin"]
    assert all(isinstance(i, Record) and i.url is None for i in items)
    assert read(items[1]) == b"c"


def test_symlinks_leaving_the_folder_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "seized"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    os.symlink(outside / "secret.txt", root / "a-link.txt")
    os.symlink(outside, root / "b-dir")
    (root / "c.txt").write_bytes(b"ok")
    items = parse(root)
    assert [(type(i).__name__, i.ref) for i in items] == [
        ("Rejection", "a-link.txt"),
        ("Rejection", "b-dir"),
        ("Record", "c.txt"),
    ]
    assert all(b"secret" not in read(i) for i in items if isinstance(i, Record))


def test_oversized_and_special_files_are_rejected(tmp_path: Path) -> None:
    root = tmp_path / "seized"
    root.mkdir()
    (root / "big.bin").write_bytes(b"x" * 101)
    os.mkfifo(root / "pipe")
    (root / "small.bin").write_bytes(b"x")
    items = parse(root, Limits(max_file_bytes=100))
    assert [(type(i).__name__, i.ref) for i in items] == [
        ("Rejection", "big.bin"),
        ("Rejection", "pipe"),
        ("Record", "small.bin"),
    ]
    assert isinstance(items[0], Rejection) and "over the limit of 100" in items[0].reason
    assert isinstance(items[1], Rejection) and "not a regular file" in items[1].reason


def test_zip_entries_become_records(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("z/last.txt", b"last")
        archive.writestr("first.txt", b"first")
        archive.writestr("nested.zip", b"PK\x05\x06" + b"\x00" * 18)
        archive.writestr("__MACOSX/._first.txt", b"junk")
    items = parse(path)
    assert [i.ref for i in items] == ["first.txt", "nested.zip", "z/last.txt"]
    assert read(items[0]) == b"first"
    assert read(items[2]) == b"last"
    assert read(items[1]).startswith(b"PK")  # nested archives are kept, not expanded


def test_zip_slip_symlink_and_bomb_entries_are_rejected_and_good_entries_arrive(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("../../escape.txt", b"slip")
        archive.writestr("/etc/cron.d/x", b"abs")
        link = zipfile.ZipInfo("link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("bomb.bin", b"\x00" * (3 * 1024 * 1024))
        archive.writestr("ok.txt", b"fine")
    items = parse(path)
    by_ref = {i.ref: i for i in items}
    assert isinstance(by_ref["ok.txt"], Record)
    assert read(by_ref["ok.txt"]) == b"fine"
    reasons = {i.ref: i.reason for i in items if isinstance(i, Rejection)}
    assert "climbs out" in reasons["../../escape.txt"]
    assert "absolute" in reasons["/etc/cron.d/x"]
    assert "symbolic link" in reasons["link"]
    assert "zip bomb" in reasons["bomb.bin"]
    assert len(items) == 5


def test_zip_entry_over_the_size_limit_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("big.bin", os.urandom(2000))
        archive.writestr("small.bin", b"s")
    items = parse(path, Limits(max_file_bytes=1000))
    assert isinstance(items[0], Rejection) and "over the limit of 1000" in items[0].reason
    assert read(items[1]) == b"s"


def test_zip_total_size_cap_stops_reading(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for number in range(5):
            archive.writestr(f"{number}.bin", os.urandom(100))
    items = parse(path, max_total_bytes="250")
    assert [type(i).__name__ for i in items] == ["Record", "Record", "Rejection"]
    assert isinstance(items[2], Rejection) and "in total" in items[2].reason


def test_zip_entry_lying_about_its_size_cannot_deliver_more(tmp_path: Path) -> None:
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.bin", b"A" * 100)
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")  # uncompressed size: 10
    path.write_bytes(bytes(data))
    (item,) = parse(path)
    assert isinstance(item, Record) and item.content is not None
    assert item.content.size == 10
    with item.content.open() as handle:
        try:
            data_read = handle.read()
        except OSError:
            return  # refused outright (bad CRC) is fine too
    assert len(data_read) <= 10


def test_malformed_zip_raises_intake_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with pytest.raises(IntakeError):
        parse(path)


def test_zip_entries_can_be_read_while_the_archive_is_being_walked(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(3):
            archive.writestr(f"{number}.txt", f"body {number}".encode())
    seen = [read(item) for item in FolderImporter().parse(path, LIMITS, {})]
    assert seen == [b"body 0", b"body 1", b"body 2"]
