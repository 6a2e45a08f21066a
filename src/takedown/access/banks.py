"""Banks: an owning agency and a sharing setting.

* A bank created through the API belongs to the key's agency; one created at the command line
  belongs to the operator (no agency).
* ``shared`` (the default): every agency and platform key with the scope reads the bank, its
  entries and its hits. ``private``: only the owning agency does; to everyone else the bank
  does not exist (404) and its hits are left out of lookups.
* Only the owning agency changes a bank (adds or removes entries); an operator's bank is
  changed at the command line only. Every change is a ``bank_change`` row and an audit event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, true

from takedown.access.visibility import Viewer
from takedown.store.models import Bank

SHARING = ("shared", "private")
#: the operator at the command line (no agency, no platform): reads and changes every bank
OPERATOR = Viewer(None)


class BankRefused(PermissionError):
    """A change of a bank the caller's agency does not own (the message is safe to show)."""


def check_sharing(sharing: str) -> str:
    value = sharing.strip().lower()
    if value not in SHARING:
        raise ValueError(f"unknown sharing {sharing!r} (one of: {', '.join(SHARING)})")
    return value


def readable(viewer: Viewer) -> ColumnElement[bool]:
    """A filter on :class:`Bank`: the banks ``viewer`` may read (and get hits of)."""
    if viewer == OPERATOR:
        return true()
    shared = Bank.sharing == "shared"
    if viewer.agency_id is None:
        return shared
    return or_(shared, Bank.owner_agency_id == viewer.agency_id)


def may_read(viewer: Viewer, owner_agency_id: int | None, sharing: str) -> bool:
    if viewer == OPERATOR or sharing == "shared":
        return True
    return viewer.agency_id is not None and owner_agency_id == viewer.agency_id


def check_change(viewer: Viewer, bank: Any) -> None:
    """Raise :class:`BankRefused` unless ``viewer`` may change ``bank``."""
    if viewer == OPERATOR:
        return
    if viewer.platform_key is not None or viewer.agency_id is None:
        raise BankRefused("only the agency that owns a bank changes it")
    if bank.owner_agency_id != viewer.agency_id:
        raise BankRefused(
            f"bank {bank.name!r} belongs to another agency (or to the operator): "
            "only its owner changes it"
        )
