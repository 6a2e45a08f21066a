"""Insert-if-absent for SQLite and PostgreSQL, returning what was actually inserted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(
    conn: Connection,
    table: Any,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT … ON CONFLICT (conflict) DO NOTHING [RETURNING …] in one executemany.

    Returns the requested columns of the rows that were inserted (none for conflicts).
    """
    if not rows:
        return []
    name = conn.dialect.name
    if name == "postgresql":
        pg_stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
        stmt: Any = pg_stmt
    elif name == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    else:
        raise NotImplementedError(f"insert_ignore does not support the {name} dialect")
    if returning:
        cols: list[Column[Any]] = [table.c[c] for c in returning]
        result = conn.execute(stmt.returning(*cols), list(rows))
        return [tuple(r) for r in result.all()]
    conn.execute(stmt, list(rows))
    return []
