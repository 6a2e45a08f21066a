"""The ``url`` signal: a canonical URL (see ``takedown.urls``), matched exactly.

It fingerprints where content is, not its bytes: banks of known URLs match sightings whose
canonical URL is equal. Canonicalisation is offline: nothing is ever fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from takedown.signals.base import InvalidSignal, SignalType, SignalValue, UnhashableContent
from takedown.urls import InvalidURL, canonicalize


class UrlSignal(SignalType):
    name = "url"
    content_kinds = frozenset()
    default_threshold = 0
    max_threshold = 0
    index_kind = "exact"

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        raise UnhashableContent("the url signal fingerprints URLs, not content bytes")

    def hash_url(self, raw: str) -> SignalValue:
        return SignalValue(self.name, self.validate(raw))

    def validate(self, value: str) -> str:
        try:
            return canonicalize(value).url
        except InvalidURL as exc:
            raise InvalidSignal(f"not a usable URL: {exc}") from exc

    def distance(self, a: str, b: str) -> int:
        return 0 if self.validate(a) == self.validate(b) else 1

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        return [
            ("https://T.me/s/Example_Channel/12", "https://t.me/example_channel/12", True),
            ("https://example.org/a", "https://example.org/b", False),
        ]
