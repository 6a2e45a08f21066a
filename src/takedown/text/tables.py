"""Code point tables for matching normalisation, built once per process on first use.

``fold_table()`` maps every code point (after NFKC) to what matching sees:

* itself, or a replacement code point (its case folding, Arabic letter variants, digits of
  every script);
* ``DROP`` (removed): format controls (zero-width, bidi, soft hyphen, tags), variation
  selectors, tatweel, Arabic diacritics and Qur'anic marks, and combining marks of the
  generic combining blocks that NFKC left uncomposed (zalgo);
* ``SPACE`` / ``NEWLINE``: every other whitespace.

``class_table()`` says which code points are word characters (letters, digits, kept marks)
and ``script_table()`` gives a letter's script (for the mixed-script confusable rule).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

import numpy as np
import numpy.typing as npt

N_CODEPOINTS = 0x110000
DROP = -1
SPACE = -2
NEWLINE = -3

WORD = 1
OTHER = 0

# Scripts tracked for the mixed-script rule (0 = not a letter / common).
SCRIPT_NAMES = ("", "latin", "cyrillic", "greek", "arabic", "other")
_SCRIPT_CODES = {name.upper(): code for code, name in enumerate(SCRIPT_NAMES) if name}

UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"

#: Arabic-script letter variants folded to one form (alef, yeh, kaf, heh, waw forms).
ARABIC_FOLDS: dict[str, str] = {
    "\u0622": "\u0627",  # alef with madda above
    "\u0623": "\u0627",  # alef with hamza above
    "\u0625": "\u0627",  # alef with hamza below
    "\u0671": "\u0627",  # alef wasla
    "\u0672": "\u0627",
    "\u0673": "\u0627",
    "\u0675": "\u0627",
    "\u0649": "\u064a",  # alef maksura -> yeh
    "\u06cc": "\u064a",  # farsi yeh
    "\u06d0": "\u064a",  # pashto/uighur e
    "\u06cd": "\u064a",  # yeh with tail (pashto)
    "\u0626": "\u064a",  # yeh with hamza above
    "\u06a9": "\u0643",  # keheh -> kaf
    "\u06aa": "\u0643",  # swash kaf
    "\u06af": "\u06af",  # gaf stays gaf
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u06c1": "\u0647",  # heh goal
    "\u06c2": "\u0647",  # heh goal with hamza
    "\u06c0": "\u0647",  # heh with yeh above
    "\u06d5": "\u0647",  # ae
    "\u06be": "\u0647",  # heh doachashmee
    "\u0624": "\u0648",  # waw with hamza above
    "\u066b": ".",  # arabic decimal separator
    "\u066c": ",",  # arabic thousands separator
    "\u060c": ",",  # arabic comma
    "\u061b": ";",  # arabic semicolon
    "\u061f": "?",  # arabic question mark
    "\u06d4": ".",  # urdu full stop
    "\u066a": "%",  # arabic percent sign
}

#: Arabic marks removed: harakat, superscript alef, Qur'anic annotation marks, tatweel.
_ARABIC_DROP_RANGES = (
    (0x0610, 0x061A),
    (0x064B, 0x065F),
    (0x0670, 0x0670),
    (0x06D6, 0x06DC),
    (0x06DF, 0x06E8),
    (0x06EA, 0x06ED),
    (0x08D3, 0x08FF),
    (0x0640, 0x0640),  # tatweel
)
#: Generic combining blocks (accents NFKC could not compose; zalgo stacks).
_COMBINING_DROP_RANGES = (
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
    (0x0483, 0x0489),  # cyrillic combining titlo etc.
)
_VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180F))
_NEWLINES = frozenset({0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029})


@cache
def fold_table() -> npt.NDArray[np.int32]:
    table = np.arange(N_CODEPOINTS, dtype=np.int32)
    for start, stop in _ARABIC_DROP_RANGES + _COMBINING_DROP_RANGES + _VARIATION_SELECTORS:
        table[start : stop + 1] = DROP
    cats = _categories()
    table[cats == _CAT_CF] = DROP
    table[cats == _CAT_CC] = DROP  # controls other than whitespace (set below)
    table[cats == _CAT_CS] = DROP  # lone surrogates cannot be encoded anyway
    for digit_cp in _digits():
        table[digit_cp] = ord("0") + unicodedata.digit(chr(digit_cp))
    for cp in np.flatnonzero(cats == _CAT_Z):
        table[cp] = SPACE
    for ch in "\t ":
        table[ord(ch)] = SPACE
    for newline in _NEWLINES:
        table[newline] = NEWLINE
    for src, dst in ARABIC_FOLDS.items():
        table[ord(src)] = ord(dst)
    for cp in np.flatnonzero((cats == _CAT_L) | (cats == _CAT_N) | (cats == _CAT_OTHER)):
        if table[cp] == cp:  # case folding, where it gives one code point (see multi_casefold)
            folded = chr(int(cp)).casefold()
            if len(folded) == 1:
                table[cp] = ord(folded)
    table.setflags(write=False)
    return table


@cache
def multi_casefold() -> re.Pattern[str]:
    """Characters whose case folding is several code points (ß -> ss, İ -> i + dot): texts
    with one of them are case-folded by Python first; the table folds all the others."""
    chars = [
        chr(cp)
        for cp in range(N_CODEPOINTS)
        if not 0xD800 <= cp <= 0xDFFF and len(chr(cp).casefold()) > 1
    ]
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


_CAT_OTHER, _CAT_L, _CAT_N, _CAT_M, _CAT_Z, _CAT_CF, _CAT_CC, _CAT_CS = range(8)


@cache
def _categories() -> npt.NDArray[np.uint8]:
    """A coarse general category per code point (letters, numbers, marks, spaces, controls)."""
    out = np.zeros(N_CODEPOINTS, dtype=np.uint8)
    codes = {"L": _CAT_L, "N": _CAT_N, "M": _CAT_M, "Z": _CAT_Z}
    category = unicodedata.category
    for cp in range(N_CODEPOINTS):
        cat = category(chr(cp))
        if cat == "Cn" or cat == "Co":
            continue
        if cat == "Cf":
            out[cp] = _CAT_CF
        elif cat == "Cc":
            out[cp] = _CAT_CC
        elif cat == "Cs":
            out[cp] = _CAT_CS
        else:
            out[cp] = codes.get(cat[0], _CAT_OTHER)
    out.setflags(write=False)
    return out


def _digits() -> list[int]:
    cats = _categories()
    return [
        int(cp)
        for cp in np.flatnonzero(cats == _CAT_N)
        if unicodedata.category(chr(int(cp))) == "Nd"
    ]


@cache
def class_table() -> npt.NDArray[np.uint8]:
    """WORD for letters, digits and marks; OTHER for everything else (a word separator)."""
    cats = _categories()
    out = np.where((cats == _CAT_L) | (cats == _CAT_N) | (cats == _CAT_M), WORD, OTHER)
    out = out.astype(np.uint8)
    out.setflags(write=False)
    return out


@cache
def script_table() -> npt.NDArray[np.uint8]:
    """Script code (see SCRIPT_NAMES) of every letter; 0 for everything else."""
    cats = _categories()
    out = np.zeros(N_CODEPOINTS, dtype=np.uint8)
    other = _SCRIPT_CODES["OTHER"]
    for cp in np.flatnonzero(cats == _CAT_L):
        name = unicodedata.name(chr(int(cp)), "")
        out[cp] = _SCRIPT_CODES.get(name.split(" ", 1)[0], other)
    out.setflags(write=False)
    return out
