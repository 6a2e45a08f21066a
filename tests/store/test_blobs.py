from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from takedown.store.blobs import BlobError, BlobStore, CorruptBlob, MissingBlob, TooLarge


def test_content_is_stored_once_under_its_sha256(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    first = store.put_bytes(b"same bytes")
    second = store.put_bytes(b"same bytes")
    assert first.sha256 == hashlib.sha256(b"same bytes").hexdigest()
    assert first.created and not second.created
    assert store.read_verified(first.sha256) == b"same bytes"
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_corrupted_blob_is_reported_and_never_served(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = store.put_bytes(b"evidence")
    path = store.path_for(blob.sha256)
    path.chmod(0o640)
    path.write_bytes(b"evidencf")
    with pytest.raises(CorruptBlob, match="corrupt"):
        store.read_verified(blob.sha256)
    with pytest.raises(CorruptBlob):
        store.open_verified(blob.sha256)


def test_content_over_the_limit_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, max_bytes=10)
    with pytest.raises(TooLarge):
        store.put_stream(io.BytesIO(b"x" * 11))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_missing_and_malformed_names_are_errors(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(MissingBlob):
        store.read_verified("0" * 64)
    with pytest.raises(BlobError):
        store.path_for("../../etc/passwd")


def test_md5_and_head_are_reported(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = store.put_bytes(b"\x89PNG rest")
    assert blob.md5 == hashlib.md5(b"\x89PNG rest", usedforsecurity=False).hexdigest()
    assert blob.head.startswith(b"\x89PNG")
    assert blob.size == 9
