"""Verified API keys kept in memory for a short while, so a keyed request costs no query.

* Entries are found by the SHA-256 of the presented key (the key itself is not kept); only
  keys that verified are kept, at most ``KEY_CACHE_ENTRIES``, each for ``KEY_CACHE_SECONDS``.
* A key's expiry is checked on every use.
* Revoking or rotating a key through :mod:`takedown.api.auth` forgets it at once (in this
  process). Revocations made by other processes (the CLI, a second server) are noticed by a
  poll of the key table every ``REVOCATION_POLL_SECONDS``, which empties the cache.
* Other edits made straight in the database (scopes, binding, expiry) show after at most
  ``KEY_CACHE_SECONDS``.

:meth:`KeyCache.fresh` never touches the database (safe on the event loop);
:meth:`KeyCache.verify` may.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import func, select

from takedown.api.models import ApiKey
from takedown.store.db import Database

KEY_CACHE_SECONDS = 30.0
REVOCATION_POLL_SECONDS = 2.0
KEY_CACHE_ENTRIES = 10_000


class Verified(Protocol):
    """What the cache needs of a verified key (``takedown.api.auth.Principal``)."""

    @property
    def key_id(self) -> int: ...

    @property
    def expires_at(self) -> datetime | None: ...


P = TypeVar("P", bound=Verified)


@dataclass(frozen=True)
class _Cached(Generic[P]):
    principal: P
    until: float  # time.monotonic()


class KeyCache:
    """The verified keys of one database (one cache per :class:`Database`)."""

    def __init__(self, db: Database) -> None:
        self._db = weakref.ref(db)
        self._lock = threading.Lock()
        self._entries: dict[bytes, _Cached[Any]] = {}
        self._mark: tuple[Any, ...] | None = None
        self._poll_due = 0.0
        self._generation = 0  # bumped by every revocation seen

    @classmethod
    def of(cls, db: Database) -> KeyCache:
        with _CACHES_LOCK:
            cache = _CACHES.get(db)
            if cache is None:
                cache = _CACHES[db] = cls(db)
            return cache

    @staticmethod
    def _digest(presented: str) -> bytes:
        return hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()

    def fresh(self, presented: str) -> Any:
        """The principal of a key verified lately; ``None`` when the database must be asked
        (never seen, kept too long, expired, or the revocation poll is due)."""
        if time.monotonic() >= self._poll_due:
            return None
        return self._kept(presented)

    def _kept(self, presented: str) -> Any:
        now = time.monotonic()
        found = self._entries.get(self._digest(presented)) if len(presented) <= 200 else None
        if found is None or found.until <= now:
            return None
        expires = found.principal.expires_at
        if expires is not None and expires <= datetime.now(UTC):
            return None
        return found.principal

    def verify(self, presented: str, check: Callable[[str], P | None]) -> P | None:
        """``check(presented)`` (the database's answer), from memory when possible."""
        self._poll()
        found: P | None = self._kept(presented)
        if found is not None:
            return found
        generation = self._generation
        principal = check(presented)
        if principal is not None:
            with self._lock:
                if generation != self._generation:  # a revocation ran meanwhile: do not keep
                    return principal
                if len(self._entries) >= KEY_CACHE_ENTRIES:
                    self._entries.clear()
                self._entries[self._digest(presented)] = _Cached(
                    principal, time.monotonic() + KEY_CACHE_SECONDS
                )
        return principal

    def forget(self, key_id: int) -> None:
        """Drop a revoked key (call after the revocation is committed)."""
        with self._lock:
            self._generation += 1
            for digest in [d for d, c in self._entries.items() if c.principal.key_id == key_id]:
                del self._entries[digest]

    def _poll(self) -> None:
        db = self._db()
        if db is None or time.monotonic() < self._poll_due:
            return
        with self._lock:
            if time.monotonic() < self._poll_due:
                return
            with db.session() as session:
                mark = tuple(
                    session.execute(
                        select(
                            func.count(ApiKey.id),
                            func.count(ApiKey.revoked_at),
                            func.max(ApiKey.revoked_at),
                        )
                    ).one()
                )
            if mark != self._mark:
                self._generation += 1
                self._entries.clear()
                self._mark = mark
            self._poll_due = time.monotonic() + REVOCATION_POLL_SECONDS


_CACHES: weakref.WeakKeyDictionary[Database, KeyCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()
