"""Tables of the access package (on the shared Base; see takedown.store.schema).

``access_share``: one agency shares one of its sightings with another on purpose (the only
way, besides a joint operation, that an agency sees another's notes, operation, decisions and
media). Every share and its withdrawal is a row, so the audit chain records both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.store.models import Base, utcnow

__all__ = ["AccessShare", "Base"]


class AccessShare(Base):
    """``sighting_id`` (of ``from_agency_id``) is shared with ``to_agency_id``."""

    __tablename__ = "access_share"
    __table_args__ = (UniqueConstraint("sighting_id", "to_agency_id", name="uq_access_share_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sighting.id"), index=True)
    from_agency_id: Mapped[int] = mapped_column(ForeignKey("api_agency.id"))
    to_agency_id: Mapped[int] = mapped_column(ForeignKey("api_agency.id"), index=True)
    shared_by: Mapped[str | None] = mapped_column(String(200))
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
