"""The one rule for text at the boundary (docs/security.md, "Input rules").

Text that holds U+0000 (NUL) or a lone surrogate (U+D800..U+DFFF, which no UTF-8 can encode)
is **refused**, never stripped: PostgreSQL cannot store NUL in ``text`` at all and neither
backend can encode a surrogate, so silently changing such text would make evidence differ from
what was reported. Every face and importer asks :func:`text_problem`; the store's engine guard
(:mod:`takedown.store.text`) asks it again for every value it is about to send, so a path that
forgot is refused the same way on SQLite and PostgreSQL instead of crashing on one of them.

Integers the store can hold are signed 64-bit; integer ids are 32-bit on PostgreSQL
(``MAX_ID``): faces bound ids with it, and the store turns any bigger value into
:class:`InvalidValue` rather than a driver error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_ID = 2**31 - 1
MAX_INT = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidValue(ValueError):
    """A value that no backend can store the same way: refused at the boundary."""


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or None if it is."""
    if "\x00" in value:
        return "contains a NUL character (U+0000)"
    if not value.isascii() and _SURROGATE.search(value):
        return "contains a lone surrogate (not valid Unicode)"
    return None


def printable(value: str) -> str:
    """``value`` with NUL and lone surrogates written as escapes (for our own messages that
    quote hostile input: a reason must never itself break the rule)."""
    if text_problem(value) is None:
        return value
    out = value.replace("\x00", "\\x00")
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def check_text(value: str, name: str = "text") -> str:
    """``value`` unchanged, or :class:`InvalidValue` naming the field and the reason."""
    problem = text_problem(value)
    if problem is not None:
        raise InvalidValue(f"{name} {problem}")
    return value


def check_value(value: Any, where: str = "value") -> None:
    """Raise InvalidValue if ``value`` (or anything inside a list or mapping) breaks the rule."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise InvalidValue(f"{where} {problem}")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -MAX_INT - 1 <= value <= MAX_INT:
            raise InvalidValue(f"{where} {value} is outside the 64-bit integer range")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_value(key, where)
            check_value(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item, where)


__all__ = [
    "MAX_ID",
    "MAX_INT",
    "InvalidValue",
    "check_text",
    "check_value",
    "printable",
    "text_problem",
]
