"""The one ingest path: importer records -> evidence store (blobs + rows), batch by batch.

Each batch is one transaction. Rows are inserted with ON CONFLICT DO NOTHING on natural keys,
so importing a source twice creates nothing new, and the report counts what was created,
what was already there and what was rejected (with the reason for each rejection).
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from takedown.app import App
from takedown.boundary import InvalidValue, check_value, printable
from takedown.evidence.quarantine import Quarantine
from takedown.evidence.report import ImportReport, Rejected, RejectedItem
from takedown.intake.base import detect_format
from takedown.intake.inspect import check_image, decode_text, inspect_content
from takedown.intake.records import ContentRef, IntakeError, Record, Rejection
from takedown.plugins import importers
from takedown.store.blobs import BlobError, StoredBlob
from takedown.store.models import Content, ImportRun, Platform, RejectedRecord, Sighting
from takedown.store.upsert import insert_ignore, insert_ignore_count
from takedown.urls import CanonicalURL, InvalidURL, canonicalize

Progress = Callable[[int], None]


@dataclass
class _StoredContent:
    blob: StoredBlob
    kind: str
    media_type: str
    name: str | None
    submitted_by: str | None = None
    operation: str | None = None


@dataclass
class _Batch:
    contents: dict[str, _StoredContent] = field(default_factory=dict)
    sightings: dict[str, dict[str, Any]] = field(default_factory=dict)
    content_of: dict[str, str] = field(default_factory=dict)
    platforms: set[str] = field(default_factory=set)
    rejected: list[RejectedItem] = field(default_factory=list)
    duplicates: int = 0

    def __len__(self) -> int:
        return len(self.sightings) + len(self.rejected)


def natural_key(
    canonical: str | None, sha256: str | None, seen_at: datetime | None, who: str | None
) -> str:
    parts = [canonical or "", sha256 or "", seen_at.isoformat() if seen_at else "", who or ""]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _file_sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class Ingestor:
    """Runs importers into the store. One instance may run many imports."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.quarantine = Quarantine(app.settings.quarantine_dir)
        self._known_platforms: set[str] = set()
        self._canon_cache: dict[str, CanonicalURL | str] = {}

    # -- public -------------------------------------------------------------------------
    def ingest(
        self,
        source: Path,
        fmt: str = "auto",
        *,
        reporter: str | None = None,
        operation: str | None = None,
        options: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        if fmt == "auto":
            fmt = detect_format(source)
        available = importers()
        if fmt not in available:
            raise IntakeError(f"unknown format {fmt!r}; known: {', '.join(sorted(available))}")
        try:
            check_value([reporter, operation, *(options or {}).values()], "reporter/operation")
        except InvalidValue as exc:
            raise IntakeError(str(exc)) from None
        if operation:
            self._refuse_closed(operation)
        recover_interrupted(self.app)
        run_id = self._start_run(source, fmt, reporter, operation)
        report = ImportReport(import_id=run_id, source=str(source), format=fmt)
        if self.app.queued:
            report.jobs_queued = 0
        try:
            items = available[fmt].parse(source, self.app.limits, dict(options or {}))
            self._consume(items, report, reporter, operation, progress)
        except IntakeError as exc:
            report.error = str(exc)
        except BaseException as exc:  # never leave the run "running" (a bug, Ctrl-C...)
            report.error = f"interrupted by {type(exc).__name__}"
            self._finish_run(report)
            raise
        self._finish_run(report)
        self._mark_reuploads(run_id)
        return report

    def _refuse_closed(self, operation: str) -> None:
        """A closed operation's record is frozen: nothing more is filed under it."""
        from takedown.ops.models import OpsOperation

        with self.app.db.session() as session:
            closed = session.scalar(
                select(OpsOperation.closed_at).where(OpsOperation.name == operation.strip())
            )
        if closed is not None:
            raise IntakeError(
                f"operation {operation!r} was closed at {closed:%Y-%m-%d %H:%M} UTC; "
                "its record is frozen (file the items under a new operation)"
            )

    def _mark_reuploads(self, run_id: int) -> None:
        """Sightings of content already clustered (an exact copy at a new URL) are re-uploads
        when their material was removed before; new content is marked by the matcher."""
        from takedown.verify.reuploads import mark_reuploads_of_import

        if self.app.queued:  # a job (the run is committed: the job sees all its sightings)
            self.app.jobs.submit("verify.reuploads", import_id=run_id)
            return
        with self.app.db.session() as session:
            mark_reuploads_of_import(session, run_id)

    # -- records ------------------------------------------------------------------------
    def _consume(
        self,
        items: Iterable[Record | Rejection],
        report: ImportReport,
        reporter: str | None,
        operation: str | None,
        progress: Progress | None,
    ) -> None:
        batch = _Batch()
        size = self.app.settings.batch_size
        try:
            for item in items:
                report.records += 1
                if isinstance(item, Rejection):
                    batch.rejected.append(self._quarantine(report, item.ref, item.reason, item.raw))
                else:
                    try:
                        self._prepare(item, batch, report, reporter, operation)
                    except Rejected as exc:
                        batch.rejected.append(self._quarantine(report, item.ref, str(exc), exc.raw))
                if len(batch) >= size:
                    self._flush(batch, report)
                    batch = _Batch()
                if progress is not None:
                    progress(1)
        finally:
            self._flush(batch, report)

    def _canon(self, raw: str) -> CanonicalURL:
        cached = self._canon_cache.get(raw)
        if cached is None:
            try:
                cached = canonicalize(raw, max_chars=self.app.limits.max_url_chars)
            except InvalidURL as exc:
                cached = f"invalid URL: {exc}"
            if len(self._canon_cache) > 200_000:
                self._canon_cache.clear()
            self._canon_cache[raw] = cached
        if isinstance(cached, str):
            raise Rejected(cached, raw.encode("utf-8", "replace")[:4096])
        return cached

    def _prepare(
        self,
        record: Record,
        batch: _Batch,
        report: ImportReport,
        reporter: str | None,
        operation: str | None,
    ) -> None:
        try:  # the boundary text rule: this record alone is refused, the batch goes on
            check_value(
                [record.url, record.reporter, record.language, record.notes, record.text],
                "a field",
            )
            check_value(dict(record.extra), "an extra field")
            if record.content is not None:
                check_value(record.content.name, "the file name")
        except InvalidValue as exc:
            raise Rejected(f"{printable(record.ref)}: {exc}") from None
        canon = self._canon(record.url) if record.url else None
        stored: list[_StoredContent] = []
        if record.content is not None:
            stored.append(self._store_file(record.content))
        if record.text is not None and record.text.strip():
            stored.append(self._store_text(record.text))
        if canon is None and not stored:
            raise Rejected("record has neither a URL nor content")
        platform_key = None
        if canon is not None:
            platform_key = self.app.registry.attribute(canon).key
            batch.platforms.add(platform_key)
        who = record.reporter or reporter
        seen = record.seen_at
        base: dict[str, Any] = {
            "url": record.url,
            "canonical_url": canon.url if canon else None,
            "host": canon.host if canon else None,
            "registrable_domain": canon.registrable_domain if canon else None,
            "psl_version": canon.psl_version if canon else None,
            "account": canon.account if canon else None,
            "mixed_script": canon.mixed_script if canon else False,
            "platform_key": platform_key,
            "seen_at": seen,
            "reporter": who,
            "language": record.language,
            "notes": record.notes,
            "operation": operation,
            "import_id": report.import_id,
            "source_ref": record.ref[:200],
            "extra": dict(record.extra) or None,
            "created_at": datetime.now(UTC),
        }
        targets: list[_StoredContent | None] = list(stored) or [None]
        for content in targets:
            sha = content.blob.sha256 if content else None
            key = natural_key(base["canonical_url"], sha, seen, who)
            if key in batch.sightings:
                batch.duplicates += 1
                continue
            batch.sightings[key] = {**base, "natural_key": key}
            if content is not None:
                content.submitted_by, content.operation = who, operation
                batch.contents.setdefault(content.blob.sha256, content)
                batch.content_of[key] = content.blob.sha256

    def _store_file(self, ref: ContentRef) -> _StoredContent:
        limits = self.app.limits
        if ref.size is not None and ref.size > limits.max_file_bytes:
            raise Rejected(
                f"file {ref.name!r} is {ref.size} bytes, over the limit of {limits.max_file_bytes}"
            )
        try:
            with ref.open() as handle:
                head = handle.read(8192)
            info = inspect_content(head, ref.name, limits)
            if info.kind == "image":
                with ref.open() as handle:
                    check_image(handle, limits)
            with ref.open() as handle:
                blob = self.app.blobs.put_stream(handle)
        except IntakeError as exc:
            raise Rejected(str(exc), self._head(ref)) from exc
        except BlobError as exc:
            raise Rejected(str(exc)) from exc
        except OSError as exc:
            raise Rejected(f"cannot read {ref.name!r}: {exc.strerror or exc}") from exc
        return _StoredContent(blob, info.kind, ref.media_type or info.media_type, ref.name)

    @staticmethod
    def _head(ref: ContentRef) -> bytes | None:
        try:
            with ref.open() as handle:
                return handle.read(1024 * 1024)
        except OSError:
            return None

    def _store_text(self, text: str) -> _StoredContent:
        limits = self.app.limits
        if len(text) > limits.max_text_chars:
            raise Rejected(
                f"text of {len(text)} characters, over the limit of {limits.max_text_chars}"
            )
        data = text.encode("utf-8", "surrogatepass")
        try:
            decode_text(data)
        except IntakeError as exc:
            raise Rejected(str(exc)) from exc
        blob = self.app.blobs.put_bytes(data)
        return _StoredContent(blob, "text", "text/plain; charset=utf-8", None)

    def _quarantine(
        self, report: ImportReport, ref: str, reason: str, raw: bytes | None
    ) -> RejectedItem:
        path = None
        if raw:
            seq = len(report.rejected) + 1
            path = str(self.quarantine.put(report.import_id, seq, ref, reason, raw))
        item = RejectedItem(ref=printable(ref), reason=printable(reason), quarantined=path)
        report.rejected.append(item)
        return item

    # -- store --------------------------------------------------------------------------
    def _flush(self, batch: _Batch, report: ImportReport) -> None:
        report.duplicates += batch.duplicates
        if not batch.sightings and not batch.rejected:
            return
        with self.app.db.engine.begin() as conn:
            new_platforms = batch.platforms - self._known_platforms
            if new_platforms:
                insert_ignore(
                    conn,
                    Platform.__table__,
                    [self._platform_row(k) for k in new_platforms],
                    ["key"],
                )
            ids: dict[str, int] = {}
            if batch.contents:
                rows = [self._content_row(c, report) for c in batch.contents.values()]
                created = insert_ignore(conn, Content.__table__, rows, ["sha256"], ["id"])
                report.contents_created += len(created)
                created_ids = [int(r[0]) for r in created]
                if self.app.queued:
                    # In this transaction: the content rows and their hashing jobs commit
                    # together, so no crash can leave stored content without a job.
                    from takedown.matching.pipeline import enqueue_new_content

                    queued = enqueue_new_content(self.app, conn, created_ids)
                    report.jobs_queued = (report.jobs_queued or 0) + queued
                    report.queued_content_ids.extend(created_ids)
                else:
                    report.new_content_ids.extend(created_ids)
                report.contents_existing += len(rows) - len(created)
                found = conn.execute(
                    select(Content.id, Content.sha256).where(
                        Content.sha256.in_(list(batch.contents))
                    )
                )
                ids = {sha: cid for cid, sha in found}
            rows = []
            for key, row in batch.sightings.items():
                sha = batch.content_of.get(key)
                rows.append({**row, "content_id": ids[sha] if sha else None})
            inserted = insert_ignore_count(conn, Sighting.__table__, rows, ["natural_key"])
            report.created += inserted
            report.duplicates += len(rows) - inserted
            if batch.rejected:
                conn.execute(
                    insert(RejectedRecord),
                    [
                        {
                            "import_id": report.import_id,
                            "ref": r.ref[:200],
                            "reason": r.reason,
                            "quarantine_path": r.quarantined,
                            "created_at": datetime.now(UTC),
                        }
                        for r in batch.rejected
                    ],
                )
        self._known_platforms |= batch.platforms

    def _platform_row(self, key: str) -> dict[str, Any]:
        registry = self.app.registry
        try:
            platform = registry.get(key)
        except KeyError:
            return {
                "key": key,
                "name": key.replace("unknown:", "unknown: ", 1),
                "kind": "unknown",
                "known": False,
                "referral": None,
            }
        return {
            "key": platform.key,
            "name": platform.name,
            "kind": platform.kind,
            "known": platform.known,
            "referral": dict(platform.referral),
        }

    def _content_row(self, content: _StoredContent, report: ImportReport) -> dict[str, Any]:
        return {
            "sha256": content.blob.sha256,
            "md5": content.blob.md5,
            "size": content.blob.size,
            "kind": content.kind,
            "media_type": content.media_type[:128],
            "first_name": content.name,
            "submitted_by": content.submitted_by,
            "import_id": report.import_id,
            "operation": content.operation,
            "created_at": datetime.now(UTC),
        }

    # -- import run ---------------------------------------------------------------------
    def _start_run(
        self, source: Path, fmt: str, reporter: str | None, operation: str | None
    ) -> int:
        with self.app.db.session() as session:
            run = ImportRun(
                source=str(source),
                source_sha256=_file_sha256(source),
                format=fmt,
                worker=WORKER,
                submitted_by=reporter,
                operation=operation,
            )
            session.add(run)
            session.flush()
            return run.id

    def _finish_run(self, report: ImportReport) -> None:
        with self.app.db.session() as session:
            session.execute(
                update(ImportRun)
                .where(ImportRun.id == report.import_id)
                .values(
                    finished_at=datetime.now(UTC),
                    status=_status(report),
                    created=report.created,
                    duplicates=report.duplicates,
                    rejected=len(report.rejected),
                    contents_created=report.contents_created,
                )
            )


WORKER = f"{socket.gethostname()}:{os.getpid()}"[:120]
INTERRUPTED = "interrupted"


def _status(report: ImportReport) -> str:
    if report.error is None:
        return "done"
    return INTERRUPTED if report.error.startswith("interrupted by") else "failed"


def _gone(worker: str | None) -> bool:
    """True if ``worker`` ("host:pid") ran on this host and its process no longer exists."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def recover_interrupted(app: App, older_than: timedelta | None = None) -> list[int]:
    """Mark imports left ``running`` by a killed process as ``interrupted`` (their committed
    batches stay; nothing half-written exists, each batch being one transaction).

    Runs on this host whose process is gone are found at the start of every import; ``older_than``
    (the ``takedown imports recover`` command) also takes runs of other hosts and of versions
    that did not record their process, started longer ago than that.
    """
    now = datetime.now(UTC)
    with app.db.session() as session:
        running = session.execute(
            select(ImportRun.id, ImportRun.worker, ImportRun.started_at).where(
                ImportRun.status == "running"
            )
        ).all()
        stale = []
        for run_id, worker, started in running:
            started = started if started.tzinfo else started.replace(tzinfo=UTC)
            if _gone(worker) or (older_than is not None and now - started > older_than):
                stale.append(run_id)
        if stale:
            session.execute(
                update(ImportRun)
                .where(ImportRun.id.in_(stale), ImportRun.status == "running")
                .values(status=INTERRUPTED, finished_at=now)
            )
    return stale
