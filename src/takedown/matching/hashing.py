"""Compute the signals of stored content (a task: idempotent, JSON arguments)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import select, update

from takedown.app import App
from takedown.jobs import task
from takedown.plugins import signal_types
from takedown.signals.base import SignalError, SignalType, SignalValue
from takedown.store.blobs import BlobError
from takedown.store.models import Content, Sighting, Signal
from takedown.store.upsert import insert_ignore


def applicable(kind: str, types: Mapping[str, SignalType] | None = None) -> list[SignalType]:
    """Signal types that hash content of this kind (content-less types such as url excluded)."""
    found = types if types is not None else signal_types()
    return [t for t in found.values() if kind in t.content_kinds or "*" in t.content_kinds]


def hash_stream(
    stream: BinaryIO, kind: str, only: str | None = None
) -> tuple[list[SignalValue], dict[str, str]]:
    """All signals of one piece of content; errors per signal type, never an exception."""
    values: list[SignalValue] = []
    errors: dict[str, str] = {}
    for signal in applicable(kind):
        if only is not None and signal.name != only:
            continue
        stream.seek(0)
        try:
            values.extend(signal.hash_stream(stream))
        except SignalError as exc:
            errors[signal.name] = str(exc)
        except (OSError, ValueError, MemoryError) as exc:
            errors[signal.name] = f"{type(exc).__name__}: {exc}"
    return values, errors


@dataclass
class HashReport:
    hashed: int = 0
    signals: int = 0
    failed: dict[int, str] = field(default_factory=dict)


def compute_signals(app: App, content_ids: Sequence[int]) -> HashReport:
    report = HashReport()
    with app.db.session() as session:
        rows = session.execute(
            select(Content.id, Content.sha256, Content.kind)
            .where(Content.id.in_(list(content_ids)), Content.purged_at.is_(None))
            .order_by(Content.id)
        ).all()
    for content_id, sha256, kind in rows:
        try:
            with app.blobs.open_verified(sha256) as stream:
                values, errors = hash_stream(stream, kind)
        except BlobError as exc:
            values, errors = [], {"blob": str(exc)}
        signal_rows = [
            {
                "content_id": content_id,
                "signal_type": v.signal_type,
                "variant": v.variant,
                "value": v.value,
                "quality": v.quality,
                "low_quality": v.low_quality,
            }
            for v in values
        ]
        message = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or None
        with app.db.engine.begin() as conn:
            insert_ignore(
                conn, Signal.__table__, signal_rows, ["content_id", "signal_type", "variant"]
            )
            conn.execute(
                update(Content)
                .where(Content.id == content_id)
                .values(
                    signals_state="error" if errors and not values else "done",
                    signals_error=message,
                )
            )
            language = _language(values)
            if language is not None:  # detected offline; what a reporter said is kept
                conn.execute(
                    update(Sighting)
                    .where(Sighting.content_id == content_id, Sighting.language.is_(None))
                    .values(language=language)
                )
        report.hashed += 1
        report.signals += len(signal_rows)
        if message:
            report.failed[content_id] = message
    return report


def _language(values: Sequence[SignalValue]) -> str | None:
    """The language a signal type detected in the content (``meta["lang"]``), if any."""
    for value in values:
        code = value.meta.get("lang")
        if code and code != "und" and len(code) <= 16:
            return code
    return None


@task("signals.compute")
def compute_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    result = compute_signals(app, [int(i) for i in args["content_ids"]])
    return {"hashed": result.hashed, "signals": result.signals, "failed": len(result.failed)}
