from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from takedown.app import App
from takedown.referrals.callbacks import CallbackError, handle_callback
from takedown.referrals.machine import apply
from takedown.referrals.models import Referral, ReferralEvent
from takedown.referrals.respond import find
from takedown.referrals.routing import draft
from takedown.store.models import Sighting

from .conftest import add_sighting, make_app, platforms_file, signed_headers


@pytest.fixture
def sent(database_url: str, tmp_path: Path) -> Iterator[tuple[App, str, int]]:
    app = make_app(database_url, tmp_path, platforms_file=platforms_file(tmp_path / "p.json", None))
    sid = add_sighting(app, "https://fakevid0.test/v/1", "fakevid0")
    ref = draft(app).drafted[0].reference
    with app.db.session() as session:
        apply(session, find(session, ref), "send", at=datetime(2026, 1, 1, tzinfo=UTC))
    yield app, ref, sid
    app.close()


def _body(ref: str, status: str = "removed", **extra: Any) -> bytes:
    data = {
        "schema": "takedown.response/1",
        "reference": ref,
        "status": status,
        "at": "2026-01-01T03:00:00Z",
        "reason": None,
        "items": [],
        **extra,
    }
    return json.dumps(data).encode()


def _snapshot(app: App) -> tuple[list[str], int, list[Any]]:
    with app.db.session() as session:
        return (
            [r.state for r in session.scalars(select(Referral))],
            len(list(session.scalars(select(ReferralEvent)))),
            [s.removed_at for s in session.scalars(select(Sighting))],
        )


def test_signed_callback_moves_the_referral_and_sets_removal(sent: tuple[App, str, int]) -> None:
    app, ref, sid = sent
    body = _body(
        ref, items=[{"item_id": str(sid), "status": "removed", "at": "2026-01-01T02:00:00Z"}]
    )
    result = handle_callback(app, body, signed_headers(body))
    assert (result.from_state, result.to_state, result.duplicate) == ("sent", "actioned", False)
    with app.db.session() as session:
        s = session.get(Sighting, sid)
        assert s is not None and s.removal_source == "platform"
        assert s.removed_at == datetime(2026, 1, 1, 2, tzinfo=UTC)  # the item's own, earlier time
    # the same answer again, freshly signed: harmless
    again = handle_callback(app, body, signed_headers(body, str(int(time.time()) + 1)))
    assert again.duplicate


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("bad_signature", "bad_signature"),
        ("wrong_secret", "bad_signature"),
        ("stale", "stale"),
        ("unknown_reference", "unknown_reference"),
        ("other_platform", "unknown_reference"),
        ("not_json", "bad_body"),
        ("bad_status", "bad_body"),
        ("unknown_item", "bad_item"),
        ("illegal", "illegal_transition"),
    ],
)
def test_hostile_callbacks_are_refused_without_state_change(
    sent: tuple[App, str, int], case: str, code: str
) -> None:
    app, ref, _ = sent
    before = _snapshot(app)
    body = _body(ref)
    headers = signed_headers(body)
    if case == "bad_signature":
        headers["X-Takedown-Signature"] = "sha256=" + "0" * 64
    elif case == "wrong_secret":
        headers = signed_headers(body, secret="guess")
    elif case == "stale":
        headers = signed_headers(body, str(int(time.time()) - 3600))
    elif case == "unknown_reference":
        body = _body("TD-2000-999999")
        headers = signed_headers(body)
    elif case == "other_platform":
        headers["x-takedown-platform"] = "fakevid1"
    elif case == "not_json":
        body = b"\xff{not json"
        headers = signed_headers(body)
    elif case == "bad_status":
        body = _body(ref, "exploded")
        headers = signed_headers(body)
    elif case == "unknown_item":
        body = _body(ref, items=[{"item_id": "999999", "status": "removed"}])
        headers = signed_headers(body)
    elif case == "illegal":
        body = _body(ref, "reinstated")
        headers = signed_headers(body)
    with pytest.raises(CallbackError) as info:
        handle_callback(app, body, headers)
    assert info.value.code == code
    assert _snapshot(app) == before


def test_replayed_callback_is_refused(sent: tuple[App, str, int]) -> None:
    app, ref, _ = sent
    body = _body(ref, "acknowledged")
    headers = signed_headers(body)
    handle_callback(app, body, headers)
    before = _snapshot(app)
    with pytest.raises(CallbackError) as info:
        handle_callback(app, body, headers)
    assert info.value.code == "replay"
    assert _snapshot(app) == before
