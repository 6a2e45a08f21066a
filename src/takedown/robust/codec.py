"""The text form the robust signals share: a prefix naming the format, then base64."""

from __future__ import annotations

import base64
import binascii


def payload_of(value: str, prefix: str, error: type[ValueError], what: str) -> bytes:
    """The bytes of ``prefix`` + base64, or ``error`` saying why not."""
    text = value.strip()
    if not text.startswith(prefix):
        raise error(f"{what} value must start with {prefix!r}, got {value[:40]!r}")
    try:
        return base64.b64decode(text[len(prefix) :].encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise error(f"{what} value is not valid base64: {exc}") from exc
