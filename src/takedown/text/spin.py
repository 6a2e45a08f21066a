"""Spun rewrites: sentence-level, in-order alignment of static word embeddings.

An article spinner swaps most words for synonyms but keeps sentence order and facts, so the
word 3-shingle Jaccard of a spun copy with its source falls to ~0.06-0.09, as low as two
different reports of the same event. One whole-text embedding cosine separates them only
thinly (~0.79 vs ~0.66 with ``wordllama``). Here each sentence is embedded on its own, the
two sentence sequences are aligned *in order* (a monotone dynamic programme that may skip
sentences), and each aligned pair also compares the facts of its two sentences (numbers and
dates): a rewrite keeps them, a different report does not. The aligned pairs are the
evidence reported to the analyst.

Embeddings come from ``wordllama`` (static token embeddings inside its wheel), loaded with
downloads disabled, truncated to ``DIM`` dimensions and quantised to int8 for storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from takedown.text import anchors

DIM = 64
MAX_SENTENCES = 24
PREFIX = "sp1:"
#: Aligned pairs need at least this (cosine + fact adjustment).
PAIR_FLOOR = 0.55
FACT_AGREE = 0.10
#: Texts with at least this many sentences with facts each are also scored on kept facts.
FACT_SENTENCES = 1

_SPLIT = re.compile(r"(?<=[.!?؟۔])\s+|\n+")
_RECORD = struct.Struct("<I")


class EmbeddingUnavailable(RuntimeError):
    """The wordllama model could not be loaded (never downloaded at run time)."""


@cache
def _model() -> Any:
    try:
        import wordllama  # type: ignore[import-untyped]
        from wordllama import WordLlama
    except ImportError as exc:  # pragma: no cover - a pinned dependency
        raise EmbeddingUnavailable(f"wordllama is not installed: {exc}") from exc
    try:
        return WordLlama.load(
            cache_dir=os.path.dirname(wordllama.__file__), disable_download=True, trunc_dim=DIM
        )
    except Exception as exc:
        raise EmbeddingUnavailable(f"wordllama model not available offline: {exc}") from exc


def sentences(text: str) -> list[str]:
    """Sentences of a display text (format controls removed, whitespace collapsed)."""
    clean = unicodedata.normalize("NFKC", text)
    clean = "".join(ch for ch in clean if unicodedata.category(ch) not in ("Cf", "Cs"))
    out = []
    for piece in _SPLIT.split(clean):
        piece = " ".join(piece.split())
        if any(ch.isalnum() for ch in piece):
            out.append(piece)
    return out


def fact_key(sentence: str) -> int:
    """32-bit key of a sentence's numbers, dates, URLs, handles and hashtags (0: none)."""
    facts = anchors.facts(sentence)
    if not facts:
        return 0
    digest = hashlib.blake2b("|".join(sorted(facts)).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little") or 1


@dataclass(frozen=True)
class SentenceSketch:
    """Per-sentence unit embeddings (``n x DIM`` float32) and fact keys."""

    vectors: npt.NDArray[np.float32]
    facts: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.facts)


def sketch(text: str, *, max_sentences: int = MAX_SENTENCES) -> SentenceSketch:
    sents = sentences(text)[:max_sentences]
    if not sents:
        return SentenceSketch(np.zeros((0, DIM), dtype=np.float32), ())
    vecs = np.asarray(_model().embed(sents, norm=True), dtype=np.float32)[:, :DIM]
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = np.where(norms > 0, vecs / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    return SentenceSketch(vecs, tuple(fact_key(s) for s in sents))


def serialise(sk: SentenceSketch) -> str:
    q = np.clip(np.round(sk.vectors * 127.0), -127, 127).astype(np.int8)
    payload = bytes([len(sk)]) + b"".join(
        _RECORD.pack(f) + q[i].tobytes() for i, f in enumerate(sk.facts)
    )
    return PREFIX + base64.urlsafe_b64encode(payload).decode("ascii")


def parse(value: str) -> SentenceSketch:
    text = value.strip()
    if not text.startswith(PREFIX):
        raise ValueError(f"sentence sketch must start with {PREFIX!r}")
    try:
        raw = base64.urlsafe_b64decode(text[len(PREFIX) :].encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"sentence sketch is not valid base64: {exc}") from exc
    size = _RECORD.size + DIM
    if not raw or raw[0] > MAX_SENTENCES or len(raw) != 1 + raw[0] * size:
        raise ValueError("sentence sketch has the wrong length")
    facts, rows = [], []
    for i in range(raw[0]):
        chunk = raw[1 + i * size : 1 + (i + 1) * size]
        facts.append(_RECORD.unpack(chunk[: _RECORD.size])[0])
        rows.append(np.frombuffer(chunk[_RECORD.size :], dtype=np.int8))
    vecs = (np.stack(rows).astype(np.float32) / 127.0) if rows else np.zeros((0, DIM), np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = np.where(norms > 0, vecs / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    return SentenceSketch(vecs, tuple(facts))


@njit(cache=True, nogil=True)
def _monotone_pairs(sims: npt.NDArray[np.float64], floor: float) -> npt.NDArray[np.int64]:
    """In-order pairs (i, j) maximising the summed similarity of pairs at or above floor."""
    m, n = sims.shape
    dp = np.zeros((m + 1, n + 1))
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            best = max(dp[i - 1, j], dp[i, j - 1])
            s = sims[i - 1, j - 1]
            if s >= floor and dp[i - 1, j - 1] + s > best:
                best = dp[i - 1, j - 1] + s
            dp[i, j] = best
    out = np.empty((min(m, n), 2), dtype=np.int64)
    k = 0
    i, j = m, n
    while i > 0 and j > 0:
        if dp[i, j] == dp[i - 1, j]:
            i -= 1
        elif dp[i, j] == dp[i, j - 1]:
            j -= 1
        else:
            out[k, 0] = i - 1
            out[k, 1] = j - 1
            k += 1
            i -= 1
            j -= 1
    return out[:k][::-1]


@dataclass(frozen=True)
class Alignment:
    score: float  # 0..1
    pairs: list[tuple[int, int, float]]  # (sentence of a, sentence of b, pair score)


def align(a: SentenceSketch, b: SentenceSketch) -> Alignment:
    """Monotone alignment maximising the sum of pair scores above ``PAIR_FLOOR``."""
    m, n = len(a), len(b)
    if m == 0 or n == 0:
        return Alignment(0.0, [])
    sims = a.vectors @ b.vectors.T
    fa = np.asarray(a.facts, dtype=np.int64)[:, None]
    fb = np.asarray(b.facts, dtype=np.int64)[None, :]
    both = (fa != 0) & (fb != 0)
    sims = sims + np.where(both & (fa == fb), FACT_AGREE, 0.0)
    # a rewrite keeps a sentence's facts: sentences whose facts differ never pair up
    sims = np.where(both & (fa != fb), -1.0, sims)
    found = _monotone_pairs(np.ascontiguousarray(sims, dtype=np.float64), PAIR_FLOOR)
    pairs = [(int(i), int(j), float(min(1.0, sims[i, j]))) for i, j in found]
    score = sum(p[2] for p in pairs) / max(m, n)
    # A rewrite keeps every fact; a different report of the same event shares a few at most.
    facts_a = sum(1 for f in a.facts if f)
    facts_b = sum(1 for f in b.facts if f)
    if min(facts_a, facts_b) >= FACT_SENTENCES:
        kept = sum(1 for i, j, _s in pairs if a.facts[i] and a.facts[i] == b.facts[j])
        score *= 0.5 + 0.5 * kept / min(facts_a, facts_b)
    return Alignment(float(min(1.0, max(0.0, score))), pairs)


def compare(text_a: str, text_b: str) -> tuple[Alignment, list[str], list[str]]:
    """Align two display texts; returns the alignment and both sentence lists (evidence)."""
    return align(sketch(text_a), sketch(text_b)), sentences(text_a), sentences(text_b)


def evidence(alignment: Alignment, sa: Sequence[str], sb: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {"a": sa[i], "b": sb[j], "score": round(s, 3)}
        for i, j, s in alignment.pairs
        if i < len(sa) and j < len(sb)
    ]
