"""Offline language identification with py3langid (its model ships inside the wheel).

The model covers 97 languages including Arabic, Urdu, Pashto and Persian. Texts are cleaned
lightly first (format controls removed; URLs, handles, hashtags, numbers and emoji dropped)
but *not* matching-normalised: folding Arabic letter variants would erase what tells Urdu
and Pashto from Arabic. Texts with no letters are "und" (undetermined).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

UNDETERMINED = "und"
MIN_CONFIDENCE = 0.3
_NOISE = re.compile(r"(?:https?://|www\.)\S+|[@#][\w.]+|\d[\d.,:/-]*", re.UNICODE)
_MAX_CHARS = 20_000


@dataclass(frozen=True)
class Language:
    code: str
    confidence: float


@cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def clean_for_langid(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:_MAX_CHARS])
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc", "So", "Cs"))
    return " ".join(_NOISE.sub(" ", text).split())


def identify(text: str) -> Language:
    """The most likely language of ``text`` (ISO 639-1 code) or "und"."""
    cleaned = clean_for_langid(text)
    if not any(ch.isalpha() for ch in cleaned):
        return Language(UNDETERMINED, 0.0)
    code, confidence = _identifier().classify(cleaned)
    if confidence < MIN_CONFIDENCE:
        return Language(UNDETERMINED, round(float(confidence), 3))
    return Language(str(code), round(float(confidence), 3))


def languages() -> list[str]:
    """Every language code the model knows."""
    return sorted(set(_identifier().labels))
