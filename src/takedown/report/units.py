"""Figures in human units, for every face and report: durations ("3 h 12 min") and shares
as percentages ("89.5 %"). Pure functions; nonsense in gives "—" out, never an error."""

from __future__ import annotations

import math


def duration(seconds: object) -> str:
    """``3 h 12 min``, ``2 d 4 h``, ``45 s``; ``—`` for nothing or nonsense."""
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(value):
        return "—"
    sign = "−" if value < 0 else ""
    left = round(abs(value))
    days, left = divmod(left, 86_400)
    hours, left = divmod(left, 3600)
    minutes, secs = divmod(left, 60)
    if days:
        return f"{sign}{days} d {hours} h" if hours else f"{sign}{days} d"
    if hours:
        return f"{sign}{hours} h {minutes} min" if minutes else f"{sign}{hours} h"
    if minutes:
        return f"{sign}{minutes} min"
    return f"{sign}{secs} s"


def percent(share: object, digits: int = 1) -> str:
    """A share 0..1 as ``89.5 %``; ``—`` when there is none."""
    try:
        value = float(share)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(value):
        return "—"
    return f"{value * 100:.{digits}f} %"
