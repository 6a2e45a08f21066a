"""Resolve a path a source names (relative to a folder) without ever leaving that folder."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from takedown.intake.records import IntakeError

_DRIVE = re.compile(r"^[A-Za-z]:")


def resolve_inside(root: Path, relative: str) -> Path:
    """The real path of ``relative`` under ``root``; IntakeError if it could leave ``root``.

    Refuses empty names, NUL and control characters, absolute paths (POSIX, Windows drive or
    UNC), any ``..`` component, and symbolic links that resolve outside ``root``.
    Backslashes are read as separators (exports made on Windows). The path need not exist.
    """
    parts = relative_parts(relative)
    base = root.resolve()
    try:
        target = base.joinpath(*parts).resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # symlink loops, over-long names
        raise IntakeError(f"path {relative[:200]!r} cannot be resolved: {exc}") from exc
    if not target.is_relative_to(base):
        raise IntakeError(f"path {relative[:200]!r} leads outside its folder (symbolic link)")
    return target


def relative_parts(relative: str) -> list[str]:
    """The components of a safe relative path; IntakeError for anything that could escape."""
    if not relative or not relative.strip():
        raise IntakeError("empty path")
    if any(ord(ch) < 32 for ch in relative):
        raise IntakeError(f"path {relative[:200]!r} contains a control or NUL character")
    cleaned = relative.replace("\\", "/")
    if cleaned.startswith("/") or _DRIVE.match(cleaned):
        raise IntakeError(f"path {relative[:200]!r} is absolute; only relative paths are allowed")
    parts = [part for part in cleaned.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise IntakeError(f"path {relative[:200]!r} climbs out of its folder ('..')")
    if not parts:
        raise IntakeError(f"path {relative[:200]!r} names no file")
    return parts


def regular_file_size(path: Path, label: str, max_bytes: int) -> int:
    """Size of a regular file, or IntakeError if missing, not a regular file or too large."""
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise IntakeError(f"file {label!r} does not exist") from exc
    except OSError as exc:
        raise IntakeError(f"file {label!r} cannot be read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise IntakeError(f"{label!r} is not a regular file")
    if info.st_size > max_bytes:
        raise IntakeError(f"file {label!r} is {info.st_size} bytes, over the limit of {max_bytes}")
    return info.st_size
