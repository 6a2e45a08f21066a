from __future__ import annotations

import os
from pathlib import Path

import pytest

from takedown.intake.records import IntakeError
from takedown.intake.safepath import regular_file_size, resolve_inside


def test_relative_path_inside_the_root_resolves(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.jpg").write_bytes(b"x")
    assert resolve_inside(tmp_path, "media/a.jpg") == (tmp_path / "media" / "a.jpg").resolve()


def test_windows_separators_are_read_as_folders(tmp_path: Path) -> None:
    assert resolve_inside(tmp_path, "media\\a.jpg") == (tmp_path / "media" / "a.jpg").resolve()


@pytest.mark.parametrize(
    "name",
    [
        "../secret",
        "media/../../secret",
        "/etc/passwd",
        "C:/Windows/win.ini",
        "\\\\host\\share",
        "a\x00b",
        "",
        "  ",
        ".",
        "..\\x",
    ],
)
def test_paths_that_could_escape_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(IntakeError):
        resolve_inside(tmp_path, name)


def test_symlink_pointing_outside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    with pytest.raises(IntakeError, match="outside"):
        resolve_inside(root, "link.txt")


def test_symlink_staying_inside_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("ok")
    os.symlink(tmp_path / "real.txt", tmp_path / "link.txt")
    assert resolve_inside(tmp_path, "link.txt") == (tmp_path / "real.txt").resolve()


def test_missing_and_oversized_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 11)
    with pytest.raises(IntakeError, match="does not exist"):
        regular_file_size(tmp_path / "nope", "nope", 10)
    with pytest.raises(IntakeError, match="over the limit of 10"):
        regular_file_size(tmp_path / "big.bin", "big.bin", 10)
    with pytest.raises(IntakeError, match="not a regular file"):
        regular_file_size(tmp_path, "folder", 10)
    assert regular_file_size(tmp_path / "big.bin", "big.bin", 11) == 11
