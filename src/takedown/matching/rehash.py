"""Re-compute stored signals made by an earlier version of their algorithm (issue #19).

Every stored value records its signal type's ``algorithm`` version (``signal.algorithm``);
values of a versioned type whose version differs (NULL: stored before versions were
recorded, e.g. PDQ before it was made identical to pytx) are *stale*. ``rehash`` re-hashes
their content from the stored evidence blob and, in one transaction per content, replaces the
type's rows: never a mix of old and new values for one content and type. Content whose blob
is gone (purged) or that no longer hashes keeps its stale rows and is reported. Idempotent: a
second run finds nothing stale. Matching is re-run for the re-hashed content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, func, or_, select

from takedown.app import App
from takedown.jobs import task
from takedown.matching.hashing import hash_stream, signal_rows_of
from takedown.plugins import signal_types
from takedown.store.blobs import BlobError
from takedown.store.models import Content, Signal
from takedown.store.upsert import insert_ignore

BATCH = 200


@dataclass
class RehashReport:
    #: Stale values per signal type before the run.
    stale: dict[str, int] = field(default_factory=dict)
    contents: int = 0
    rehashed: int = 0
    values: int = 0
    failed: dict[int, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stale": self.stale,
            "contents": self.contents,
            "rehashed": self.rehashed,
            "values": self.values,
            "failed": {str(k): v for k, v in sorted(self.failed.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RehashReport:
        """The report back from :meth:`to_dict` (a queued job's kept result)."""
        return cls(
            stale={str(k): int(v) for k, v in dict(data.get("stale") or {}).items()},
            contents=int(data.get("contents") or 0),
            rehashed=int(data.get("rehashed") or 0),
            values=int(data.get("values") or 0),
            failed={int(k): str(v) for k, v in dict(data.get("failed") or {}).items()},
        )


def current_versions(only: Sequence[str] | None = None) -> dict[str, str]:
    """{signal type: algorithm version} of the versioned types (``only`` to restrict)."""
    found = {name: t.algorithm_version for name, t in signal_types().items() if t.algorithm_version}
    if only:
        unknown = sorted(set(only) - set(found))
        if unknown:
            raise ValueError(
                f"not a versioned signal type: {', '.join(unknown)}; "
                f"versioned: {', '.join(sorted(found)) or 'none'}"
            )
        found = {k: v for k, v in found.items() if k in only}
    return found


def _stale_condition(versions: Mapping[str, str]) -> Any:
    return or_(
        *(
            and_(
                Signal.signal_type == name,
                or_(Signal.algorithm.is_(None), Signal.algorithm != version),
            )
            for name, version in versions.items()
        )
    )


def stale_counts(app: App, versions: Mapping[str, str]) -> dict[str, int]:
    if not versions:
        return {}
    with app.db.session() as session:
        rows = session.execute(
            select(Signal.signal_type, func.count())
            .where(_stale_condition(versions))
            .group_by(Signal.signal_type)
        ).all()
    return {name: int(count) for name, count in rows}


def _stale_contents(
    app: App, versions: Mapping[str, str], limit: int | None
) -> dict[int, set[str]]:
    query = (
        select(Signal.content_id, Signal.signal_type)
        .where(_stale_condition(versions))
        .distinct()
        .order_by(Signal.content_id)
    )
    found: dict[int, set[str]] = {}
    with app.db.session() as session:
        for content_id, name in session.execute(query):
            if limit is not None and content_id not in found and len(found) >= limit:
                break
            found.setdefault(content_id, set()).add(name)
    return found


def _rehash_one(app: App, content_id: int, names: set[str], report: RehashReport) -> bool:
    with app.db.session() as session:
        row = session.execute(
            select(Content.sha256, Content.kind, Content.purged_at).where(Content.id == content_id)
        ).one_or_none()
    if row is None or row.purged_at is not None:
        report.failed[content_id] = "evidence purged: the stale values are kept"
        return False
    values = []
    errors: dict[str, str] = {}
    try:
        with app.blobs.open_verified(row.sha256) as stream:
            for name in sorted(names):
                stream.seek(0)
                got, failed = hash_stream(stream, row.kind, only=name)
                values.extend(got)
                errors.update(failed)
    except BlobError as exc:
        report.failed[content_id] = f"blob: {exc}"
        return False
    done = {v.signal_type for v in values} - set(errors)
    if errors:
        report.failed[content_id] = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
    if not done:
        return False
    rows = signal_rows_of(content_id, [v for v in values if v.signal_type in done])
    with app.db.engine.begin() as conn:  # old rows out, new rows in: one transaction
        conn.execute(
            delete(Signal).where(Signal.content_id == content_id, Signal.signal_type.in_(done))
        )
        insert_ignore(conn, Signal.__table__, rows, ["content_id", "signal_type", "variant"])
    report.values += len(rows)
    return True


def rehash(
    app: App,
    *,
    only: Sequence[str] | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    rematch: bool = True,
) -> RehashReport:
    """Re-compute the stale values of the versioned signal types (see module docstring)."""
    versions = current_versions(only)
    report = RehashReport(stale=stale_counts(app, versions))
    if dry_run or not report.stale:
        return report
    targets = _stale_contents(app, versions, limit)
    report.contents = len(targets)
    rehashed = [cid for cid, names in targets.items() if _rehash_one(app, cid, names, report)]
    report.rehashed = len(rehashed)
    if rematch and rehashed:
        from takedown import tasks

        tasks.load()  # the matching task, whichever runner this process uses
        for start in range(0, len(rehashed), BATCH):
            app.jobs.submit("match.contents", content_ids=rehashed[start : start + BATCH])
    return report


@task("signals.rehash")
def rehash_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    only = args.get("types")
    limit = args.get("limit")
    report = rehash(app, only=list(only) if only else None, limit=int(limit) if limit else None)
    return report.to_dict()
