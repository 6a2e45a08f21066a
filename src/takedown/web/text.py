"""Text made inert for display: bidi and other invisible controls shown, lengths bounded.

Jinja's autoescape already makes markup inert; this adds what escaping does not cover:
direction overrides (U+202A-202E, U+2066-2069, marks) that would reorder what an analyst
reads, zero-width and other control characters, and enormous strings.
"""

from __future__ import annotations

import unicodedata

BIDI = {
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}
KEEP = {"\n", "\t"}
DEFAULT_LIMIT = 2000


def inert(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """Text with invisible controls replaced by visible ``⟦U+XXXX⟧`` marks, cut at ``limit``."""
    if value is None:
        return ""
    text = str(value)
    extra = len(text) - limit
    if extra > 0:
        text = text[:limit]
    out = []
    for ch in text:
        if ch in KEEP:
            out.append(ch)
        elif ch in BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            out.append(f"⟦U+{ord(ch):04X}⟧")
        else:
            out.append(ch)
    result = "".join(out)
    if extra > 0:
        result += f" … [{extra} more characters not shown]"
    return result


def has_controls(value: object) -> bool:
    text = str(value or "")
    return any(
        ch in BIDI or unicodedata.category(ch) in ("Cc", "Cf") for ch in text if ch not in KEEP
    )
