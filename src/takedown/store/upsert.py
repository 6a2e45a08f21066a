"""Insert-if-absent for SQLite and PostgreSQL, returning what was actually inserted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection


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
    if name == "postgresql":  # each dialect's module is loaded by the backend that uses it
        from sqlalchemy.dialects import postgresql

        pg_stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
        stmt: Any = pg_stmt
    elif name == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    else:
        raise NotImplementedError(f"insert_ignore does not support the {name} dialect")
    if returning:
        cols: list[Column[Any]] = [table.c[c] for c in returning]
        result = conn.execute(stmt.returning(*cols), list(rows))
        return [tuple(r) for r in result.all()]
    conn.execute(stmt, list(rows))
    return []


def insert_ignore_count(
    conn: Connection, table: Any, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> int:
    """Like :func:`insert_ignore` without RETURNING, through the driver's own executemany.

    Values pass through each column type's bind processor, so what is stored is exactly what
    the ORM would store; returns how many rows were inserted (conflicts are not counted).
    """
    if not rows:
        return 0
    dialect = conn.dialect
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    processors = [col.type._cached_bind_processor(dialect) for col in columns]
    quote = dialect.identifier_preparer.quote
    if dialect.paramstyle == "qmark":
        marks = ", ".join("?" for _ in names)
    elif dialect.paramstyle in ("format", "pyformat"):
        marks = ", ".join("%s" for _ in names)
    else:
        raise NotImplementedError(f"paramstyle {dialect.paramstyle} is not supported")
    target = ", ".join(quote(c) for c in conflict)
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
        f"VALUES ({marks}) ON CONFLICT ({target}) DO NOTHING"
    )
    values = [
        tuple(
            proc(row[name]) if proc is not None else row[name]
            for name, proc in zip(names, processors, strict=True)
        )
        for row in rows
    ]
    result = conn.exec_driver_sql(sql, values)
    return max(int(result.rowcount), 0)
