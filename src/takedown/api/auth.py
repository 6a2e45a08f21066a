"""API keys, users and web sessions: creation, hashing, verification, rotation, revocation.

Keys look like ``tdk_<prefix>_<secret>``. The prefix (public, unique) finds the row; only the
SHA-256 of the whole key is stored (keys carry 256 bits of randomness, so a fast hash is
enough); comparison is constant-time. Passwords are hashed with scrypt and a random salt.

The HTTP API verifies keys through :class:`~takedown.api.keycache.KeyCache` (a verified key
is kept in memory for a short while, so a keyed request costs no query); :func:`verify_key`
always asks the database. Revoking or rotating a key here forgets it in that cache at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.access.passwords import PasswordRefused, check_password
from takedown.access.passwords import hash_password as _hash_password
from takedown.access.roles import PLATFORM_SCOPES, ROLE_ALIASES, ROLES, SCOPES
from takedown.api.keycache import KeyCache
from takedown.api.models import ApiAgency, ApiKey, ApiUser, ApiWebSession
from takedown.app import App

__all__ = [
    "PLATFORM_SCOPES",
    "ROLES",
    "ROLE_ALIASES",
    "SCOPES",
    "AuthError",
    "Principal",
    "WebUser",
    "check_password",
    "hash_password",
]

KEY_PREFIX = "tdk"
SESSION_HOURS = 12


class AuthError(Exception):
    """A key, user or session operation that cannot be done as asked."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a verified, unrevoked key."""

    key_id: int
    name: str
    scopes: frozenset[str]
    agency_id: int | None
    platform_key: str | None
    expires_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class NewKey:
    id: int
    prefix: str
    secret: str  # the whole key, shown once
    name: str
    scopes: list[str]
    agency: str | None
    platform: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prefix": self.prefix,
            "key": self.secret,
            "name": self.name,
            "scopes": self.scopes,
            "agency": self.agency,
            "platform": self.platform,
        }


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


# -- passwords ------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    try:
        return _hash_password(password)
    except PasswordRefused as exc:
        raise AuthError(str(exc)) from exc


# -- agencies and users ---------------------------------------------------------------------
def agency_id(session: Session, name: str | None, *, create: bool = True) -> int | None:
    if not name:
        return None
    name = name.strip()[:200]
    found = session.scalar(select(ApiAgency.id).where(ApiAgency.name == name))
    if found is not None:
        return found
    if not create:
        raise AuthError(f"no agency named {name!r}")
    agency = ApiAgency(name=name)
    session.add(agency)
    session.flush()
    return agency.id


def create_user(
    app: App, username: str, password: str, *, agency: str | None = None, role: str = "analyst"
) -> ApiUser:
    username = username.strip()
    if not 1 <= len(username) <= 200:
        raise AuthError("a username needs 1 to 200 characters")
    role = ROLE_ALIASES.get(role.strip().lower(), role.strip().lower())
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r} (one of: {', '.join(ROLES)})")
    hashed = hash_password(password)
    with app.db.session() as session:
        if session.scalar(select(ApiUser.id).where(ApiUser.username == username)) is not None:
            raise AuthError(f"a user named {username!r} exists already")
        user = ApiUser(
            username=username,
            password_hash=hashed,
            agency_id=agency_id(session, agency),
            role=role,
        )
        session.add(user)
        session.flush()
        return user


_DUMMY: list[str] = []


def authenticate_user(app: App, username: str, password: str) -> ApiUser | None:
    with app.db.session() as session:
        user = session.scalar(select(ApiUser).where(ApiUser.username == username[:200]))
    if user is None or user.disabled_at is not None:
        # one scrypt either way, so timing does not tell which usernames exist
        if not _DUMMY:
            _DUMMY.append(hash_password("not-a-real-password"))
        check_password(password, _DUMMY[0])
        return None
    return user if check_password(password, user.password_hash) else None


# -- web sessions ---------------------------------------------------------------------------
def start_session(app: App, user_id: int) -> tuple[str, str]:
    """(cookie token, CSRF token) of a new session."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with app.db.session() as session:
        session.add(
            ApiWebSession(
                token_hash=_sha256(token),
                user_id=user_id,
                csrf_token=csrf,
                expires_at=datetime.now(UTC) + timedelta(hours=SESSION_HOURS),
            )
        )
    return token, csrf


@dataclass(frozen=True)
class WebUser:
    user_id: int
    username: str
    role: str
    csrf: str
    session_id: int
    agency_id: int | None = None


def session_user(app: App, token: str | None) -> WebUser | None:
    if not token or len(token) > 200:
        return None
    now = datetime.now(UTC)
    with app.db.session() as session:
        row = session.execute(
            select(ApiWebSession, ApiUser)
            .join(ApiUser, ApiUser.id == ApiWebSession.user_id)
            .where(ApiWebSession.token_hash == _sha256(token))
        ).first()
    if row is None:
        return None
    web, user = row
    if web.ended_at is not None or web.expires_at <= now or user.disabled_at is not None:
        return None
    return WebUser(user.id, user.username, user.role, web.csrf_token, web.id, user.agency_id)


def end_session(app: App, token: str | None) -> None:
    if not token:
        return
    with app.db.session() as session:
        web = session.scalar(
            select(ApiWebSession).where(ApiWebSession.token_hash == _sha256(token))
        )
        if web is not None and web.ended_at is None:
            web.ended_at = datetime.now(UTC)


# -- API keys -------------------------------------------------------------------------------
def _check_scopes(scopes: Iterable[str], platform: str | None) -> list[str]:
    out = sorted(set(scopes))
    unknown = [s for s in out if s not in SCOPES]
    if unknown:
        raise AuthError(f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}")
    if not out:
        raise AuthError("a key needs at least one scope")
    if platform is not None:
        extra = [s for s in out if s not in PLATFORM_SCOPES]
        if extra:
            raise AuthError(
                f"a platform key can only hold {', '.join(sorted(PLATFORM_SCOPES))}; "
                f"not {extra[0]!r}"
            )
    return out


def _mint(session: Session, row: ApiKey) -> str:
    while True:
        prefix = secrets.token_hex(6)
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row.prefix = prefix
    row.secret_hash = _sha256(secret)
    return secret


def create_key(
    app: App,
    name: str,
    scopes: Sequence[str],
    *,
    agency: str | None = None,
    platform: str | None = None,
    actor: str | None = None,
    expires_days: int | None = None,
) -> NewKey:
    """A new key bound to an agency or to a platform (exactly one)."""
    if (agency is None) == (platform is None):
        raise AuthError("a key is bound to exactly one of an agency or a platform")
    name = name.strip()[:200] or "key"
    checked = _check_scopes(scopes, platform)
    with app.db.session() as session:
        row = ApiKey(
            name=name,
            scopes=checked,
            agency_id=agency_id(session, agency),
            platform_key=platform.strip()[:255] if platform else None,
            created_by=actor,
            expires_at=(datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None),
        )
        secret = _mint(session, row)
        session.add(row)
        session.flush()
        return NewKey(row.id, row.prefix, secret, name, checked, agency, row.platform_key)


def _find(session: Session, ref: str) -> ApiKey:
    ref = ref.strip()
    # The public prefix first: a random hex prefix can be all digits (about 1 in 300).
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == ref))
    if row is None and ref.isdigit() and len(ref) < 12:
        row = session.get(ApiKey, int(ref))
    if row is None:
        raise AuthError(f"no API key {ref!r}")
    return row


def revoke_key(app: App, ref: str) -> ApiKey:
    with app.db.session() as session:
        row = _find(session, ref)
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
    KeyCache.of(app.db).forget(row.id)  # after the commit: no request re-caches it
    return row


def rotate_key(app: App, ref: str, actor: str | None = None) -> NewKey:
    """A new secret with the same name, scopes and binding; the old key is revoked."""
    with app.db.session() as session:
        old = _find(session, ref)
        if old.revoked_at is not None:
            raise AuthError(f"API key {old.prefix} is revoked; create a new one")
        old.revoked_at = datetime.now(UTC)
        row = ApiKey(
            name=old.name,
            scopes=list(old.scopes),
            agency_id=old.agency_id,
            platform_key=old.platform_key,
            created_by=actor,
            expires_at=old.expires_at,
            rotated_from_id=old.id,
        )
        secret = _mint(session, row)
        session.add(row)
        session.flush()
        agency = session.get(ApiAgency, old.agency_id) if old.agency_id else None
        new = NewKey(
            row.id,
            row.prefix,
            secret,
            row.name,
            list(row.scopes),
            agency.name if agency else None,
            row.platform_key,
        )
    KeyCache.of(app.db).forget(old.id)
    return new


def list_keys(app: App, *, include_revoked: bool = False) -> list[dict[str, Any]]:
    with app.db.session() as session:
        query = (
            select(ApiKey, ApiAgency.name)
            .outerjoin(ApiAgency, ApiAgency.id == ApiKey.agency_id)
            .order_by(ApiKey.id)
        )
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_(None))
        return [
            {
                "id": key.id,
                "prefix": key.prefix,
                "name": key.name,
                "scopes": list(key.scopes),
                "agency": agency,
                "platform": key.platform_key,
                "created_at": key.created_at,
                "last_used_at": key.last_used_at,
                "revoked_at": key.revoked_at,
                "expires_at": key.expires_at,
                "rotated_from": key.rotated_from_id,
            }
            for key, agency in session.execute(query)
        ]


def verify_key(app: App, presented: str) -> Principal | None:
    """The principal of a valid, unrevoked, unexpired key; ``None`` otherwise."""
    if not presented or len(presented) > 200:
        return None
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    now = datetime.now(UTC)
    with app.db.session() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
        if row is None or not hmac.compare_digest(row.secret_hash, _sha256(presented)):
            return None
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            row.last_used_at = now
        return Principal(
            row.id,
            row.name,
            frozenset(row.scopes),
            row.agency_id,
            row.platform_key,
            row.expires_at,
        )
