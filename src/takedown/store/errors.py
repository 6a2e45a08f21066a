"""Store errors that faces catch without importing the database layer (no SQLAlchemy)."""

from __future__ import annotations


class SchemaError(Exception):
    """The database schema is older (or newer) than this version of Takedown expects."""
