"""The store's guard for the boundary text rule (:mod:`takedown.boundary`).

Installed on every engine by :func:`takedown.store.db.make_engine`: before a statement goes to
the driver, every bound string is checked (NUL, lone surrogates) and every integer must fit in
64 bits; JSON values are checked before they are serialised. A refusal raises
:class:`~takedown.boundary.InvalidValue` (the faces answer 422/400), the same on SQLite and
PostgreSQL, and the transaction rolls back whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, event

from takedown.boundary import check_value


def checked_json(value: Any) -> str:
    """The engine's JSON serialiser: refuse, then dump as SQLAlchemy would."""
    check_value(value, "a JSON value")
    return json.dumps(value)


def _before_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    rows = parameters if executemany else [parameters]
    for row in rows or ():
        if isinstance(row, Mapping):
            for name, value in row.items():
                check_value(value, f"parameter {name}")
        elif isinstance(row, list | tuple):
            for value in row:
                check_value(value, "a parameter")


def install(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)


__all__ = ["checked_json", "install"]
