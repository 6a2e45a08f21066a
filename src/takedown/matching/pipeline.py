"""What happens to new content after it is stored: signals, then matching (as tasks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from takedown.app import App

CHUNK = 500


def process_new_content(app: App, content_ids: Sequence[int]) -> dict[str, int]:
    """Submit hashing and matching of committed content; returns totals of in-process runs."""
    totals = {"hashed": 0, "signals": 0, "failed": 0, "contents": 0, "known": 0, "copies": 0}
    ids = sorted(int(i) for i in content_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for name in ("signals.compute", "match.contents"):
            result: Any = app.jobs.submit(name, content_ids=chunk)
            if isinstance(result, dict):
                for key, value in result.items():
                    if key in totals:
                        totals[key] += int(value)
    return totals
