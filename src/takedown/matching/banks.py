"""Banks of known material (and allow-lists): create, fill, curate, export, version history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from takedown.access.banks import OPERATOR, BankRefused, check_change, check_sharing
from takedown.access.visibility import Viewer
from takedown.app import App
from takedown.matching.formats import EXCHANGE_LABELS, LABEL_FIELDS, VERDICTS, BadRow, BankRow
from takedown.plugins import signal_types
from takedown.signals.base import InvalidSignal
from takedown.store.models import Bank, BankChange, BankEntry, EntryFeedback

__all__ = ["VERDICTS", "BankError", "BankRefused"]


class BankError(Exception):
    """A bank operation that cannot be done as asked."""


#: Rejected rows an import report lists (the rest are counted): a 10M-line file of bad rows
#: must not hold 10M reasons in memory.
MAX_REPORTED = 1000
#: Rows validated, looked up and inserted together.
BATCH = 2000


@dataclass
class BankImportReport:
    bank: str
    added: int = 0
    duplicates: int = 0
    restored: int = 0
    rejected: list[BadRow] = field(default_factory=list)
    rejected_count: int = 0

    def reject(self, row: BadRow) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append(row)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "added": self.added,
            "duplicates": self.duplicates,
            "restored": self.restored,
            "rejected_count": self.rejected_count,
            "rejected": [{"ref": r.ref, "reason": r.reason} for r in self.rejected],
        }


def _validate_thresholds(thresholds: Mapping[str, int]) -> dict[str, int]:
    types = signal_types()
    out: dict[str, int] = {}
    for name, value in thresholds.items():
        if name not in types:
            raise BankError(f"unknown signal type {name!r}; known: {', '.join(sorted(types))}")
        limit = types[name].max_threshold
        if not 0 <= value <= limit:
            raise BankError(f"threshold for {name} must be between 0 and {limit}, got {value}")
        out[name] = int(value)
    return out


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    out = {k: str(v)[:500] for k, v in (labels or {}).items() if v not in (None, "")}
    if "confidence" in out:
        try:
            confidence = float(out["confidence"])
        except ValueError as exc:
            raise BankError(
                f"confidence must be a number from 0 to 1, got {out['confidence']!r}"
            ) from exc
        if not 0.0 <= confidence <= 1.0:
            raise BankError(f"confidence must be from 0 to 1, got {confidence}")
    return out


def get_bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise BankError(f"no bank named {name!r}")
    return bank


def _change(
    session: Session,
    bank: Bank,
    action: str,
    actor: str | None,
    entry: BankEntry | None = None,
    **detail: Any,
) -> None:
    bank.version += 1
    session.add(
        BankChange(
            bank_id=bank.id,
            entry_id=entry.id if entry is not None else None,
            version=bank.version,
            action=action,
            actor=actor,
            detail=detail or None,
        )
    )


def create_bank(
    app: App,
    name: str,
    *,
    description: str | None = None,
    allow_list: bool = False,
    thresholds: Mapping[str, int] | None = None,
    labels: Mapping[str, str] | None = None,
    actor: str | None = None,
    owner_agency_id: int | None = None,
    sharing: str = "shared",
) -> Bank:
    """A new bank of ``owner_agency_id`` (None: the operator's), ``shared`` or ``private``
    (see :mod:`takedown.access.banks`)."""
    try:
        sharing = check_sharing(sharing)
    except ValueError as exc:
        raise BankError(str(exc)) from exc
    name = name.strip()
    if not name or len(name) > 200:
        raise BankError("a bank needs a name of 1 to 200 characters")
    checked = _validate_thresholds(thresholds or {})
    with app.db.session() as session:
        if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
            raise BankError(f"a bank named {name!r} exists already")
        bank = Bank(
            name=name,
            description=description,
            allow_list=allow_list,
            thresholds=checked or None,
            labels=_labels(labels) or None,
            version=0,
            owner_agency_id=owner_agency_id,
            sharing=sharing,
        )
        session.add(bank)
        session.flush()
        _change(session, bank, "create", actor, allow_list=allow_list, thresholds=checked)
        return bank


@dataclass(frozen=True)
class BankInfo:
    bank: Bank
    entries: int
    by_type: dict[str, int]
    quarantined: int


def list_banks(app: App) -> list[BankInfo]:
    with app.db.session() as session:
        banks = list(session.scalars(select(Bank).order_by(Bank.name)))
        counts = session.execute(
            select(BankEntry.bank_id, BankEntry.signal_type, BankEntry.status, func.count())
            .where(BankEntry.removed_at.is_(None))
            .group_by(BankEntry.bank_id, BankEntry.signal_type, BankEntry.status)
        ).all()
    out = []
    for bank in banks:
        by_type: Counter[str] = Counter()
        held = 0
        for bank_id, kind, status, n in counts:
            if bank_id == bank.id:
                by_type[kind] += n
                held += n if status == "quarantined" else 0
        out.append(BankInfo(bank, sum(by_type.values()), dict(by_type), held))
    return out


def add_entries(
    app: App,
    bank_name: str,
    rows: Iterable[BankRow | BadRow],
    actor: str | None = None,
    viewer: Viewer = OPERATOR,
) -> BankImportReport:
    """Add rows to a bank; idempotent (an entry already present is a duplicate). Only the
    bank's owner (``viewer``; the operator by default) may (:class:`BankRefused`).

    One transaction: a file is imported whole or, if anything fails, not at all. Rows go in
    batches (validated, looked up and inserted together), so memory stays flat however many
    rows the iterable yields; rejected rows are counted, and the first :data:`MAX_REPORTED`
    kept with their reasons."""
    types = signal_types()
    report = BankImportReport(bank=bank_name)
    with app.db.session() as session:
        bank = get_bank(session, bank_name)
        check_change(viewer, bank)
        defaults = dict(bank.labels or {})
        batch: list[tuple[BankRow, str, dict[str, str]]] = []
        for row in rows:
            if isinstance(row, BadRow):
                report.reject(row)
                continue
            kind = types.get(row.signal_type)
            if kind is None:
                report.reject(BadRow(row.ref, f"unknown signal type {row.signal_type[:40]!r}"))
                continue
            try:
                value = kind.validate(row.value)
                labels = _labels({**defaults, **row.labels})
            except (InvalidSignal, BankError) as exc:
                report.reject(BadRow(row.ref, str(exc)))
                continue
            batch.append((row, value, labels))
            if len(batch) >= BATCH:
                _add_batch(session, bank, batch, actor, report)
                batch = []
        if batch:
            _add_batch(session, bank, batch, actor, report)
    return report


def _entries_of(
    session: Session, bank: Bank, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, datetime | None]]:
    """(id, removed_at) of this bank's entries with these (signal type, value) keys."""
    by_type: dict[str, list[str]] = {}
    for kind, value in keys:
        by_type.setdefault(kind, []).append(value)
    found: dict[tuple[str, str], tuple[int, datetime | None]] = {}
    for kind, values in by_type.items():
        for entry_id, value, removed_at in session.execute(
            select(BankEntry.id, BankEntry.value, BankEntry.removed_at).where(
                BankEntry.bank_id == bank.id,
                BankEntry.signal_type == kind,
                BankEntry.value.in_(values),
            )
        ):
            found[(kind, value)] = (entry_id, removed_at)
    return found


def _ids_in_order(session: Session, bank: Bank, new: list[dict[str, Any]]) -> list[int]:
    found = _entries_of(session, bank, [(r["signal_type"], r["value"]) for r in new])
    return [found[(r["signal_type"], r["value"])][0] for r in new]


def _add_batch(
    session: Session,
    bank: Bank,
    batch: list[tuple[BankRow, str, dict[str, str]]],
    actor: str | None,
    report: BankImportReport,
) -> None:
    """Insert a batch of valid rows: duplicates counted, removed entries restored."""
    wanted: dict[tuple[str, str], tuple[BankRow, dict[str, str]]] = {}
    for row, value, labels in batch:
        key = (row.signal_type, value)
        if key in wanted:
            report.duplicates += 1
        else:
            wanted[key] = (row, labels)
    existing = _entries_of(session, bank, list(wanted))
    new: list[dict[str, Any]] = []
    refs: list[str] = []
    for key, (row, labels) in wanted.items():
        if key in existing:
            entry_id, removed_at = existing[key]
            if removed_at is None:
                report.duplicates += 1
                continue
            entry = session.get(BankEntry, entry_id)
            if entry is not None:
                entry.removed_at = None
                entry.labels = labels or None
                session.flush()
                _change(session, bank, "restore", actor, entry)
                report.restored += 1
            continue
        new.append(
            {
                "bank_id": bank.id,
                "signal_type": key[0],
                "value": key[1],
                "labels": labels or None,
                "external_id": row.external_id,
                "status": "active",
                "added_at": datetime.now(UTC),
                "match_count": 0,
            }
        )
        refs.append(row.ref)
    if not new:
        return
    # plain executemany statements: one per batch (the audit chain digests each as a whole;
    # RETURNING would make SQLite insert, and the audit keep, row by row)
    session.execute(insert(BankEntry), new)
    ids = _ids_in_order(session, bank, new)
    changes = []
    for entry_id, ref in zip(ids, refs, strict=True):
        bank.version += 1
        changes.append(
            {
                "bank_id": bank.id,
                "entry_id": entry_id,
                "version": bank.version,
                "action": "add",
                "actor": actor,
                "at": datetime.now(UTC),
                "detail": {"ref": ref},
            }
        )
    session.execute(insert(BankChange), changes)
    session.flush()
    report.added += len(ids)


def set_enabled(
    app: App, name: str, enabled: bool, actor: str | None = None, viewer: Viewer = OPERATOR
) -> Bank:
    """Turn matching against a bank on or off (HMA's ``matching_enabled_ratio`` 1 or 0)."""
    with app.db.session() as session:
        bank = get_bank(session, name)
        check_change(viewer, bank)
        if bank.enabled != enabled:
            bank.enabled = enabled
            _change(session, bank, "enable" if enabled else "disable", actor)
        return bank


def rename_bank(
    app: App, name: str, new: str, actor: str | None = None, viewer: Viewer = OPERATOR
) -> Bank:
    new = new.strip()
    if not new or len(new) > 200:
        raise BankError("a bank needs a name of 1 to 200 characters")
    with app.db.session() as session:
        bank = get_bank(session, name)
        check_change(viewer, bank)
        if new != name and session.scalar(select(Bank.id).where(Bank.name == new)) is not None:
            raise BankError(f"a bank named {new!r} exists already")
        bank.name = new
        _change(session, bank, "rename", actor, old=name, new=new)
        return bank


def retire_bank(app: App, name: str, actor: str | None = None, viewer: Viewer = OPERATOR) -> Bank:
    """What deleting a bank means here: every entry removed and matching off; the bank and
    its history stay (an audit trail of what was matched against)."""
    now = datetime.now(UTC)
    with app.db.session() as session:
        bank = get_bank(session, name)
        check_change(viewer, bank)
        for entry in session.scalars(
            select(BankEntry).where(BankEntry.bank_id == bank.id, BankEntry.removed_at.is_(None))
        ):
            entry.removed_at = now
            _change(session, bank, "remove", actor, entry)
        bank.enabled = False
        _change(session, bank, "disable", actor)
        return bank


def remove_entry(
    app: App, entry_id: int, actor: str | None = None, viewer: Viewer = OPERATOR
) -> BankEntry:
    """Remove an entry; only its bank's owner (``viewer``) may (:class:`BankRefused`)."""
    with app.db.session() as session:
        entry = session.get(BankEntry, entry_id)
        if entry is None or entry.removed_at is not None:
            raise BankError(f"no active bank entry {entry_id}")
        bank = session.get(Bank, entry.bank_id)
        if bank is None:
            raise BankError(f"bank entry {entry_id} has no bank")
        check_change(viewer, bank)
        entry.removed_at = datetime.now(UTC)
        _change(session, bank, "remove", actor, entry)
        return entry


def set_entry_status(
    app: App, entry_id: int, status: str, actor: str | None, reason: str
) -> BankEntry:
    """Quarantine an entry (flood control) or release it back to active."""
    with app.db.session() as session:
        return set_status_in(session, entry_id, status, actor, reason)


def set_status_in(
    session: Session, entry_id: int, status: str, actor: str | None, reason: str
) -> BankEntry:
    if status not in ("active", "quarantined"):
        raise BankError(f"unknown entry status {status!r}")
    entry = session.get(BankEntry, entry_id)
    if entry is None:
        raise BankError(f"no bank entry {entry_id}")
    if entry.status == status:
        return entry
    entry.status = status
    bank = session.get(Bank, entry.bank_id)
    if bank is None:
        raise BankError(f"bank entry {entry_id} has no bank")
    action = "quarantine" if status == "quarantined" else "release"
    _change(session, bank, action, actor, entry, reason=reason)
    return entry


def add_feedback(
    app: App, entry_id: int, verdict: str, actor: str | None = None, note: str | None = None
) -> EntryFeedback:
    if verdict not in VERDICTS:
        raise BankError(f"feedback must be one of {', '.join(VERDICTS)}")
    with app.db.session() as session:
        if session.get(BankEntry, entry_id) is None:
            raise BankError(f"no bank entry {entry_id}")
        feedback = EntryFeedback(entry_id=entry_id, verdict=verdict, actor=actor, note=note)
        session.add(feedback)
        return feedback


def export_rows(app: App, bank_name: str) -> list[BankRow]:
    """Active entries with labels and a feedback summary ("agree:2;false_positive:1")."""
    with app.db.session() as session:
        bank = get_bank(session, bank_name)
        entries = list(
            session.scalars(
                select(BankEntry)
                .where(BankEntry.bank_id == bank.id, BankEntry.removed_at.is_(None))
                .order_by(BankEntry.id)
            )
        )
        feedback = session.execute(
            select(EntryFeedback.entry_id, EntryFeedback.verdict, func.count())
            .join(BankEntry, BankEntry.id == EntryFeedback.entry_id)
            .where(BankEntry.bank_id == bank.id)
            .group_by(EntryFeedback.entry_id, EntryFeedback.verdict)
        ).all()
    summary: dict[int, list[str]] = {}
    for entry_id, verdict, n in sorted(feedback):
        summary.setdefault(entry_id, []).append(f"{verdict}:{n}")
    rows = []
    for entry in entries:
        labels = {
            k: str(v)
            for k, v in (entry.labels or {}).items()
            if k in LABEL_FIELDS or k in EXCHANGE_LABELS
        }
        if entry.id in summary:
            labels["feedback"] = ";".join(summary[entry.id])
        rows.append(
            BankRow(f"entry {entry.id}", entry.signal_type, entry.value, entry.external_id, labels)
        )
    return rows


def history(app: App, bank_name: str) -> list[BankChange]:
    with app.db.session() as session:
        bank = get_bank(session, bank_name)
        return list(
            session.scalars(
                select(BankChange).where(BankChange.bank_id == bank.id).order_by(BankChange.id)
            )
        )


def entries(app: App, bank_name: str, *, include_removed: bool = False) -> list[BankEntry]:
    with app.db.session() as session:
        bank = get_bank(session, bank_name)
        query = select(BankEntry).where(BankEntry.bank_id == bank.id)
        if not include_removed:
            query = query.where(BankEntry.removed_at.is_(None))
        return list(session.scalars(query.order_by(BankEntry.id)))
