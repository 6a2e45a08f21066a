"""Compute the signals of stored content (a task: idempotent, JSON arguments)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO

from sqlalchemy import select, update

from takedown.app import App
from takedown.jobs import task
from takedown.plugins import signal_types
from takedown.signals.base import ImageHasher, SignalError, SignalType, SignalValue
from takedown.signals.imageio import DEFAULT_MAX_PIXELS, open_image
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
    """All signals of one piece of content; errors per signal type, never an exception.

    An image is decoded once for the types that hash decoded images (PDQ, keypoints); a decode
    failure is each such type's error, as it would be if each decoded the file itself.
    """
    values: list[SignalValue] = []
    errors: dict[str, str] = {}
    types = [s for s in applicable(kind) if only is None or s.name == only]
    shared = [s for s in types if kind == "image" and _shares_decode(s)]
    hashers = [s for s in shared if isinstance(s, ImageHasher)]
    if len(shared) > 1:
        stream.seek(0)
        try:
            image = open_image(stream, reduced=True, max_pixels=min(_max_pixels(s) for s in shared))
        except (OSError, ValueError, MemoryError) as exc:
            errors.update({s.name: _message(exc) for s in shared})
        else:
            for hasher in hashers:
                _collect(hasher, partial(hasher.hash_image, image), values, errors)
        types = [s for s in types if s not in shared]
    for signal in types:
        stream.seek(0)
        _collect(signal, partial(signal.hash_stream, stream), values, errors)
    return values, errors


def _shares_decode(signal: SignalType) -> bool:
    return isinstance(signal, ImageHasher) and bool(getattr(signal, "reduced_decode", True))


def _max_pixels(signal: SignalType) -> int:
    return int(getattr(signal, "max_pixels", DEFAULT_MAX_PIXELS))


def _collect(
    signal: SignalType | ImageHasher,
    compute: Callable[[], Sequence[SignalValue]],
    values: list[SignalValue],
    errors: dict[str, str],
) -> None:
    try:
        values.extend(compute())
    except (OSError, ValueError, MemoryError) as exc:
        errors[signal.name] = _message(exc)


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, SignalError) else f"{type(exc).__name__}: {exc}"


@dataclass
class HashReport:
    hashed: int = 0
    signals: int = 0
    skipped: int = 0  # already hashed (a retried or duplicated job)
    failed: dict[int, str] = field(default_factory=dict)


def compute_signals(app: App, content_ids: Sequence[int]) -> HashReport:
    """Hash the given content that is still pending; idempotent.

    Each item commits on its own, and only if it is still ``pending`` when it commits, so a
    retried or duplicated job never hashes an item twice into the store, and an item that a
    killed run left pending is found again (``takedown reprocess``). An unexpected error in one
    item is that item's error, never the whole chunk's.
    """
    report = HashReport()
    with app.db.session() as session:
        rows = session.execute(
            select(Content.id, Content.sha256, Content.kind)
            .where(
                Content.id.in_(list(content_ids)),
                Content.purged_at.is_(None),
                Content.signals_state == "pending",
            )
            .order_by(Content.id)
        ).all()
    for content_id, sha256, kind in rows:
        try:
            with app.blobs.open_verified(sha256) as stream:
                values, errors = hash_stream(stream, kind)
        except BlobError as exc:
            values, errors = [], {"blob": str(exc)}
        except Exception as exc:  # a hostile item must not fail its whole chunk for ever
            values, errors = [], {"hashing": _message(exc)}
        stored = _store_signals(app, content_id, values, errors)
        if stored is None:
            report.skipped += 1
            continue
        report.hashed += 1
        report.signals += stored
        if errors:
            report.failed[content_id] = _joined(errors)
    return report


def _joined(errors: Mapping[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))


def signal_rows_of(content_id: int, values: Sequence[SignalValue]) -> list[dict[str, Any]]:
    """The ``signal`` table rows of one item's computed values."""
    return [
        {
            "content_id": content_id,
            "signal_type": v.signal_type,
            "variant": v.variant,
            "value": v.value,
            "quality": v.quality,
            "low_quality": v.low_quality,
            "algorithm": v.algorithm,
        }
        for v in values
    ]


def _store_signals(
    app: App, content_id: int, values: Sequence[SignalValue], errors: Mapping[str, str]
) -> int | None:
    """Commit one item's signals; None when another run committed them first."""
    signal_rows = signal_rows_of(content_id, values)
    with app.db.engine.begin() as conn:
        claimed = conn.execute(
            update(Content)
            .where(Content.id == content_id, Content.signals_state == "pending")
            .values(
                signals_state="error" if errors and not values else "done",
                signals_error=_joined(errors) or None,
            )
        ).rowcount
        if not claimed:
            return None
        insert_ignore(conn, Signal.__table__, signal_rows, ["content_id", "signal_type", "variant"])
        language = detected_language(values)
        if language is not None:  # detected offline; what a reporter said is kept
            conn.execute(
                update(Sighting)
                .where(Sighting.content_id == content_id, Sighting.language.is_(None))
                .values(language=language)
            )
    return len(signal_rows)


def detected_language(values: Sequence[SignalValue]) -> str | None:
    """The language a signal type detected in the content (``meta["lang"]``), if any."""
    for value in values:
        code = value.meta.get("lang")
        if code and code != "und" and len(code) <= 16:
            return code
    return None


@task("signals.compute")
def compute_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """Hash content; with ``then_match`` (queued runs) submit its matching afterwards."""
    ids = [int(i) for i in args["content_ids"]]
    result = compute_signals(app, ids)
    if args.get("then_match"):
        app.jobs.submit("match.contents", content_ids=ids)
    return {
        "hashed": result.hashed,
        "signals": result.signals,
        "failed": len(result.failed),
        "skipped": result.skipped,
    }
