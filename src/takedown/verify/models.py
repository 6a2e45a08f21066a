"""Tables of the verify feature (on the shared Base; see takedown.store.schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from takedown.store.models import Base, utcnow


class VerifyCheck(Base):
    """One removal check of a sighting's URL from one vantage point."""

    __tablename__ = "verify_check"
    __table_args__ = (Index("ix_verify_check_sighting_at", "sighting_id", "checked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sighting.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    vantage: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(16))  # live|removed|unreachable|unknown
    http_status: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    elapsed: Mapped[float | None] = mapped_column(default=None)
    # set when a "live" check follows a removal: the item came back (reinstated/flapping)
    reinstated: Mapped[bool] = mapped_column(default=False)


__all__ = ["Base", "VerifyCheck"]
