"""Operations (action days): time box, participating agencies, targets, assignments, board.

An operation's material is the sightings ingested with ``--operation NAME`` (the sighting's
``operation``); every participating agency sees them. Closing an operation freezes its record:
the board as it stood is kept with its SHA-256 (``final_board``, ``final_digest``), and any
later change to the operation, its participants or assignments is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from takedown.api.models import ApiAgency, ApiUser
from takedown.ops.agencies import OpsError, get_agency
from takedown.ops.dedup import link_new
from takedown.ops.models import OpsAssignment, OpsOperation, OpsOperationAgency, OpsSightingLink
from takedown.referrals.models import Referral, ReferralItem
from takedown.store.models import Content, Sighting, utcnow

MAX_HOURS = 24 * 31


def get_operation(session: Session, name: str) -> OpsOperation:
    found = session.scalar(select(OpsOperation).where(OpsOperation.name == name.strip()))
    if found is None:
        raise OpsError(f"no operation named {name!r}")
    return found


def _open(operation: OpsOperation) -> None:
    if operation.closed_at is not None:
        raise OpsError(
            f"operation {operation.name!r} was closed at {operation.closed_at.isoformat()}; "
            "its record is frozen"
        )


def _clean_list(values: list[str] | tuple[str, ...] | None, what: str) -> list[str]:
    out: list[str] = []
    for value in values or []:
        value = value.strip()
        if not value or len(value) > 200:
            raise OpsError(f"a {what} needs 1 to 200 characters")
        if value not in out:
            out.append(value)
    return out


def create_operation(
    session: Session,
    name: str,
    *,
    starts_at: datetime,
    ends_at: datetime,
    agencies: list[str],
    outlets: list[str] | None = None,
    labels: list[str] | None = None,
    actor: str | None = None,
) -> OpsOperation:
    name = name.strip()
    if not 1 <= len(name) <= 200 or any(ord(c) < 32 for c in name):
        raise OpsError("an operation name needs 1 to 200 printable characters")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise OpsError("the time box must carry a time zone (UTC)")
    if ends_at <= starts_at:
        raise OpsError("the operation must end after it starts")
    if (ends_at - starts_at).total_seconds() > MAX_HOURS * 3600:
        raise OpsError(f"an operation lasts at most {MAX_HOURS} hours")
    if not agencies:
        raise OpsError("an operation needs at least one participating agency")
    if session.scalar(select(OpsOperation.id).where(OpsOperation.name == name)) is not None:
        raise OpsError(f"an operation named {name!r} exists already")
    members = [get_agency(session, a) for a in _clean_list(agencies, "agency name")]
    operation = OpsOperation(
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        targets={
            "outlets": _clean_list(outlets, "target outlet"),
            "labels": _clean_list(labels, "target label"),
        },
        lead_agency_id=members[0].id,
        created_by=actor,
    )
    session.add(operation)
    session.flush()
    for agency in members:
        session.add(OpsOperationAgency(operation_id=operation.id, agency_id=agency.id))
    session.flush()
    return operation


def join_operation(session: Session, name: str, agency: str) -> OpsOperationAgency:
    operation = get_operation(session, name)
    _open(operation)
    member = get_agency(session, agency)
    found = session.scalar(
        select(OpsOperationAgency).where(
            OpsOperationAgency.operation_id == operation.id,
            OpsOperationAgency.agency_id == member.id,
        )
    )
    if found is not None:
        raise OpsError(f"{member.name!r} takes part in {operation.name!r} already")
    row = OpsOperationAgency(operation_id=operation.id, agency_id=member.id)
    session.add(row)
    session.flush()
    return row


def participants(session: Session, operation: OpsOperation) -> list[str]:
    return list(
        session.scalars(
            select(ApiAgency.name)
            .join(OpsOperationAgency, OpsOperationAgency.agency_id == ApiAgency.id)
            .where(OpsOperationAgency.operation_id == operation.id)
            .order_by(ApiAgency.name)
        )
    )


def assign(
    session: Session,
    name: str,
    username: str,
    *,
    platforms: list[str] | None = None,
    languages: list[str] | None = None,
    actor: str | None = None,
) -> OpsAssignment:
    """Assigns an analyst of a participating agency to platforms and/or languages."""
    operation = get_operation(session, name)
    _open(operation)
    user = session.scalar(select(ApiUser).where(ApiUser.username == username.strip()))
    if user is None:
        raise OpsError(f"no user named {username!r}")
    taking_part = session.scalar(
        select(OpsOperationAgency.id).where(
            OpsOperationAgency.operation_id == operation.id,
            OpsOperationAgency.agency_id == user.agency_id,
        )
    )
    if taking_part is None:
        raise OpsError(f"{user.username!r} is not of an agency taking part in {operation.name!r}")
    plats = _clean_list(platforms, "platform")
    langs = [lang.lower() for lang in _clean_list(languages, "language")]
    if not plats and not langs:
        raise OpsError("assign at least one platform or language")
    row = session.scalar(
        select(OpsAssignment).where(
            OpsAssignment.operation_id == operation.id, OpsAssignment.user_id == user.id
        )
    )
    if row is None:
        row = OpsAssignment(
            operation_id=operation.id,
            user_id=user.id,
            platforms=plats,
            languages=langs,
            assigned_by=actor,
        )
        session.add(row)
    else:
        row.platforms, row.languages = plats, langs
        row.assigned_by, row.assigned_at = actor, utcnow()
    session.flush()
    return row


def close_operation(session: Session, name: str, *, actor: str | None = None) -> OpsOperation:
    operation = get_operation(session, name)
    _open(operation)
    figures = board(session, operation.name)
    figures["frozen"] = True
    operation.final_board = figures
    operation.final_digest = digest(figures)
    operation.closed_at = utcnow()
    operation.closed_by = actor
    session.flush()
    return operation


def digest(value: Any) -> str:
    body = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


# -- the board ----------------------------------------------------------------------------------
@dataclass
class Row:
    """One sighting of an operation, as the board and the reports need it."""

    id: int
    primary_id: int
    platform: str
    language: str
    material: str
    removed_at: datetime | None
    referred: bool
    agency: str | None
    reupload: bool
    seen_at: datetime | None
    created_at: datetime


@dataclass
class Tally:
    found: int = 0
    items: set[int] = field(default_factory=set)
    material: set[str] = field(default_factory=set)
    referred: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)

    def add(self, row: Row, primary: Row) -> None:
        self.found += 1
        self.items.add(row.primary_id)
        self.material.add(row.material)
        if primary.referred:
            self.referred.add(row.primary_id)
        if primary.removed_at is not None:
            self.removed.add(row.primary_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "items": len(self.items),
            "unique_material": len(self.material),
            "referred": len(self.referred),
            "removed": len(self.removed),
        }


def operation_rows(session: Session, name: str) -> list[Row]:
    """Every sighting of the operation with its item, material, referral and removal."""
    link_new(session)
    sent = (
        exists()
        .where(ReferralItem.sighting_id == Sighting.id)
        .where(Referral.id == ReferralItem.referral_id)
        .where(Referral.sent_at.is_not(None))
    )
    query = (
        select(
            Sighting.id,
            OpsSightingLink.primary_id,
            Sighting.platform_key,
            Sighting.language,
            Sighting.content_id,
            Content.cluster_id,
            Sighting.canonical_url,
            Sighting.removed_at,
            sent.label("referred"),
            ApiAgency.name,
            Sighting.reupload_of_id,
            Sighting.seen_at,
            Sighting.created_at,
        )
        .join(OpsSightingLink, OpsSightingLink.sighting_id == Sighting.id)
        .outerjoin(Content, Content.id == Sighting.content_id)
        .outerjoin(ApiAgency, ApiAgency.id == OpsSightingLink.agency_id)
        .where(Sighting.operation == name)
        .order_by(Sighting.id)
    )
    rows: list[Row] = []
    for r in session.execute(query):
        if r[5] is not None:
            material = f"cluster:{r[5]}"
        elif r[4] is not None:
            material = f"content:{r[4]}"
        else:
            material = f"url:{r[6]}"
        rows.append(
            Row(
                id=r[0],
                primary_id=r[1],
                platform=r[2] or "(none)",
                language=r[3] or "(none)",
                material=material,
                removed_at=r[7],
                referred=bool(r[8]),
                agency=r[9],
                reupload=r[10] is not None,
                seen_at=r[11],
                created_at=r[12],
            )
        )
    return rows


def primaries_of(session: Session, rows: list[Row]) -> dict[int, Row]:
    """The primary row of every item; a primary outside the operation is loaded as well."""
    by_id = {r.id: r for r in rows}
    missing = sorted({r.primary_id for r in rows} - set(by_id))
    for start in range(0, len(missing), 1000):
        chunk = missing[start : start + 1000]
        sent = (
            exists()
            .where(ReferralItem.sighting_id == Sighting.id)
            .where(Referral.id == ReferralItem.referral_id)
            .where(Referral.sent_at.is_not(None))
        )
        for sid, removed_at, referred in session.execute(
            select(Sighting.id, Sighting.removed_at, sent).where(Sighting.id.in_(chunk))
        ):
            by_id[sid] = Row(
                sid, sid, "", "", "", removed_at, bool(referred), None, False, None, utcnow()
            )
    return {pid: by_id[pid] for pid in {r.primary_id for r in rows}}


def board(session: Session, name: str) -> dict[str, Any]:
    """Live figures: found / items / unique material / referred / removed, by platform and
    language and agency, and who works on what. A closed operation shows its frozen board."""
    operation = get_operation(session, name)
    if operation.final_board is not None:
        return dict(operation.final_board)
    rows = operation_rows(session, operation.name)
    primaries = primaries_of(session, rows)
    total = Tally()
    by: dict[str, dict[str, Tally]] = {
        "platform": defaultdict(Tally),
        "language": defaultdict(Tally),
        "agency": defaultdict(Tally),
    }
    for row in rows:
        primary = primaries[row.primary_id]
        total.add(row, primary)
        by["platform"][row.platform].add(row, primary)
        by["language"][row.language].add(row, primary)
        by["agency"][row.agency or "(unknown)"].add(row, primary)
    assignments = [
        {
            "user": username,
            "agency": agency,
            "platforms": a.platforms,
            "languages": a.languages,
            "assigned_at": a.assigned_at.isoformat(),
        }
        for a, username, agency in session.execute(
            select(OpsAssignment, ApiUser.username, ApiAgency.name)
            .join(ApiUser, ApiUser.id == OpsAssignment.user_id)
            .outerjoin(ApiAgency, ApiAgency.id == ApiUser.agency_id)
            .where(OpsAssignment.operation_id == operation.id)
            .order_by(ApiUser.username)
        )
    ]
    return {
        "operation": operation.name,
        "starts_at": operation.starts_at.isoformat(),
        "ends_at": operation.ends_at.isoformat(),
        "closed_at": operation.closed_at.isoformat() if operation.closed_at else None,
        "participants": participants(session, operation),
        "targets": operation.targets or {},
        "frozen": False,
        "total": total.as_dict(),
        **{
            f"by_{key}": [
                {"key": k, **t.as_dict()}
                for k, t in sorted(groups.items(), key=lambda kv: (-kv[1].found, kv[0]))
            ]
            for key, groups in by.items()
        },
        "assignments": assignments,
    }


def list_operations(session: Session, agency_id: int | None = None) -> list[dict[str, Any]]:
    query = select(OpsOperation).order_by(OpsOperation.starts_at, OpsOperation.name)
    if agency_id is not None:
        query = query.join(
            OpsOperationAgency, OpsOperationAgency.operation_id == OpsOperation.id
        ).where(OpsOperationAgency.agency_id == agency_id)
    return [
        {
            "name": op.name,
            "starts_at": op.starts_at.isoformat(),
            "ends_at": op.ends_at.isoformat(),
            "participants": participants(session, op),
            "targets": op.targets or {},
            "closed_at": op.closed_at.isoformat() if op.closed_at else None,
        }
        for op in session.scalars(query)
    ]
