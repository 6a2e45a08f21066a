"""Content-addressed, write-once blob store, verified on every read.

Layout: ``ROOT/ab/cd/abcdef…`` (the SHA-256 in hex). A blob is written to a temporary file in
the same folder, fsynced and renamed into place, so a crash never leaves a partial blob under
its final name. Reading re-hashes the bytes and refuses to serve a blob whose hash differs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
HEX = frozenset("0123456789abcdef")


class BlobError(Exception):
    """Base of blob store errors."""


class CorruptBlob(BlobError):
    """A stored blob whose bytes no longer hash to its name."""


class MissingBlob(BlobError):
    """No blob stored under that hash (never stored, or purged)."""


class TooLarge(BlobError):
    """Content over the configured size limit."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    md5: str
    size: int
    head: bytes
    created: bool


def _check_hex(sha256: str) -> str:
    if len(sha256) != 64 or not set(sha256) <= HEX:
        raise BlobError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
    return sha256


class BlobStore:
    def __init__(self, root: Path, *, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_for(self, sha256: str) -> Path:
        digest = _check_hex(sha256)
        return self.root / digest[:2] / digest[2:4] / digest

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_stream(self, stream: BinaryIO, *, head_bytes: int = 8192) -> StoredBlob:
        """Store the stream's bytes; return their hashes. Idempotent for identical bytes."""
        self.root.mkdir(parents=True, exist_ok=True)
        sha = hashlib.sha256()
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise TooLarge(f"content over the limit of {self.max_bytes} bytes")
                    if len(head) < head_bytes:
                        head += chunk[: head_bytes - len(head)]
                    sha.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = sha.hexdigest()
            final = self.path_for(digest)
            if final.is_file():
                tmp.unlink()
                return StoredBlob(digest, md5.hexdigest(), size, head, created=False)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            final.chmod(0o440)
            return StoredBlob(digest, md5.hexdigest(), size, head, created=True)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def put_bytes(self, data: bytes) -> StoredBlob:
        import io

        return self.put_stream(io.BytesIO(data))

    def iter_verified(self, sha256: str) -> Iterator[bytes]:
        """Yield the blob's chunks; raise CorruptBlob at the end if the bytes do not match.

        Callers that must not pass on unverified bytes use :meth:`read_verified`.
        """
        path = self.path_for(sha256)
        if not path.is_file():
            raise MissingBlob(f"no blob {sha256}")
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                yield chunk
        if digest.hexdigest() != sha256:
            raise CorruptBlob(f"blob {sha256} is corrupt: its bytes hash to {digest.hexdigest()}")

    def verify(self, sha256: str) -> None:
        for _ in self.iter_verified(sha256):
            pass

    def read_verified(self, sha256: str) -> bytes:
        """The whole blob, only after its hash has been checked."""
        return b"".join(self.iter_verified(sha256))

    def open_verified(self, sha256: str) -> BinaryIO:
        """A stream over a verified copy (spooled to a temporary file when large)."""
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        try:
            for chunk in self.iter_verified(sha256):
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def delete(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        if not path.exists():
            return False
        path.chmod(0o640)
        path.unlink()
        return True
