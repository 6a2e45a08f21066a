"""Signal types that hash-sharing partners send and Takedown keeps and passes on, unmatched.

python-threatexchange (pytx) and HMA exchange signal types that Takedown does not compute from
content: ``url_md5`` (MD5 of a normalised URL), ``text_tlsh`` (TLSH of a text), ``pdq_ocr`` (a PDQ
hash plus the OCR text of the photo), ``trend_query`` (a keyword query), ``raw_text`` (the text
itself) and ThreatExchange's legacy ``HASH_TMK`` video hashes. A bank keeps them as given, so that
an export hands them back to pytx or HMA unchanged; no content is ever hashed to them
(``content_kinds`` is empty) and matching compares them only for equality.
"""

from __future__ import annotations

import json
import re
from abc import abstractmethod
from collections.abc import Sequence
from typing import BinaryIO, ClassVar

from takedown.signals.base import InvalidSignal, SignalType, SignalValue, UnhashableContent

#: The longest stored value of these types (a text, a query, a TMK feature vector in hex).
MAX_STORED = 1_000_000
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TLSH = re.compile(r"T1[0-9A-F]{70}")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")


class StoredSignal(SignalType):
    """A type that is kept and exported but never computed from content."""

    content_kinds: ClassVar[frozenset[str]] = frozenset()
    default_threshold = 0
    max_threshold = 0
    index_kind = "exact"

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        raise UnhashableContent(
            f"Takedown keeps {self.name} values from partners; it does not compute them"
        )

    def validate(self, value: str) -> str:
        if not isinstance(value, str):
            raise InvalidSignal(f"{self.name} must be text")
        if len(value) > MAX_STORED:
            raise InvalidSignal(f"{self.name} value is over {MAX_STORED:,} characters")
        if "\n" in value or "\r" in value or "\x00" in value:
            raise InvalidSignal(f"{self.name} value must be one line without NUL characters")
        return self._check(value)

    @abstractmethod
    def _check(self, value: str) -> str:
        """The type's own format check: the canonical value, or InvalidSignal."""

    def distance(self, a: str, b: str) -> int:
        return 0 if self.validate(a) == self.validate(b) else 1


class UrlMd5Signal(StoredSignal):
    """pytx's ``url_md5``: MD5 hex of the lower-cased URL without its scheme."""

    name = "url_md5"

    def _check(self, value: str) -> str:
        canonical = value.strip().lower()
        if not _HEX32.fullmatch(canonical):
            raise InvalidSignal(f"url_md5 must be 32 hex characters, got {value[:80]!r}")
        return canonical

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        return [
            ("5fc678d515ef3afaf62ce7b35350b50e", "5FC678D515EF3AFAF62CE7B35350B50E", True),
            ("5fc678d515ef3afaf62ce7b35350b50e", "d41d8cd98f00b204e9800998ecf8427e", False),
        ]


class TextTlshSignal(StoredSignal):
    """pytx's ``text_tlsh`` extension: ``T1`` and 70 upper-case hex characters."""

    name = "text_tlsh"

    def _check(self, value: str) -> str:
        canonical = value.strip().upper()
        if not _TLSH.fullmatch(canonical):
            raise InvalidSignal(f"text_tlsh must be 'T1' and 70 hex characters, got {value[:80]!r}")
        return canonical

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        one = "T1" + "5AC080DF73D005AD17ECD7529591792066064D3530D28F2030111578371F1D585743F4"
        two = "T1" + "0" * 70
        return [(one, one.lower().replace("t1", "T1", 1), True), (one, two, False)]


class PdqOcrSignal(StoredSignal):
    """pytx's ``pdq_ocr`` extension: ``<PDQ hex>,<OCR text>``."""

    name = "pdq_ocr"

    def _check(self, value: str) -> str:
        pdq, comma, text = value.strip().partition(",")
        pdq = pdq.strip().lower()
        if not comma or not _HEX64.fullmatch(pdq):
            raise InvalidSignal(f"pdq_ocr must be '<64 hex PDQ>,<text>', got {value[:80]!r}")
        return f"{pdq},{text}"

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        one = "78eef0ece0fea8678a330a3a06a423f8a7f537e31621926233ae639c9b9e1e0a,SAMPLE CAPTION"
        return [
            (one, one.replace("78eef0", "78EEF0"), True),
            (one, one.replace("SAMPLE", "OTHER"), False),
        ]


class TrendQuerySignal(StoredSignal):
    """pytx's ``trend_query``: a JSON keyword query (``and``/``or``/``not``), kept as written."""

    name = "trend_query"

    def _check(self, value: str) -> str:
        text = value.strip()
        try:
            query = json.loads(text)
        except ValueError as exc:
            raise InvalidSignal(f"trend_query must be a JSON object: {exc}") from exc
        if not isinstance(query, dict) or not query:
            raise InvalidSignal("trend_query must be a non-empty JSON object")
        return text

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        one = '{"and": [{"or": ["a", "b"]}]}'
        return [(one, f" {one} ", True), (one, '{"and": [{"or": ["c"]}]}', False)]


class RawTextSignal(StoredSignal):
    """pytx's ``raw_text``: the text itself. Stored as a JSON string literal (``"..."``) so that
    a value is never mistaken for a hash; the pytx writer unquotes it. Importing a pytx
    ``raw_text`` line also adds the text's ``text_exact`` and ``text_minhash`` values, which
    Takedown matches."""

    name = "raw_text"

    def _check(self, value: str) -> str:
        try:
            text = json.loads(value)
        except ValueError as exc:
            raise InvalidSignal(f"raw_text must be a JSON string literal: {exc}") from exc
        if not isinstance(text, str):
            raise InvalidSignal("raw_text must be a JSON string literal")
        return quote_text(text)

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        one = quote_text("All human beings")
        return [(one, f" {one} ", True), (one, quote_text("a c"), False)]


def quote_text(text: str) -> str:
    """The stored ``raw_text`` value of a text (or :class:`InvalidSignal`)."""
    text = text.strip()
    if not text:
        raise InvalidSignal("raw_text is empty")
    if any(c in text for c in "\x00\r\n"):
        raise InvalidSignal("raw_text must be one line without NUL characters")
    return json.dumps(text, ensure_ascii=False)


class TmkSignal(StoredSignal):
    """ThreatExchange's legacy ``HASH_TMK`` video hash (TMK+PDQF), as lower-case hex."""

    name = "tmk"

    def _check(self, value: str) -> str:
        canonical = value.strip().lower()
        if not _HEX.fullmatch(canonical):
            raise InvalidSignal(f"tmk must be an even number of hex characters, got {value[:80]!r}")
        return canonical

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        return [("00ff" * 8, "00FF" * 8, True), ("00ff" * 8, "ff00" * 8, False)]


EXCHANGE_SIGNAL_TYPES: tuple[type[SignalType], ...] = (
    UrlMd5Signal,
    TextTlshSignal,
    PdqOcrSignal,
    TrendQuerySignal,
    RawTextSignal,
    TmkSignal,
)
