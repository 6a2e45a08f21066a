"""Signal holds on PDQ hashes match within a Hamming distance (default 31, set per hold)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from takedown.app import App
from takedown.ops.agencies import OpsError, get_agency
from takedown.ops.hold_checks import check
from takedown.ops.holds import PDQ_DISTANCE, add_hold, list_holds
from takedown.ops.operations import create_operation
from takedown.store.models import Sighting, Signal
from tests.ops.conftest import ingest, make_agencies, record

HELD = 0xA5 * (2**248) + 0x1234  # any 256-bit value


def flip(value: int, bits: int) -> str:
    """``value`` with its lowest ``bits`` bits flipped, as 64 hex characters."""
    return f"{value ^ ((1 << bits) - 1):064x}"


def _world(app: App, tmp_path: Path, distances: dict[str, int]) -> dict[str, Sighting]:
    """One sighting per name, each with text content carrying a PDQ hash ``distance`` bits
    away from ``HELD`` (rows as the hasher writes them; variant "" is the hash itself)."""
    make_agencies(app, "Alpha", "Bravo")
    names = list(distances)
    ingest(
        app,
        tmp_path,
        [{**record(f"https://t.me/s/c/{i}", "unit-bravo"), "text": n} for i, n in enumerate(names)],
    )
    with app.db.session() as session:
        rows = list(session.scalars(select(Sighting).order_by(Sighting.id)))
        for name, sighting in zip(names, rows, strict=True):
            assert sighting.content_id is not None
            session.add(
                Signal(
                    content_id=sighting.content_id,
                    signal_type="pdq",
                    variant="rotate90" if name.startswith("rotated") else "",
                    value=flip(HELD, distances[name]),
                )
            )
    with app.db.session() as session:
        found = list(session.scalars(select(Sighting).order_by(Sighting.id)))
        session.expunge_all()
    return dict(zip(names, found, strict=True))


def _blocked(app: App, sightings: dict[str, Sighting]) -> set[str]:
    with app.db.session() as session:
        rows = list(session.scalars(select(Sighting).order_by(Sighting.id)))
        bravo = get_agency(session, "Bravo").id
        held = check(session, rows, agency_id=bravo, record_hits=False)
    return {name for name, s in sightings.items() if s.id in held}


def test_a_pdq_hold_matches_within_its_distance(app: App, tmp_path: Path) -> None:
    sightings = _world(
        app, tmp_path, {"same": 0, "near": 20, "edge": 31, "far": 32, "rotated": 10, "other": 90}
    )
    with app.db.session() as session:
        hold = add_hold(
            session,
            agency="Alpha",
            kind="signal",
            value=f"PDQ:{HELD:064X}",
            reason="r",
            days=1,
        )
        assert hold.max_distance == PDQ_DISTANCE == 31
    assert _blocked(app, sightings) == {"same", "near", "edge", "rotated"}
    with app.db.session() as session:
        (view,) = list_holds(session, "Alpha")
        assert view["max_distance"] == 31 and view["value"] == f"pdq:{HELD:064x}"


def test_the_distance_is_set_per_hold(app: App, tmp_path: Path) -> None:
    sightings = _world(app, tmp_path, {"same": 0, "near": 20, "far": 40, "other": 90})
    with app.db.session() as session:
        add_hold(
            session,
            agency="Alpha",
            kind="signal",
            value=f"pdq:{HELD:064x}",
            reason="r",
            days=1,
            max_distance=0,
        )
    assert _blocked(app, sightings) == {"same"}  # 0: the exact hash only
    with app.db.session() as session:
        # a radius over 31 is a wide hold: a coordinator's, within an operation (#20)
        day = datetime.now(UTC)
        create_operation(
            session, "day", starts_at=day, ends_at=day + timedelta(hours=1), agencies=["Alpha"]
        )
        add_hold(
            session,
            agency="Alpha",
            kind="signal",
            value=f"pdq:{flip(HELD, 40)}",
            reason="r",
            days=1,
            max_distance=45,
            may_hold_wide=True,
            operation="day",
        )
    # far is the second hold's own hash; near is 20 bits from it, same is 40
    assert _blocked(app, sightings) == {"same", "near", "far"}


def test_the_owner_is_not_blocked_by_its_own_pdq_hold(app: App, tmp_path: Path) -> None:
    sightings = _world(app, tmp_path, {"near": 5})
    with app.db.session() as session:
        add_hold(
            session, agency="Alpha", kind="signal", value=f"pdq:{HELD:064x}", reason="r", days=1
        )
        rows = list(session.scalars(select(Sighting)))
        alpha = get_agency(session, "Alpha").id
        assert check(session, rows, agency_id=alpha, record_hits=False) == {}
    assert _blocked(app, sightings) == {"near"}


@pytest.mark.parametrize(
    ("value", "distance"),
    [
        ("pdq:1234", None),  # not 64 hex characters
        ("pdq:" + "g" * 64, None),
        (f"pdq:{HELD:064x}", 129),
        (f"pdq:{HELD:064x}", -1),
        ("sha256:" + "0" * 64, 3),  # a distance only for pdq
    ],
)
def test_bad_pdq_holds_are_refused(sqlite_app: App, value: str, distance: int | None) -> None:
    make_agencies(sqlite_app, "Alpha")
    with sqlite_app.db.session() as session, pytest.raises(OpsError):
        add_hold(
            session,
            agency="Alpha",
            kind="signal",
            value=value,
            reason="r",
            days=1,
            max_distance=distance,
        )
