"""Exact cryptographic hashes of content bytes: SHA-256 and MD5."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import BinaryIO, ClassVar

from takedown.signals.base import InvalidSignal, SignalType, SignalValue

_HEX = frozenset("0123456789abcdef")


class _ExactHash(SignalType):
    algorithm: ClassVar[str]
    hex_length: ClassVar[int]
    content_kinds = frozenset({"*"})
    default_threshold = 0
    max_threshold = 0

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        digest = hashlib.new(self.algorithm, usedforsecurity=False)
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
        return [SignalValue(self.name, digest.hexdigest())]

    def validate(self, value: str) -> str:
        canonical = value.strip().lower()
        if len(canonical) != self.hex_length or not set(canonical) <= _HEX:
            raise InvalidSignal(
                f"{self.name} must be {self.hex_length} hex characters, got {value[:80]!r}"
            )
        return canonical

    def distance(self, a: str, b: str) -> int:
        return 0 if self.validate(a) == self.validate(b) else 1


class Sha256Signal(_ExactHash):
    name = "sha256"
    algorithm = "sha256"
    hex_length = 64

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        empty = hashlib.sha256(b"").hexdigest()
        other = hashlib.sha256(b"takedown").hexdigest()
        return [(empty, empty, True), (empty, other, False)]


class Md5Signal(_ExactHash):
    name = "md5"
    algorithm = "md5"
    hex_length = 32

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        empty = hashlib.md5(b"", usedforsecurity=False).hexdigest()
        other = hashlib.md5(b"takedown", usedforsecurity=False).hexdigest()
        return [(empty, empty, True), (empty, other, False)]
