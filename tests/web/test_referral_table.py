"""The referrals page: items counted (not a method's repr), a sortable per-addressee table
with removed share and median time, pages instead of a silent cap, sending per addressee,
and an undone "refer" no longer waiting to be sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from takedown.app import App
from takedown.referrals.models import Referral, ReferralItem
from takedown.store.models import Sighting
from tests.api.seed import Seeded
from tests.web.conftest import csrf_of


def test_per_addressee_sending_and_figures(app: App, web: TestClient, seeded: Seeded) -> None:
    ids = seeded.sighting_ids[:3]  # x.com, t.me, x.com
    csrf = csrf_of(web.get("/queue").text)
    for sid in ids:
        web.post(f"/queue/{sid}/decision", data={"decision": "refer", "csrf": csrf})
    # an undone refer does not wait to be sent
    web.post(f"/queue/{ids[1]}/decision", data={"decision": "reopen", "csrf": csrf})
    with app.db.session() as session:
        platforms = {i: p for i, p in session.execute(select(Sighting.id, Sighting.platform_key))}
    board = web.get("/referrals").text
    assert f"#{ids[1]} " not in board
    platform = platforms[ids[0]]
    assert f'name="platform" value="{platform}"' in board
    sent = web.post(
        "/referrals/send", data={"csrf": csrf, "platform": platform}, follow_redirects=False
    )
    assert sent.headers["location"] == "/referrals?sent=1"
    with app.db.session() as session:
        referred = sorted(session.scalars(select(ReferralItem.sighting_id)))
        # removed 3 h 12 min after sending
        sent_at = session.scalar(select(Referral.sent_at))
        assert sent_at is not None
        session.execute(
            update(Sighting)
            .where(Sighting.id == referred[0])
            .values(removed_at=sent_at + timedelta(hours=3, minutes=12))
        )
    # only that platform's items (the other platform's, undone, is not sent either)
    assert referred and {platforms[i] for i in referred} == {platform}
    html = web.get("/referrals").text
    assert "built-in method" not in html
    assert re.search(rf'<td class="num items">{len(referred)}</td>', html)
    row = re.search(r'<tr class="addressee-row[^"]*">(.*?)</tr>', html, re.S)
    assert row is not None
    assert f"{100 / len(referred):.1f} %" in row.group(1) and "3 h 12 min" in row.group(1)
    assert 'class="copies sortable per-addressee"' in html
    assert "1–1 of 1 · page 1 of 1" in html
    assert str(datetime.now(UTC).year) in html and ".000" not in html  # no microseconds
