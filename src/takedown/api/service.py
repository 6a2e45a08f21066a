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
from takedown.evidence.ingest import Ingestor
from takedown.evidence.report import ImportReport
from takedown.intake.records import IntakeError
from takedown.matching.hashing import detected_language
from takedown.matching.lookup import LookupResult, hash_file, lookup, robust_video_lookup
from takedown.matching.matcher import Matcher
from takedown.matching.pipeline import process_new_content
from takedown.matching.registry import Registry
from takedown.matching.text_relations import judge_results
from takedown.robust.video_signal import NAME as VIDEO_KEYFRAME
from takedown.store.models import Bank, BankChange, Sighting

#: How often (seconds) a lookup catches the indexes up with the store.
FRESHNESS_SECONDS = 2.0


@dataclass(frozen=True)
class BankMeta:
    """What a lookup answer tells of a bank besides its name."""

    description: str | None
    labels: dict[str, Any]
    version: int
    owner_agency_id: int | None = None
    sharing: str = "shared"


class LookupService:
    """Lookups with the process's matching :class:`Registry` (every index, built once).

    At most every ``FRESHNESS_SECONDS`` a lookup catches the registry up with the store
    (signals stored and bank changes since its marks: adds and removals), never rebuilding an
    index. The Matcher is kept across requests; when a bank changed, its bank metadata
    (thresholds, allow-list) and the banks' descriptions, labels and versions are read again
    (every bank change is a ``BankChange``, which the same check sees).
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._banks: dict[str, BankMeta] | None = None
        self._bank_mark: int | None = None
        self._checked = 0.0

    def _bank_state(self) -> int:
        with self.app.db.session() as session:
            return int(session.scalar(select(func.max(BankChange.id))) or 0)

    def matcher(self) -> Matcher:
        with self._lock:
            now = time.monotonic()
            if self._matcher is None:
                self._bank_mark = self._bank_state()
                self._matcher = Matcher(self.app, registry=Registry.shared(self.app))
                self._checked = now
            elif now - self._checked > FRESHNESS_SECONDS:
                self._checked = now
                mark = self._bank_state()
                self._matcher.registry.refresh()
                if mark != self._bank_mark:
                    self._matcher.forget_banks()
                    self._banks = None
                    self._bank_mark = mark
            return self._matcher

    def readiness(self) -> dict[str, Any]:
        """Whether the kept indexes are loaded, and how far behind the store they are: in all
        (the most behind of the loaded indexes) and per index (``indexes``: name, loaded,
        entries, marks, builds, signals and bank changes behind, seconds since catch-up)."""
        with self._lock:
            loaded, checked = self._matcher is not None, self._checked
        state = Registry.shared(self.app, refresh=False).status()
        indexes = state["indexes"]
        out: dict[str, Any] = {
            "loaded": loaded,
            "signals_behind": None,
            "bank_changes_behind": None,
        }
        if loaded:
            built = [i for i in indexes if i["loaded"]]
            out["signals_behind"] = max(
                [i["signals_behind"] or 0 for i in built if i["signals_behind"] is not None],
                default=0,
            )
            out["bank_changes_behind"] = max(
                [i["bank_changes_behind"] or 0 for i in built],
                default=0,
            )
            out["checked_seconds_ago"] = round(time.monotonic() - checked, 3)
        out["ready"] = loaded
        out["caught_up_seconds_ago"] = state["caught_up_seconds_ago"]
        out["indexes"] = indexes
        return out

    def banks(self) -> dict[str, BankMeta]:
        """Every bank by name, as of the kept indexes."""
        self.matcher()
        with self._lock:
            if self._banks is None:
                with self.app.db.session() as session:
                    self._banks = {
                        b.name: BankMeta(
                            b.description,
                            dict(b.labels or {}),
                            b.version,
                            b.owner_agency_id,
                            b.sharing,
                        )
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

    def by_hash_now(
        self, signal_type: str, values: Sequence[str], banks: Sequence[str] | None
    ) -> tuple[LookupResult, dict[str, BankMeta]] | None:
        """The lookup and the banks' metadata, when they can be had at once: no other lookup
        running (the lock is free), every index loaded and caught up within
        ``FRESHNESS_SECONDS``, the bank metadata read. No index is built or caught up here,
        so the event loop may call it (the HTTP lookup's lean path); None otherwise, and the
        caller uses :meth:`by_hash` in a thread."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            matcher, meta = self._matcher, self._banks
            if matcher is None or meta is None:
                return None
            if time.monotonic() - self._checked > FRESHNESS_SECONDS:
                return None
            result = lookup(self.app, signal_type, values, banks=banks, matcher=matcher)
            return result, meta
        finally:
            self._lock.release()

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
