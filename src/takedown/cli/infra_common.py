"""Helpers shared by the infra command modules."""

from __future__ import annotations

from datetime import datetime

from takedown.cli.output import fail


def _when(value: str | None, *, zoned: bool = False) -> datetime | None:
    if value is None:
        return None
    import re

    from takedown.infra.facts import LabelError, parse_time

    if zoned and not re.search(r"(Z|UTC|[+-]\d\d:?\d\d|^\d+(\.\d*)?)$", value.strip()):
        raise fail(f"{value!r}: give a time zone (e.g. 2026-11-30T12:00:00Z) or epoch seconds")

    try:
        return parse_time(value)
    except LabelError as exc:
        raise fail(f"--at/--observed: {exc}") from exc
