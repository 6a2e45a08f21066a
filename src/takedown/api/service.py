"""What the routes do, apart from HTTP: lookups with a kept index, submissions via the Ingestor."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from takedown.app import App
from takedown.evidence.ingest import ImportReport, Ingestor
from takedown.intake.records import IntakeError
from takedown.matching.hashing import detected_language
from takedown.matching.lookup import LookupResult, hash_file, lookup, robust_video_lookup
from takedown.matching.matcher import Matcher
from takedown.matching.pipeline import process_new_content
from takedown.matching.text_relations import judge_results
from takedown.robust.video_signal import NAME as VIDEO_KEYFRAME
from takedown.store.models import Bank, BankChange, Sighting, Signal

#: How often (seconds) a lookup checks whether banks or stored signals changed.
FRESHNESS_SECONDS = 2.0


@dataclass(frozen=True)
class BankMeta:
    """What a lookup answer tells of a bank besides its name."""

    description: str | None
    labels: dict[str, Any]
    version: int


class LookupService:
    """One Matcher (with its in-memory Hamming indexes) kept across requests.

    The indexes are rebuilt when a bank changes or new signals are stored, checked at most
    every ``FRESHNESS_SECONDS``; building them happens once, not per request. The banks'
    descriptions, labels and versions are kept with them (every bank change is a
    ``BankChange``, which the same check sees).
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._banks: dict[str, BankMeta] | None = None
        self._token: tuple[int, int] | None = None
        self._checked = 0.0

    def _state(self) -> tuple[int, int]:
        with self.app.db.session() as session:
            change = session.scalar(select(func.max(BankChange.id))) or 0
            signal = session.scalar(select(func.max(Signal.id))) or 0
        return int(change), int(signal)

    def matcher(self) -> Matcher:
        with self._lock:
            now = time.monotonic()
            if self._matcher is None or now - self._checked > FRESHNESS_SECONDS:
                token = self._state()
                self._checked = now
                if self._matcher is None or token != self._token:
                    self._matcher = Matcher(self.app)
                    self._banks = None
                    self._token = token
            return self._matcher

    def banks(self) -> dict[str, BankMeta]:
        """Every bank by name, as of the kept indexes."""
        self.matcher()
        with self._lock:
            if self._banks is None:
                with self.app.db.session() as session:
                    self._banks = {
                        b.name: BankMeta(b.description, dict(b.labels or {}), b.version)
                        for b in session.scalars(select(Bank))
                    }
            return self._banks

    def warm(self, signal_type: str = "pdq") -> None:
        self.matcher().index.bank_candidates(signal_type, [], 0)

    def by_hash(
        self, signal_type: str, values: Sequence[str], banks: Sequence[str] | None
    ) -> LookupResult:
        matcher = self.matcher()
        with self._lock:  # the Hamming index is not safe for concurrent first builds
            return lookup(self.app, signal_type, values, banks=banks, matcher=matcher)

    def by_file(
        self, path: Path, banks: Sequence[str] | None
    ) -> tuple[str, list[LookupResult], dict[str, str], list[str]]:
        kind, values, errors = hash_file(path)
        grouped: dict[str, list[str]] = {}
        for value in sorted(values, key=lambda v: v.variant != ""):
            grouped.setdefault(value.signal_type, []).append(value.value)
        results = [
            self.by_hash(name, vals, banks)
            for name, vals in grouped.items()
            if not (kind == "video" and name == VIDEO_KEYFRAME)
        ]
        notes: list[str] = []
        if kind == "text":  # each text hit judged by the one text decision (its evidence)
            notes = judge_results(self.app, grouped, results, language=detected_language(values))
        if kind == "video" and VIDEO_KEYFRAME in grouped:
            # the robust video path on the file (containment, then keyframes), as the CLI runs it
            matcher = self.matcher()
            with self._lock:
                robust = robust_video_lookup(
                    self.app, path, grouped[VIDEO_KEYFRAME][0], banks, matcher
                )
            if isinstance(robust, str):
                errors.setdefault(VIDEO_KEYFRAME, robust)
            else:
                results.append(robust)
        return kind, results, errors, notes


def _report_dict(app: App, report: ImportReport) -> dict[str, Any]:
    with app.db.session() as session:
        ids = list(
            session.scalars(
                select(Sighting.id)
                .where(Sighting.import_id == report.import_id)
                .order_by(Sighting.id)
            )
        )
    return {
        "import_id": report.import_id,
        "records": report.records,
        "created": report.created,
        "duplicates": report.duplicates,
        "contents_created": report.contents_created,
        "rejected": [{"ref": r.ref, "reason": r.reason} for r in report.rejected],
        "error": report.error,
        "sighting_ids": ids,
    }


def submit_records(
    app: App,
    records: Sequence[dict[str, Any]],
    *,
    reporter: str,
    operation: str | None,
    files: dict[str, Path] | None = None,
) -> dict[str, Any]:
    """Ingest records (``url``/``text``/``seen_at``/... and an optional file) as one import.

    The records go through the same path as every other source: written to a JSON Lines file
    in a private folder (files moved next to it) and read by the ``jsonl`` importer, so every
    limit and check of intake applies.
    """
    folder = Path(tempfile.mkdtemp(prefix="takedown-api-"))
    try:
        lines = []
        for i, record in enumerate(records):
            row = {k: v for k, v in record.items() if v is not None}
            if files and str(i) in files:
                name = f"file-{i}"
                shutil.move(files[str(i)], folder / name)
                row["content"] = name
            lines.append(json.dumps(row, ensure_ascii=False))
        source = folder / "submission.jsonl"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ingest_file(app, source, "jsonl", reporter=reporter, operation=operation)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def ingest_file(
    app: App, source: Path, fmt: str, *, reporter: str, operation: str | None
) -> dict[str, Any]:
    try:
        report = Ingestor(app).ingest(source, fmt, reporter=reporter, operation=operation)
    except IntakeError as exc:
        raise ValueError(str(exc)) from exc
    if report.new_content_ids:
        process_new_content(app, report.new_content_ids)
    return _report_dict(app, report)
