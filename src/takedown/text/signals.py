"""Text signal types (content kind "text"), registered like every built-in signal type.

- ``text_exact``: SHA-256 of the normalised text (exact after normalisation); each paragraph
  of a multi-paragraph text is also hashed (variants ``p1``, ``p2`` ...), so that a statement
  quoted whole inside a newsletter is linked to the statement.
- ``text_minhash``: MinHash sketch of character 5-gram shingles (edited copies);
  distance = 100 x (1 - estimated Jaccard).
- ``text_spin``: per-sentence embeddings and fact keys (spun rewrites);
  distance = 100 x (1 - in-order alignment score).
- ``text_anchors``: language-independent anchors (translations);
  distance = 100 x (1 - anchor similarity).

Every value carries the text's language (py3langid) and any marks (enormous, mixed
encodings, no words) in ``meta``. Texts that cannot be hashed raise ``UnhashableContent`` with
the reason (binary data, nothing left after normalisation, no words, no sentences).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from takedown.signals.base import InvalidSignal, SignalType, SignalValue, UnhashableContent
from takedown.text import anchors, minhash, spin
from takedown.text.candidates import AnchorSet, MinHashSet, SpinSet
from takedown.text.decode import MAX_TEXT_BYTES, DecodedText, NotText, decode_bytes
from takedown.text.langid import identify
from takedown.text.normalise import Normalised, analyse

#: Texts longer than this (characters) are matched on their first MAX_MATCH_CHARS (marked).
MAX_MATCH_CHARS = 1_000_000
MAX_PARAGRAPH_VARIANTS = 32
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class PreparedText:
    decoded: DecodedText
    text: str  # what is matched: the decoded text, at most MAX_MATCH_CHARS
    normalised: Normalised
    language: str
    marks: tuple[str, ...]

    def meta(self) -> dict[str, str]:
        out = {"lang": self.language, "encoding": self.decoded.encoding}
        if self.marks:
            out["marks"] = "; ".join(self.marks)
        return out

    @property
    def truncated(self) -> bool:
        return self.decoded.truncated or len(self.decoded.text) > MAX_MATCH_CHARS


def prepare_text(text: str, decoded: DecodedText | None = None) -> PreparedText:
    decoded = decoded or DecodedText(text, "str")
    marks = list(decoded.marks)
    if len(text) > MAX_MATCH_CHARS:
        marks.append(
            f"enormous text: {len(text)} characters, matched on the first {MAX_MATCH_CHARS}"
        )
        text = text[:MAX_MATCH_CHARS]
    norm = analyse(text)
    marks.extend(norm.marks)
    return PreparedText(decoded, text, norm, identify(text).code, tuple(marks))


@lru_cache(maxsize=8)
def _prepare_bytes(data: bytes) -> PreparedText:
    """One decoding and normalisation per content for all four text signal types."""
    try:
        decoded = decode_bytes(data)
    except NotText as exc:
        raise UnhashableContent(str(exc)) from exc
    return prepare_text(decoded.text, decoded)


def prepare_stream(stream: BinaryIO) -> PreparedText:
    """Decode and normalise a text once for all text signal types (cached by content)."""
    data = stream.read(MAX_TEXT_BYTES + 1)
    extra = 0
    while chunk := stream.read(1024 * 1024):
        extra += len(chunk)
    prepared = _prepare_bytes(data)
    if extra:
        mark = f"enormous text: {len(data) + extra} bytes in all"
        return PreparedText(
            prepared.decoded,
            prepared.text,
            prepared.normalised,
            prepared.language,
            (*prepared.marks, mark),
        )
    return prepared


class _TextSignal(SignalType):
    content_kinds = frozenset({"text"})
    max_threshold = 100
    prefix = ""

    def _check(self, value: str) -> str:
        text = value.strip()
        if not text.startswith(self.prefix):
            raise InvalidSignal(f"{self.name} value must start with {self.prefix!r}")
        return text


class TextExactSignal(SignalType):
    """SHA-256 of the normalised text, and of each paragraph (variants ``p1`` ...)."""

    name = "text_exact"
    content_kinds = frozenset({"text"})
    default_threshold = 0
    max_threshold = 0
    index_kind = "exact"

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        prepared = prepare_stream(stream)
        norm = prepared.normalised
        if not norm.text.strip():
            raise UnhashableContent("nothing left after normalisation: only invisible characters")
        meta = prepared.meta()
        out = [SignalValue(self.name, norm.sha256, None, prepared.truncated, "", meta)]
        if len(norm.paragraph_sha256) > 1:
            for number, digest in enumerate(norm.paragraph_sha256[:MAX_PARAGRAPH_VARIANTS], 1):
                out.append(SignalValue(self.name, digest, None, False, f"p{number}"))
        return out

    def validate(self, value: str) -> str:
        canonical = value.strip().lower()
        if len(canonical) != 64 or not set(canonical) <= _HEX:
            raise InvalidSignal(f"text_exact must be 64 hex characters, got {value[:80]!r}")
        return canonical

    def distance(self, a: str, b: str) -> int:
        return 0 if self.validate(a) == self.validate(b) else 1

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        one = analyse("Floods in Valdoria").sha256
        same = analyse("FLOODS  in\u200b Valdoria").sha256
        other = analyse("Sunny in Valdoria").sha256
        return [(one, same, True), (one, other, False)]


class TextMinHashSignal(_TextSignal):
    """MinHash of character 5-gram shingles (edited copies)."""

    name = "text_minhash"
    prefix = minhash.PREFIX
    default_threshold = 40  # estimated Jaccard >= 0.6
    index_kind = "pairwise"

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        prepared = prepare_stream(stream)
        sig = minhash.sketch(prepared.normalised.text)
        if bool((sig == minhash.EMPTY_BIN).all()):
            raise UnhashableContent("no words to shingle (only emoji, symbols or invisible text)")
        facts = minhash.fact_hashes(anchors.facts(prepared.text))
        value = minhash.serialise(sig, facts)
        return [SignalValue(self.name, value, None, prepared.truncated, "", prepared.meta())]

    def candidate_set(
        self, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]
    ) -> MinHashSet:
        """An LSH index for matching (see takedown.text.candidates)."""
        return MinHashSet(ids, values, owners)

    def validate(self, value: str) -> str:
        try:
            sig, facts = minhash.decode(self._check(value))
        except ValueError as exc:
            raise InvalidSignal(f"{self.name}: {exc}") from exc
        return minhash.serialise(sig, facts.tolist())

    def distance(self, a: str, b: str) -> int:
        return minhash.value_distance(minhash.decode(a), minhash.decode(b))

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        from takedown.text.normalise import normalise

        base = "The river flooded the lower town of Valdoria on Tuesday; 240 families left."
        typo = "The rivr flooded the lower town of Valdoira on Tuesday; 240 families left!"
        other = "Lantern Weekly bulletin 12 covers market prices and the weather this week."
        sk = [
            minhash.serialise(minhash.sketch(normalise(t)), minhash.fact_hashes(anchors.facts(t)))
            for t in (base, typo, other)
        ]
        return [(sk[0], sk[1], True), (sk[0], sk[2], False)]


class TextSpinSignal(_TextSignal):
    """Per-sentence embeddings and fact keys (spun rewrites), aligned in order."""

    name = "text_spin"
    prefix = spin.PREFIX
    default_threshold = 55  # alignment score >= 0.45
    index_kind = "pairwise"

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        prepared = prepare_stream(stream)
        try:
            sketch = spin.sketch(prepared.text)
        except spin.EmbeddingUnavailable as exc:
            raise UnhashableContent(str(exc)) from exc
        if not len(sketch):
            raise UnhashableContent("no sentences with words")
        meta = prepared.meta()
        meta["sentences"] = str(len(spin.sentences(prepared.text)))
        return [SignalValue(self.name, spin.serialise(sketch), None, prepared.truncated, "", meta)]

    def candidate_set(
        self, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]
    ) -> SpinSet:
        """An inverted index of fact keys for matching (see takedown.text.candidates)."""
        return SpinSet(ids, values, owners)

    def validate(self, value: str) -> str:
        try:
            return spin.serialise(spin.parse(self._check(value)))
        except ValueError as exc:
            raise InvalidSignal(f"{self.name}: {exc}") from exc

    def distance(self, a: str, b: str) -> int:
        sa, sb = spin.parse(self.validate(a)), spin.parse(self.validate(b))
        score = min(spin.align(sa, sb).score, spin.align(sb, sa).score)
        return round(100 * (1.0 - score))

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        def unit(i: int) -> npt.NDArray[np.float32]:
            v = np.zeros(spin.DIM, dtype=np.float32)
            v[i] = 1.0
            return v

        a = spin.SentenceSketch(np.stack([unit(0), unit(1)]), (7, 0))
        b = spin.SentenceSketch(np.stack([unit(2), unit(3)]), (9, 0))
        return [
            (spin.serialise(a), spin.serialise(a), True),
            (spin.serialise(a), spin.serialise(b), False),
        ]


class TextAnchorsSignal(_TextSignal):
    """Language-independent anchors (translations)."""

    name = "text_anchors"
    prefix = anchors.PREFIX
    default_threshold = 40  # anchor similarity >= 0.6
    index_kind = "pairwise"

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        prepared = prepare_stream(stream)
        found = replace(anchors.extract(prepared.text), language=prepared.language)
        meta = prepared.meta()
        meta["anchor_weight"] = f"{sum(found.strong.values()):.1f}"
        low = sum(found.strong.values()) < anchors.MIN_WEIGHT
        if low:
            meta["marks"] = "; ".join([*prepared.marks, "too few anchors to link translations"])
        return [SignalValue(self.name, anchors.serialise(found), None, low, "", meta)]

    def candidate_set(
        self, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]
    ) -> AnchorSet:
        """An inverted index of strong anchors for matching (see takedown.text.candidates)."""
        return AnchorSet(ids, values, owners)

    def validate(self, value: str) -> str:
        try:
            return anchors.serialise(anchors.parse(self._check(value)))
        except ValueError as exc:
            raise InvalidSignal(f"{self.name}: {exc}") from exc

    def distance(self, a: str, b: str) -> int:
        pa, pb = anchors.parse(self.validate(a)), anchors.parse(self.validate(b))
        return round(100 * (1.0 - anchors.similarity(pa, pb).score))

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        en = (
            "Valdoria flood on 2026-04-12: 1,240 families left Northmere. See example.org/f #Flood1"
        )
        fr = (
            "Crue à Valdoria le 12/04/2026 : 1 240 familles ont quitté Northmere. "
            "example.org/f #Flood1"
        )
        other = "Market report 2026-05-01: 17 stalls, 3 closed. See example.net/m #Market"
        val = [anchors.serialise(anchors.extract(t)) for t in (en, fr, other)]
        return [(val[0], val[1], True), (val[0], val[2], False)]


TEXT_SIGNAL_TYPES: list[type[SignalType]] = [
    TextExactSignal,
    TextMinHashSignal,
    TextSpinSignal,
    TextAnchorsSignal,
]
