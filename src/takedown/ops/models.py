"""Tables of the ops feature (on the shared Base; see takedown.store.schema)."""

from __future__ import annotations

from takedown.store.models import Base

__all__ = ["Base"]
