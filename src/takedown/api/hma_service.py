"""The work behind the HMA-compatible routes (:mod:`takedown.api.hma`): names and values
converted between pytx's and Takedown's, lookups through the shared :class:`LookupService`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from takedown.access.banks import BankRefused, may_read
from takedown.access.visibility import Viewer
from takedown.api.common import ApiError
from takedown.api.service import LookupService
from takedown.app import App
from takedown.matching import banks as bank_ops
from takedown.matching import exchange_names as names
from takedown.matching.formats import BadRow, BankRow, typed_rows
from takedown.matching.lookup import BankHit, LookupFailed, hash_file
from takedown.plugins import signal_types
from takedown.signals.base import SignalError
from takedown.store.models import Bank, BankChange, BankEntry


def _known() -> frozenset[str]:
    return frozenset(signal_types())


def takedown_signal(signal_type: str, signal: str) -> tuple[str, str]:
    """(Takedown type, stored value) of a pytx-named signal, or a 400."""
    kind = names.takedown_name(signal_type, _known())
    if kind is None:
        raise ApiError(400, "bad_signal", f"No such SignalType '{signal_type[:64]}'")
    try:
        value = names.from_pytx(kind, signal, signal_type)
        return kind, signal_types()[kind].validate(value)
    except SignalError as exc:
        raise ApiError(400, "bad_signal", f"invalid signal: {exc}") from exc


def readable_banks(app: App, viewer: Viewer) -> set[str]:
    """Names of the banks ``viewer`` may read (shared ones and its agency's private ones)."""
    with app.db.session() as session:
        return {
            name
            for name, owner, sharing in session.execute(
                select(Bank.name, Bank.owner_agency_id, Bank.sharing)
            )
            if may_read(viewer, owner, sharing)
        }


def lookup_hits(
    service: LookupService,
    signal_type: str,
    signal: str,
    banks: set[str] | None,
    enabled_only: bool,
    readable: set[str],
) -> list[BankHit]:
    """Bank hits of one signal in the banks the caller may read (``readable``; allow-list
    banks left out: HMA has no such thing)."""
    kind, value = takedown_signal(signal_type, signal)
    try:
        result = service.by_hash(kind, [value], sorted(banks) if banks else None)
    except LookupFailed as exc:
        raise ApiError(400, "bad_signal", str(exc)) from exc
    hits = [h for h in result.bank_hits if not h.allow_list and h.bank in readable]
    if banks is not None:
        hits = [h for h in hits if h.bank in banks]
    if enabled_only:
        hits = [h for h in hits if h.status == "active"]
    return hits


def by_bank(hits: Iterable[BankHit]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        out.setdefault(hit.bank, []).append(
            {"bank_content_id": hit.entry_id, "distance": str(hit.distance)}
        )
    return out


def hashes_of_file(path: Path, wanted: set[str] | None) -> dict[str, str]:
    """The file's signals that pytx has names for, by pytx name (HMA's ``/h/hash`` answer)."""
    try:
        _kind, values, _errors = hash_file(path)
    except (OSError, ValueError) as exc:
        raise ApiError(400, "unreadable_file", str(exc)[:500]) from exc
    out: dict[str, str] = {}
    for value in values:
        if value.variant != "":
            continue
        carried = names.to_pytx(value.signal_type, value.value)
        if carried is not None and (wanted is None or carried[0] in wanted):
            out.setdefault(carried[0], carried[1])
    return out


def compare(body: dict[str, Any]) -> dict[str, Any]:
    types = signal_types()
    out: dict[str, Any] = {}
    for name, pair in body.items():
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(p, str) for p in pair)
        ):
            raise ApiError(400, "invalid_request", "Comparison hash list length must be exactly 2")
        left = takedown_signal(name, pair[0])
        right = takedown_signal(name, pair[1])
        kind = types[left[0]]
        distance = kind.distance(left[1], right[1])
        out[name] = [distance <= kind.default_threshold, {"distance": distance}]
    return out


def index_status(app: App, only: str | None) -> dict[str, Any]:
    with app.db.session() as session:
        counts = dict(
            session.execute(
                select(BankEntry.signal_type, func.count())
                .where(BankEntry.removed_at.is_(None))
                .group_by(BankEntry.signal_type)
            ).all()
        )
        built = session.scalar(select(func.max(BankChange.at)))
    built_to = int(built.timestamp()) if built is not None else -1
    out: dict[str, Any] = {}
    for kind, pytx_name in sorted(names.TAKEDOWN_TO_PYTX.items(), key=lambda kv: kv[1]):
        if only is not None and pytx_name != only:
            continue
        size = int(counts.get(kind, 0))
        out[pytx_name] = {"present": True, "built_to": built_to, "size": size}
    if only is not None and not out:
        raise ApiError(400, "invalid_request", f"No such signal type '{only[:64]}'")
    return out


def index_state(service: LookupService) -> tuple[bool, bool]:
    """(ready, stale): the shared matcher is built on first use and re-checked every few
    seconds, so once it answers it is never stale for long."""
    try:
        service.matcher()
    except SQLAlchemyError:
        return False, False
    return True, False


def bank_config(bank: Bank) -> dict[str, Any]:
    return {"name": bank.name, "matching_enabled_ratio": 1.0 if bank.enabled else 0.0}


def enabled_of(body: dict[str, Any]) -> bool:
    if "enabled_ratio" in body:
        try:
            return float(body["enabled_ratio"]) > 0.0
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "invalid_request", "enabled_ratio must be a number") from exc
    value = body.get("enabled", True)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def find_bank(app: App, name: str, viewer: Viewer) -> Bank | None:
    """The bank ``name`` if ``viewer`` may read it (a private bank of another agency: None)."""
    with app.db.session() as session:
        bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None or not may_read(viewer, bank.owner_agency_id, bank.sharing):
        return None
    return bank


def bank_or_404(app: App, name: str, viewer: Viewer) -> Bank:
    bank = find_bank(app, name, viewer)
    if bank is None:
        raise ApiError(404, "not_found", f"bank '{name[:200]}' not found")
    return bank


def add_signals(
    app: App, bank: str, signals: dict[str, Any], actor: str, viewer: Viewer
) -> dict[str, Any]:
    """Add ``{pytx name: signal}`` to a bank; the id is the first signal's entry id."""
    if not signals:
        raise ApiError(400, "invalid_request", "No signals given")
    known = _known()
    rows: list[BankRow] = []
    for name, value in signals.items():
        if not isinstance(value, str):
            raise ApiError(400, "invalid_request", f"Invalid {name[:64]} signal: not a string")
        for row in typed_rows(name, name, value.strip(), known):
            if isinstance(row, BadRow):
                raise ApiError(400, "bad_signal", f"Invalid {name[:64]} signal: {row.reason}")
            rows.append(row)
    try:
        report = bank_ops.add_entries(app, bank, rows, actor, viewer=viewer)
    except BankRefused as exc:
        raise ApiError(403, "forbidden", str(exc)) from exc
    if report.rejected:
        bad = report.rejected[0]
        raise ApiError(400, "bad_signal", f"Invalid {bad.ref[:64]} signal: {bad.reason}")
    types = signal_types()
    first = rows[0]
    with app.db.session() as session:
        entry_id = session.scalar(
            select(BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(
                Bank.name == bank,
                BankEntry.signal_type == first.signal_type,
                BankEntry.value == types[first.signal_type].validate(first.value),
            )
        )
    return {"id": entry_id, "signals": {k: v for k, v in signals.items()}}


def remove_content(app: App, bank: str, entry_id: int, actor: str, viewer: Viewer) -> int:
    with app.db.session() as session:
        found = session.scalar(
            select(BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Bank.name == bank, BankEntry.id == entry_id, BankEntry.removed_at.is_(None))
        )
    if found is None:
        return 0
    try:
        bank_ops.remove_entry(app, entry_id, actor, viewer=viewer)
    except BankRefused as exc:
        raise ApiError(403, "forbidden", str(exc)) from exc
    return 1
