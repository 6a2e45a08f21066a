"""Normalisation for matching (never for display).

Steps, in order: Unicode NFKC; case folding (full where a character folds to several
code points, otherwise in the table); the code point table of
:mod:`takedown.text.tables` (format and bidi controls, zero-width characters, variation
selectors, tatweel and Arabic diacritics removed; Arabic alef/yeh/kaf/heh/waw variants and
digits of every script folded; uncomposed combining marks such as zalgo stacks removed;
whitespace collapsed, blank lines kept as paragraph breaks written as two newlines); and,
only inside words that mix letters of two scripts, confusable letters folded to the word's
main script (so a Latin word with a Cyrillic "а" becomes Latin, while real Cyrillic text is
left alone).

The result is stable: ``normalise(normalise(x)) == normalise(x)`` for any string.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import numpy.typing as npt
from confusable_homoglyphs import categories, confusables
from numba import njit

from takedown.text import tables

_WORD_RE = re.compile(r"\w+")
_PARAGRAPH_SEP = "\n\n"


@njit(cache=True, nogil=True)
def _apply_table(
    cps: npt.NDArray[np.uint32],
    table: npt.NDArray[np.int32],
    classes: npt.NDArray[np.uint8],
    scripts: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint32], int, bool]:
    """Map code points, collapse whitespace; also report whether any word mixes scripts."""
    out = np.empty(2 * cps.shape[0] + 2, dtype=np.uint32)
    n = 0
    pending = 0  # 0 none, 1 space, 2 paragraph break
    newlines = 0
    mixed = False
    word_scripts = 0
    after_cr = False
    for i in range(cps.shape[0]):
        m = table[cps[i]]
        if m == -1:
            continue
        if m == -2 or m == -3:
            if m == -3 and cps[i] == 10 and after_cr:
                after_cr = False
                continue  # CR LF is one line break (even with invisible characters between)
            after_cr = cps[i] == 13
            if m == -3:
                newlines += 1
                if newlines >= 2:
                    pending = 2
            if pending == 0:
                pending = 1
            word_scripts = 0
            continue
        if pending == 2 and n > 0:
            out[n] = 10
            out[n + 1] = 10
            n += 2
        elif pending == 1 and n > 0:
            out[n] = 32
            n += 1
        pending = 0
        newlines = 0
        after_cr = False
        out[n] = m
        n += 1
        if classes[m] == 1:
            s = scripts[m]
            if s != 0:
                bit = 1 << s
                if word_scripts != 0 and (word_scripts | bit) != word_scripts:
                    mixed = True
                word_scripts |= bit
        else:
            word_scripts = 0
    return out, n, mixed


def codepoints(text: str) -> npt.NDArray[np.uint32]:
    """The code points of ``text`` as an array (lone surrogates replaced by U+FFFD)."""
    data = text.encode(tables.UTF32, "replace") if not text.isascii() else text.encode("ascii")
    if text.isascii():
        return np.frombuffer(data, dtype=np.uint8).astype(np.uint32)
    return np.frombuffer(data, dtype=np.uint32)


def _from_codepoints(cps: npt.NDArray[np.uint32]) -> str:
    if cps.size and int(cps.max()) < 128:
        return cps.astype(np.uint8).tobytes().decode("ascii")
    return cps.tobytes().decode(tables.UTF32)


@cache
def _fold_char(char: str, script: str) -> str:
    """A confusable of ``char`` in ``script`` (lower case, one code point), or ``char``."""
    found = confusables.is_confusable(char, greedy=True, preferred_aliases=[script])
    if not found:
        return char
    for glyph in found[0]["homoglyphs"]:
        candidate = glyph["c"].strip("\u200e\u200f")
        if (
            len(candidate) == 1
            and categories.alias(candidate).lower() == script
            and candidate.casefold() == candidate
            and candidate.isalpha()
            and int(tables.fold_table()[ord(candidate)]) == ord(candidate)  # stays as it is
        ):
            return str(candidate)
    return char


def _script_of(char: str) -> str:
    code = int(tables.script_table()[ord(char)])
    return tables.SCRIPT_NAMES[code]


def _fold_mixed_word(word: str) -> str:
    counts: dict[str, int] = {}
    for char in word:
        script = _script_of(char)
        if script:
            counts[script] = counts.get(script, 0) + 1
    if len(counts) < 2:
        return word
    main = max(sorted(counts), key=lambda s: counts[s])
    if main == "other":
        return word
    return "".join(_fold_char(c, main) if _script_of(c) not in ("", main) else c for c in word)


def _one_pass(text: str) -> tuple[str, npt.NDArray[np.uint32] | None]:
    """One pass; also the code points of the result when they came straight from the table."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii() and tables.multi_casefold().search(text):
        text = text.casefold()
    cps = codepoints(text)
    out, n, mixed = _apply_table(
        cps, tables.fold_table(), tables.class_table(), tables.script_table()
    )
    result = _from_codepoints(out[:n])
    if mixed:
        return _WORD_RE.sub(lambda m: _fold_mixed_word(m.group(0)), result), None
    return result, out[:n]


def _stable(text: str) -> bool:
    return text.isascii() or unicodedata.is_normalized("NFKC", text)


def normalise_codepoints(text: str) -> tuple[str, npt.NDArray[np.uint32]]:
    """:func:`normalise` and the code points of its result (for the shingle kernels)."""
    result, cps = _one_pass(text)
    for _ in range(4):  # rare: a removal lets NFKC compose anew; converge
        if _stable(result):
            break
        result, cps = _one_pass(result)
    return result, codepoints(result) if cps is None else cps


def normalise(text: str) -> str:
    """The matching form of ``text`` (see module docstring). Never raises on a ``str``."""
    return normalise_codepoints(text)[0]


def paragraphs(normalised: str) -> list[str]:
    """Paragraphs of a normalised text (blank lines in the original separate them)."""
    return [p for p in normalised.split(_PARAGRAPH_SEP) if p]


def text_hash(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Normalised:
    """A text's matching form and its exact hashes (whole text and per paragraph)."""

    text: str
    sha256: str
    paragraph_sha256: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(_WORD_RE.findall(self.text))


def analyse(text: str) -> Normalised:
    """Normalise ``text`` and hash it, marking texts with nothing left to match on."""
    norm = normalise(text)
    marks: list[str] = []
    if not norm.strip():
        marks.append("empty after normalisation (only invisible or control characters)")
    elif not _WORD_RE.search(norm):
        marks.append("no words: only symbols, emoji or punctuation")
    return Normalised(norm, text_hash(norm), [text_hash(p) for p in paragraphs(norm)], marks)
