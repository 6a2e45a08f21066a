"""The audit chain: an append-only, hash-chained record of every state change.

One generic mechanism, installed once per engine (:func:`install`): a cursor-level listener
sees every ``INSERT``, ``UPDATE`` and ``DELETE`` the application sends — through the ORM,
Core or the driver's own ``executemany`` (the ingest fast path) — and buffers one event per
statement on the connection (table, action, row count, the statement, a SHA-256 of the bound
values and, for small statements, the values themselves). When the transaction commits, the
buffered events are chained and written in the same transaction:

* the chain head (``audit_head``, one row) is locked (``SELECT … FOR UPDATE`` on PostgreSQL;
  SQLite has one writer at a time), so concurrent writers get consecutive sequence numbers;
  the head is the last lock a transaction takes, so the chain adds no lock-order deadlock;
* each event carries ``seq`` (1, 2, 3, … without gaps), the previous event's hash and its own
  hash = SHA-256(previous hash, canonical JSON of its fields).

A rolled-back transaction (or savepoint) leaves no events. :func:`verify` walks the chain and
names the first event that was edited, removed, inserted or reordered; the head row catches a
truncated tail. Whoever can rewrite the whole table *and* the head can forge a new chain:
export the head hash (``takedown audit verify --json``) to somewhere else to anchor it.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Integer, String, Text, event, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from takedown.store.models import Base

__all__ = [
    "AuditEvent",
    "AuditHead",
    "Broken",
    "acting_as",
    "current_actor",
    "install",
    "record",
    "verify",
]

GENESIS = "0" * 64
#: Tables never audited: the chain itself and Alembic's bookkeeping.
SKIP_TABLES = frozenset({"audit_event", "audit_head", "alembic_version"})
#: (table, set of columns) updates that are bookkeeping, not state changes.
SKIP_UPDATES: dict[str, frozenset[str]] = {"api_key": frozenset({"last_used_at"})}
#: Tables whose values are kept as a digest only: secrets (password, key and session hashes)
#: and deconfliction reasons, which only the holding agency may read.
DIGEST_ONLY_TABLES = frozenset({"api_user", "api_key", "api_web_session", "ops_hold"})
#: Statements with at most this many rows keep their bound values in the event.
KEEP_VALUES_ROWS = 20
MAX_VALUE_CHARS = 2000

_BUFFER = "takedown_audit_buffer"
_MARKS = "takedown_audit_savepoints"
_STATEMENT = re.compile(
    r"^\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?([A-Za-z_][\w]*)\"?",
    re.IGNORECASE,
)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_SET_COLUMNS = re.compile(r"\bSET\s+(.*?)\s+WHERE\b", re.IGNORECASE | re.DOTALL)

_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("takedown_actor", default=None)


class AuditEvent(Base):
    """One state change. ``seq`` orders the chain; ``hash`` covers every other column."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int] = mapped_column(Integer)
    statement: Mapped[str | None] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    data: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain head: the last event's sequence number and hash (one row, id 1)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# -- who is acting ------------------------------------------------------------------------------
def current_actor() -> str | None:
    return _actor.get()


@contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    """Every event recorded inside the block names ``actor`` (a user, key or command)."""
    token = _actor.set(actor[:200] if actor else None)
    try:
        yield
    finally:
        _actor.reset(token)


# -- hashing ------------------------------------------------------------------------------------
def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + f"…(+{len(value) - MAX_VALUE_CHARS} chars)"
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    body = _canonical(fields)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _fields(
    seq: int,
    at: datetime,
    actor: str | None,
    action: str,
    subject: str,
    rows: int,
    statement: str | None,
    digest: str,
    data: str | None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(),
        "actor": actor,
        "action": action,
        "subject": subject,
        "rows": rows,
        "statement": statement,
        "digest": digest,
        "data": data,
    }


@dataclass
class _Pending:
    at: datetime
    actor: str | None
    action: str
    subject: str
    rows: int
    statement: str | None
    digest: str
    data: str | None


# -- the listener -------------------------------------------------------------------------------
def _buffer(conn: Connection) -> list[_Pending]:
    found: list[_Pending] | None = conn.info.get(_BUFFER)
    if found is None:
        found = []
        conn.info[_BUFFER] = found
    return found


def _parse(statement: str) -> tuple[str, str] | None:
    found = _STATEMENT.match(statement)
    if found is None:
        return None
    verb = found.group(1).split()[0].lower()
    return verb, found.group(2).lower()


def _is_bookkeeping(table: str, statement: str) -> bool:
    skip = SKIP_UPDATES.get(table)
    if not skip:
        return False
    found = _SET_COLUMNS.search(statement)
    if found is None:
        return False
    columns = {part.split("=")[0].strip().strip('"').lower() for part in found.group(1).split(",")}
    return bool(columns) and columns <= skip


def _after_cursor_execute(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    parsed = _parse(statement)
    if parsed is None:
        return
    action, table = parsed
    if table in SKIP_TABLES or (action == "update" and _is_bookkeeping(table, statement)):
        return
    if executemany and all(isinstance(p, list | tuple | dict) for p in parameters or []):
        params = list(parameters or [])
        count = len(params)
        values = sum(len(p) for p in params)
    else:  # one parameter set (a multi-VALUES "insertmanyvalues" batch is flat, too)
        params = [parameters] if parameters else []
        count = 1
        values = len(parameters or ())
    rowcount = getattr(cursor, "rowcount", -1)
    # with RETURNING the driver counts rows only as they are fetched (after this event)
    counted = _RETURNING.search(statement) is None
    if counted and isinstance(rowcount, int) and rowcount >= 0:
        count = rowcount
        if count == 0:
            return  # nothing inserted (conflicts), updated or deleted: no state change
    keep = (
        len(params) <= KEEP_VALUES_ROWS
        and values <= KEEP_VALUES_ROWS * 20
        and table not in DIGEST_ONLY_TABLES
    )
    if keep:
        data: str | None = _canonical(_plain(params))
        body = data or ""
    else:
        # large statements (bulk intake): a digest of the exact bound values, computed by the
        # C JSON encoder without the per-value normalisation (kept values need it, this not)
        data = None
        body = json.dumps(params, default=repr, ensure_ascii=False, separators=(",", ":"))
    _buffer(conn).append(
        _Pending(
            at=datetime.now(UTC),
            actor=_actor.get(),
            action=action,
            subject=table,
            rows=count,
            statement=" ".join(statement.split())[:1000],
            digest=hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest(),
            data=data,
        )
    )


def record(
    conn: Connection, action: str, subject: str, detail: dict[str, Any] | None = None
) -> None:
    """An explicit event (an export, a report, a login refused …) in ``conn``'s transaction.

    For a Session: ``record(session.connection(), ...)``.
    """
    data = _canonical(_plain(detail or {}))
    _buffer(conn).append(
        _Pending(
            at=datetime.now(UTC),
            actor=_actor.get(),
            action=action[:32],
            subject=subject[:100],
            rows=1,
            statement=None,
            digest=hashlib.sha256(data.encode()).hexdigest(),
            data=data,
        )
    )


def _on_commit(conn: Connection) -> None:
    pending: list[_Pending] | None = conn.info.pop(_BUFFER, None)
    conn.info.pop(_MARKS, None)
    if not pending:
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, %s) ON CONFLICT (id) DO NOTHING",
            (GENESIS,),
        )
        row = conn.exec_driver_sql("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").one()
    else:
        conn.exec_driver_sql(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ?) ON CONFLICT (id) DO NOTHING",
            (GENESIS,),
        )
        row = conn.exec_driver_sql("SELECT seq, hash FROM audit_head WHERE id = 1").one()
    seq, prev = int(row[0]), str(row[1])
    rows: list[dict[str, Any]] = []
    for item in pending:
        seq += 1
        fields = _fields(
            seq,
            item.at,
            item.actor,
            item.action,
            item.subject,
            item.rows,
            item.statement,
            item.digest,
            item.data,
        )
        digest = event_hash(prev, fields)
        rows.append(
            {
                "seq": seq,
                "at": item.at,
                "actor": item.actor,
                "action": item.action,
                "subject": item.subject,
                "rows": item.rows,
                "statement": item.statement,
                "digest": item.digest,
                "data": item.data,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    conn.execute(insert(AuditEvent), rows)
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))


def _on_rollback(conn: Connection) -> None:
    conn.info.pop(_BUFFER, None)
    conn.info.pop(_MARKS, None)


def _on_savepoint(conn: Connection, name: str | None) -> None:
    # savepoints nest strictly (LIFO); the name may not be known yet, so keep a stack
    conn.info.setdefault(_MARKS, []).append(len(_buffer(conn)))


def _on_rollback_savepoint(conn: Connection, name: str | None, context: Any) -> None:
    marks: list[int] = conn.info.get(_MARKS, [])
    if marks:
        del _buffer(conn)[marks.pop() :]


def _on_release_savepoint(conn: Connection, name: str | None, context: Any) -> None:
    marks: list[int] = conn.info.get(_MARKS, [])
    if marks:
        marks.pop()


def _on_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info.pop(_BUFFER, None)
    record.info.pop(_MARKS, None)


def install(engine: Engine) -> None:
    """Records every state change sent through ``engine`` (idempotent)."""
    if event.contains(engine, "after_cursor_execute", _after_cursor_execute):
        return
    event.listen(engine, "checkin", _on_checkin)
    event.listen(engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)
    event.listen(engine, "savepoint", _on_savepoint)
    event.listen(engine, "rollback_savepoint", _on_rollback_savepoint)
    event.listen(engine, "release_savepoint", _on_release_savepoint)


def installed(engine: Engine) -> bool:
    return event.contains(engine, "after_cursor_execute", _after_cursor_execute)


# -- verification -------------------------------------------------------------------------------
@dataclass
class Broken:
    seq: int | None
    event_id: int | None
    problem: str


@dataclass
class Verdict:
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    broken: list[Broken] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken

    def to_dict(self) -> dict[str, Any]:
        first = self.broken[0] if self.broken else None
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_broken": None
            if first is None
            else {"seq": first.seq, "event_id": first.event_id, "problem": first.problem},
        }


def verify(engine: Engine, *, batch: int = 5000) -> Verdict:
    """Walks the chain in ``seq`` order; stops at the first broken event."""
    verdict = Verdict()
    table = AuditEvent.__table__
    with engine.connect() as conn:
        head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
        expected_seq, prev = 0, GENESIS
        last = -1
        while True:
            chunk: Sequence[Any] = conn.execute(
                select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
            ).all()
            if not chunk:
                break
            for row in chunk:
                last = row.seq
                expected_seq += 1
                verdict.events += 1
                problem = _check(row, expected_seq, prev)
                if problem is not None:
                    verdict.broken.append(Broken(row.seq, row.id, problem))
                    return verdict
                prev = row.hash
    verdict.head_seq = expected_seq
    verdict.head_hash = prev
    if head is None:
        if verdict.events:
            verdict.broken.append(Broken(None, None, "chain head missing"))
        return verdict
    if int(head[0]) != expected_seq or str(head[1]) != prev:
        verdict.broken.append(
            Broken(
                int(head[0]),
                None,
                f"chain head says event {head[0]} but the chain ends at event {expected_seq}: "
                "events at the end were removed or the head was changed",
            )
        )
    return verdict


def _check(row: Any, expected_seq: int, prev: str) -> str | None:
    if row.seq != expected_seq:
        what = "removed" if row.seq > expected_seq else "duplicated"
        return f"expected event {expected_seq}, found {row.seq}: events {what} or reordered"
    if row.prev_hash != prev:
        return "previous-hash link broken: an earlier event was changed, removed or reordered"
    fields = _fields(
        row.seq,
        row.at,
        row.actor,
        row.action,
        row.subject,
        row.rows,
        row.statement,
        row.digest,
        row.data,
    )
    if event_hash(prev, fields) != row.hash:
        return "hash mismatch: the event was edited"
    if row.data is not None and hashlib.sha256(row.data.encode()).hexdigest() != row.digest:
        return "values digest mismatch: the event's values were edited"
    return None
