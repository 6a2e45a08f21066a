"""Two agencies and everything one of them owns, for the agency-scoping tests.

"Test IRU" (A) owns the seeded sightings, a referral, a check, a review decision, an
operation, a deconfliction hold and an infrastructure outlet. "Other Unit" (B) owns nothing
and takes part in no operation: on every route and page it must get nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from takedown.api.auth import PLATFORM_SCOPES, SCOPES, create_key, create_user
from takedown.api.models import ApiReviewDecision, ApiUser
from takedown.app import App
from takedown.infra.store import define_outlet
from takedown.ops.agencies import create_agency
from takedown.ops.holds import add_hold
from takedown.ops.operations import create_operation
from takedown.referrals.routing import draft
from takedown.store.models import Content, Sighting
from takedown.verify.models import VerifyCheck
from tests.api.seed import OWNER, Seeded, seed

OTHER = "Other Unit"
PASSWORD = "synthetic password"
REASON = "SECRET-REASON open investigation <script>alert(1)</script>"
OPERATION = "Op-Alpha <b>48h</b>"
OUTLET = "Outlet-Zeta <img src=x onerror=alert(1)>"
AGENCY_SCOPES = sorted(SCOPES)


@dataclass
class World:
    seeded: Seeded
    owner_key: str
    other_key: str
    platform_key: str
    references: list[str]
    content_id: int
    entry_id: int
    hold_id: int
    #: strings of A's material that must never reach B
    markers: list[str]


def build(app: App, folder: Path) -> World:
    seeded = seed(app, folder / "seed")
    with app.db.session() as session:
        create_agency(session, OTHER)
    create_user(app, "ana", PASSWORD, agency=OWNER)
    create_user(app, "olga", PASSWORD, agency=OTHER)
    owner_key = create_key(app, "a", AGENCY_SCOPES, agency=OWNER).secret
    other_key = create_key(app, "b", AGENCY_SCOPES, agency=OTHER).secret
    platform_key = create_key(app, "p", sorted(PLATFORM_SCOPES), platform="nobody").secret
    references = sorted(r.reference for r in draft(app).drafted)
    assert references, "the seeded sightings route to x and telegram"
    now = datetime.now(UTC)
    with app.db.session() as session:
        ana = session.scalar(select(ApiUser.id).where(ApiUser.username == "ana"))
        session.add(
            ApiReviewDecision(sighting_id=seeded.sighting_ids[1], user_id=ana, decision="refer")
        )
        session.add(
            VerifyCheck(sighting_id=seeded.sighting_ids[0], vantage="eu", outcome="removed")
        )
        content_id = session.scalar(
            select(Sighting.content_id).where(Sighting.id == seeded.sighting_ids[0])
        )
        assert content_id is not None
        create_operation(
            session,
            OPERATION,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=47),
            agencies=[OWNER],
        )
        hold = add_hold(
            session, agency=OWNER, kind="domain", value="example.net", reason=REASON, days=7
        )
        define_outlet(session, OUTLET, ["example.org"])
        from takedown.store.models import BankEntry

        entry_id = session.scalar(select(BankEntry.id).order_by(BankEntry.id))
        assert entry_id is not None
        assert session.get(Content, content_id) is not None
        hold_id = hold.id
    return World(
        seeded,
        owner_key,
        other_key,
        platform_key,
        references,
        content_id,
        entry_id,
        hold_id,
        markers=[
            "x.com/a/status/1",
            "x.com/b/status/2",
            "t.me/chan/5",
            "example.org/o",
            "example.net/post",
            "SECRET-REASON",
            "Op-Alpha",
            "Outlet-Zeta",
            *references,
        ],
    )
