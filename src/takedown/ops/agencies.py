"""Agencies (tenants), their users and roles, and what an agency may see.

Agencies and users are the API feature's ``api_agency`` and ``api_user`` rows. A sighting
belongs to the agency that reported it: its ``reporter`` is the agency's name, one of the
agency's reporter aliases (``takedown agency create NAME --reporter unit-a``), the username of
one of its users, or an API key of the agency (``api-key:<id>:<name>``, as the API records it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from takedown.access import roles
from takedown.access.passwords import PasswordRefused, hash_password
from takedown.access.roles import PERMISSIONS, ROLE_ALIASES, allowed
from takedown.access.visibility import agency_sightings, operations_of
from takedown.api.models import ApiAgency, ApiKey, ApiUser
from takedown.ops.models import OpsReporterAlias, OpsSightingLink
from takedown.store.models import Sighting

__all__ = ["PERMISSIONS", "OpsError", "allowed", "operations_of", "visible_sightings"]


class OpsError(Exception):
    """An operation the ops feature refuses (the message says why; safe to show)."""


def normalise_role(role: str) -> str:
    try:
        return roles.normalise_role(role)
    except roles.UnknownRole as exc:
        raise OpsError(str(exc)) from exc


def _clean_name(name: str, what: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200 or any(ord(c) < 32 for c in name):
        raise OpsError(f"{what} needs 1 to 200 printable characters")
    return name


# -- agencies -----------------------------------------------------------------------------------
def get_agency(session: Session, name: str) -> ApiAgency:
    agency = session.scalar(select(ApiAgency).where(ApiAgency.name == name.strip()))
    if agency is None:
        raise OpsError(f"no agency named {name!r}")
    return agency


def create_agency(session: Session, name: str, reporters: list[str] | None = None) -> ApiAgency:
    name = _clean_name(name, "an agency name")
    if session.scalar(select(ApiAgency.id).where(ApiAgency.name == name)) is not None:
        raise OpsError(f"an agency named {name!r} exists already")
    agency = ApiAgency(name=name)
    session.add(agency)
    session.flush()
    for reporter in reporters or []:
        add_reporter(session, agency, reporter)
    return agency


create_agency_row = create_agency


def add_reporter(session: Session, agency: ApiAgency, reporter: str) -> None:
    """``reporter`` (as written at intake) stands for ``agency`` from now on and before."""
    reporter = _clean_name(reporter, "a reporter name")
    owner = session.scalar(
        select(OpsReporterAlias.agency_id).where(OpsReporterAlias.reporter == reporter)
    )
    if owner is not None and owner != agency.id:
        raise OpsError(f"reporter {reporter!r} already stands for another agency")
    if owner is None:
        session.add(OpsReporterAlias(reporter=reporter, agency_id=agency.id))
    # sightings linked before the alias existed now belong to the agency too
    links = session.scalars(
        select(OpsSightingLink).where(
            OpsSightingLink.reporter == reporter, OpsSightingLink.agency_id.is_(None)
        )
    )
    for link in links:
        link.agency_id = agency.id
    session.flush()


def list_agencies(session: Session) -> list[dict[str, Any]]:
    aliases: dict[int, list[str]] = {}
    for agency_id, reporter in session.execute(
        select(OpsReporterAlias.agency_id, OpsReporterAlias.reporter).order_by(
            OpsReporterAlias.reporter
        )
    ):
        aliases.setdefault(agency_id, []).append(reporter)
    users: dict[int, int] = {}
    for (member_of,) in session.execute(select(ApiUser.agency_id)):
        if member_of is not None:
            users[member_of] = users.get(member_of, 0) + 1
    return [
        {
            "id": a.id,
            "name": a.name,
            "reporters": aliases.get(a.id, []),
            "users": users.get(a.id, 0),
            "created_at": a.created_at.isoformat(),
        }
        for a in session.scalars(select(ApiAgency).order_by(ApiAgency.name))
    ]


# -- users --------------------------------------------------------------------------------------
def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    agency: str | None,
    role: str = "analyst",
    create_agency: bool = False,
) -> ApiUser:
    """A user of ``agency`` (created first when ``create_agency``). A user without an agency
    sees no sightings at all."""
    username = _clean_name(username, "a username")
    role = normalise_role(role)
    if session.scalar(select(ApiUser.id).where(ApiUser.username == username)) is not None:
        raise OpsError(f"a user named {username!r} exists already")
    owner_id: int | None = None
    if agency is not None:
        try:
            owner_id = get_agency(session, agency).id
        except OpsError:
            if not create_agency:
                raise
            owner_id = create_agency_row(session, agency).id
    try:
        hashed = hash_password(password)
    except PasswordRefused as exc:
        raise OpsError(str(exc)) from exc
    user = ApiUser(username=username, password_hash=hashed, agency_id=owner_id, role=role)
    session.add(user)
    session.flush()
    return user


def set_role(session: Session, username: str, role: str) -> ApiUser:
    user = session.scalar(select(ApiUser).where(ApiUser.username == username.strip()))
    if user is None:
        raise OpsError(f"no user named {username!r}")
    user.role = normalise_role(role)
    session.flush()
    return user


def list_users(session: Session, agency: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(ApiUser, ApiAgency.name)
        .outerjoin(ApiAgency, ApiAgency.id == ApiUser.agency_id)
        .order_by(ApiUser.username)
    )
    if agency is not None:
        query = query.where(ApiUser.agency_id == get_agency(session, agency).id)
    return [
        {
            "id": user.id,
            "username": user.username,
            "agency": agency_name,
            "role": ROLE_ALIASES.get(user.role, user.role),
            "disabled": user.disabled_at is not None,
        }
        for user, agency_name in session.execute(query)
    ]


# -- who reported what --------------------------------------------------------------------------
@dataclass
class ReporterMap:
    """Resolves intake ``reporter`` strings to agency ids (see the module docstring)."""

    names: dict[str, int]
    keys: dict[int, int]

    @classmethod
    def load(cls, session: Session) -> ReporterMap:
        names: dict[str, int] = {}
        for member_of, username in session.execute(
            select(ApiUser.agency_id, ApiUser.username).where(ApiUser.agency_id.is_not(None))
        ):
            if member_of is not None:
                names[username] = member_of
        for agency_id, name in session.execute(select(ApiAgency.id, ApiAgency.name)):
            names[name] = agency_id
        for agency_id, reporter in session.execute(
            select(OpsReporterAlias.agency_id, OpsReporterAlias.reporter)
        ):
            names[reporter] = agency_id
        keys = {
            key_id: owner
            for key_id, owner in session.execute(
                select(ApiKey.id, ApiKey.agency_id).where(ApiKey.agency_id.is_not(None))
            )
            if owner is not None
        }
        return cls(names, keys)

    def agency_of(self, reporter: str | None) -> int | None:
        if not reporter:
            return None
        found = self.names.get(reporter)
        if found is not None:
            return found
        if reporter.startswith("api-key:"):
            key_id = reporter.split(":", 2)[1]
            if key_id.isdigit():
                return self.keys.get(int(key_id))
        return None


def visible_sightings(session: Session, agency_id: int) -> Select[Sighting]:
    """The sightings ``agency_id`` may see (:func:`takedown.access.visibility.agency_sightings`:
    its own reports, its operations', those shared with it)."""
    return agency_sightings(session, agency_id)


def can_see(session: Session, agency_id: int, sighting_id: int) -> bool:
    query = visible_sightings(session, agency_id).where(Sighting.id == sighting_id)
    return session.scalar(query.with_only_columns(Sighting.id)) is not None
