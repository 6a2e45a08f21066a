"""The signal type contract: hash content, validate and serialise values, compare them.

A signal type is a small class. Built-in types register through the same plugin hook as
third-party ones (see ``takedown.plugins``). Every registered type must pass the shared
contract test in ``tests/signals/contract.py``.

Values are serialised as strings (lower-case hex for hashes) so that they can be stored,
exported and exchanged unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from PIL import Image


class SignalError(ValueError):
    """A value or a piece of content that a signal type cannot handle."""


class InvalidSignal(SignalError):
    """A serialised signal value of the wrong length or alphabet."""


class UnhashableContent(SignalError):
    """Content that this signal type cannot hash (corrupt, truncated, empty, too large)."""


@dataclass(frozen=True)
class SignalValue:
    """One computed signal of one content.

    ``quality`` is the signal type's own confidence (PDQ's 0-100 quality); ``low_quality``
    marks values that are kept but should not be trusted on their own. ``variant`` names
    alternative hashes of the same content (e.g. PDQ's dihedral "rotate-90"); the primary
    value has ``variant`` ``""``. A bank keeps the primary value and the variants marked
    ``banked`` (the keypoints' layout, which verifying a keypoint match needs).
    ``algorithm`` is the signal type's algorithm version when it has one (stored with the
    value, so values of an older variant can be found and re-computed).
    """

    signal_type: str
    value: str
    quality: int | None = None
    low_quality: bool = False
    variant: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    banked: bool = False
    algorithm: str | None = None

    @property
    def bankable(self) -> bool:
        return self.variant == "" or self.banked


class SignalType(ABC):
    """Base of every signal type."""

    #: Unique, stable name used in the store, banks, exports and on the command line.
    name: ClassVar[str]
    #: Content kinds this type hashes: "image", "video", "text", "document", "other"; "*" = any.
    content_kinds: ClassVar[frozenset[str]]
    #: Default match threshold (a distance: a match when distance <= threshold).
    default_threshold: ClassVar[int] = 0
    #: Largest threshold this type accepts.
    max_threshold: ClassVar[int] = 0
    #: How matching indexes this type: "exact" (equal values), "hamming256" (256-bit hex
    #: hashes in a Hamming index) or "pairwise" (``distance`` against every candidate).
    index_kind: ClassVar[str] = "exact"
    #: Version of the hashing algorithm, recorded with stored values (``None``: unversioned).
    #: Bump it when the same content would hash differently; ``takedown signals rehash``
    #: re-computes stored values of other versions.
    algorithm_version: ClassVar[str | None] = None

    @abstractmethod
    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        """Compute this type's signals of the content read from ``stream``."""

    @abstractmethod
    def validate(self, value: str) -> str:
        """Return ``value`` in canonical form or raise :class:`InvalidSignal`."""

    @abstractmethod
    def distance(self, a: str, b: str) -> int:
        """Distance between two canonical values (0 = identical)."""

    def matches(self, a: str, b: str, threshold: int | None = None) -> bool:
        limit = self.default_threshold if threshold is None else threshold
        return self.distance(a, b) <= limit

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        """(value, other value, whether they match at the default threshold) for tests."""
        return ()


@runtime_checkable
class ImageHasher(Protocol):
    """A signal type that also hashes an already decoded still image: ingest then decodes each
    image once (``takedown.signals.imageio.open_image``, reduced) for every such type instead
    of once per type. ``hash_image`` must give the values ``hash_stream`` gives for the file the
    image was decoded from that way."""

    name: str

    def hash_image(self, image: Image.Image) -> Sequence[SignalValue]: ...
