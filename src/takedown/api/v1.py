"""``/api/v1``: sightings and content, match lookup, banks and entries, clusters, figures.

One router gathering the route modules, in the order of the OpenAPI document:
:mod:`~takedown.api.sightings`, :mod:`~takedown.api.lookup`, :mod:`~takedown.api.banks`,
:mod:`~takedown.api.clusters`; the shapes live in :mod:`~takedown.api.schemas` (re-exported
here for the routers of other features). Every route declares its scope with
:func:`takedown.api.common.scoped`; ``tests/api`` walks the route list and proves each one
refuses a missing, revoked or other-scope key.
"""

from __future__ import annotations

from fastapi import APIRouter

from takedown.api import banks, clusters, lookup, sightings
from takedown.api.schemas import (
    SAFE,
    BankName,
    Cursor,
    Id,
    Limit,
    One,
    Page,
    Text200,
)

router = APIRouter(prefix="/api/v1")
for _part in (sightings, lookup, banks, clusters):
    router.include_router(_part.router)

__all__ = ["SAFE", "BankName", "Cursor", "Id", "Limit", "One", "Page", "Text200", "router"]
