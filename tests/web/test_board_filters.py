"""The referral listing filters in SQL (state, addressee, overdue, operation, agency) and
gives exactly what filtering the whole listing in Python gave (the board's former path)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from takedown.api.scope import Viewer, referral_filter
from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.ops.agencies import get_agency
from takedown.referrals.board import OVERDUE_STATES, board, listing
from takedown.referrals.models import Referral, ReferralItem
from takedown.referrals.routing import draft
from takedown.store.models import Sighting
from takedown.web.referral_pages import _referrals_of
from takedown.web.referral_table import addressee_rows
from tests.api.scope_world import OPERATION, OTHER, build
from tests.api.seed import OWNER


def _board_of(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The page's per-addressee counts (``addressee_rows``), in the database board's shape."""
    keys = ("addressee", "pending", "overdue", "answered")
    found = sorted(addressee_rows(rows, {}, now), key=lambda r: r["key"])
    return [{k: r[k] for k in keys} for r in found]


def _world(app: App, tmp_path: Path) -> datetime:
    """A's two referrals (x, telegram) and B's own; one of A's an overdue removal order, one
    answered; A's first sighting filed under its operation."""
    w = build(app, tmp_path)
    source = tmp_path / "other.txt"
    source.write_text("https://x.com/other/status/99\nhttps://t.me/otherchan/5\n")
    Ingestor(app).ingest(source, "urls", reporter=OTHER)
    assert draft(app).drafted
    now = datetime.now(UTC)
    with app.db.session() as session:
        ids = list(session.scalars(select(Referral.id).order_by(Referral.id)))
        assert len(ids) >= 4, ids
        session.execute(
            update(Referral)
            .where(Referral.id == ids[0])
            .values(state="sent", kind="removal_order", deadline=now - timedelta(hours=2))
        )
        session.execute(
            update(Referral)
            .where(Referral.id == ids[1])
            .values(state="removed", deadline=now - timedelta(hours=2))
        )
        session.execute(
            update(Referral)
            .where(Referral.id == ids[2])
            .values(state="received", deadline=now + timedelta(hours=2))
        )
        session.execute(
            update(Sighting)
            .where(Sighting.id == w.seeded.sighting_ids[0])
            .values(operation=OPERATION)
        )
    return now


def _in_python(app: App, rows: list[dict[str, Any]], **only: Any) -> list[dict[str, Any]]:
    """The filters as the board applied them before: over every row, in Python."""
    now = only.get("now")
    with app.db.session() as session:
        by_operation = {
            ref
            for (ref,) in session.execute(
                select(Referral.reference)
                .join(ReferralItem, ReferralItem.referral_id == Referral.id)
                .join(Sighting, Sighting.id == ReferralItem.sighting_id)
                .where(Sighting.operation == only.get("operation"))
            )
        }
    out = []
    for r in rows:
        if only.get("state") and r["state"] != only["state"]:
            continue
        if only.get("addressee") and r["addressee"] != only["addressee"]:
            continue
        if only.get("overdue") and not (
            r["deadline"] is not None and r["deadline"] < now and r["state"] in OVERDUE_STATES
        ):
            continue
        if only.get("operation") and r["reference"] not in by_operation:
            continue
        out.append(r)
    return out


def test_sql_filters_give_what_python_filtering_gave(app: App, tmp_path: Path) -> None:
    now = _world(app, tmp_path)
    everything = listing(app, limit=100_000)
    assert len(everything) >= 4
    addressees = sorted({r["addressee"] for r in everything})
    filters: list[dict[str, Any]] = [
        {},
        {"state": "sent"},
        {"state": "drafted"},
        {"state": "nothing"},
        *({"addressee": a} for a in addressees),
        {"overdue": True},
        {"operation": OPERATION},
        {"operation": "no such operation"},
        {"state": "sent", "overdue": True, "addressee": addressees[0]},
    ]
    seen_some = 0
    for only in filters:
        got = listing(app, limit=100_000, now=now, **only)
        assert got == _in_python(app, everything, now=now, **only), only
        seen_some += bool(got)
    assert seen_some >= 6  # the filters are not all trivially empty
    assert len(listing(app, limit=100_000, now=now, overdue=True)) == 1
    assert len(listing(app, limit=2)) == 2


def test_agency_scoping_in_sql_equals_the_boards_python_scoping(app: App, tmp_path: Path) -> None:
    now = _world(app, tmp_path)
    with app.db.session() as session:
        viewers = [Viewer(get_agency(session, name).id) for name in (OWNER, OTHER)]
        viewers.append(Viewer(None, platform_key="x"))
    sizes = []
    for viewer in viewers:
        in_sql = listing(app, limit=100_000, viewer=viewer)
        if viewer.platform_key is None:  # the board's former path: every row, then Python
            assert in_sql == _referrals_of(app, viewer)
        with app.db.session() as session:
            mine = set(
                session.scalars(select(Referral.reference).where(referral_filter(session, viewer)))
            )
        assert {r["reference"] for r in in_sql} == mine
        sizes.append(len(in_sql))
        # the per-addressee board counted by the database equals the Python count
        assert list(board(app, viewer=viewer, now=now)) == _board_of(in_sql, now)
    assert sizes[0] >= 2 and sizes[1] >= 1 and sizes[0] + sizes[1] == len(listing(app))
    assert list(board(app, now=now)) == _board_of(listing(app, limit=100_000), now)
