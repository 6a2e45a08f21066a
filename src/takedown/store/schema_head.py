"""The Alembic revisions a database of this version of Takedown is at, kept in code.

Opening a database compares its ``alembic_version`` rows with :data:`SCHEMA_HEADS` instead of
loading Alembic and walking the migration scripts (which cost most of a light command's start).
A new migration must update this constant: ``tests/store/test_schema_head.py`` fails while it
differs from the heads of the scripts in ``migrations/versions``.
"""

from __future__ import annotations

#: The heads of the revision tree (feature branches may leave more than one).
SCHEMA_HEADS: frozenset[str] = frozenset({"0060", "0110"})
