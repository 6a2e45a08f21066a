from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from takedown.app import App
from takedown.evidence.retention import HoldError, lift_hold, list_holds, place_hold, purge
from takedown.store.models import Content, CustodyEvent

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _content(app: App, data: bytes, removed_days_ago: int | None) -> str:
    blob = app.blobs.put_bytes(data)
    removed = NOW - timedelta(days=removed_days_ago) if removed_days_ago is not None else None
    with app.db.session() as session:
        session.add(
            Content(
                sha256=blob.sha256,
                md5=blob.md5,
                size=blob.size,
                kind="text",
                media_type="text/plain",
                removed_confirmed_at=removed,
            )
        )
    return blob.sha256


def test_purge_deletes_only_content_past_its_preservation_period(app: App) -> None:
    old = _content(app, b"removed long ago", 200)
    recent = _content(app, b"removed last week", 7)
    live = _content(app, b"never confirmed removed", None)
    purged = purge(app, now=NOW, actor="retention-bot")
    assert [p.sha256 for p in purged] == [old]
    assert not app.blobs.exists(old)
    assert app.blobs.exists(recent) and app.blobs.exists(live)
    with app.db.session() as session:
        row = session.scalar(select(Content).where(Content.sha256 == old))
        assert row is not None and row.purged_at == NOW
        event = session.scalar(select(CustodyEvent).where(CustodyEvent.action == "purged"))
        assert event is not None and event.detail is not None
        assert event.detail["sha256"] == old and event.actor == "retention-bot"
    assert purge(app, now=NOW) == []


def test_dry_run_lists_without_deleting(app: App) -> None:
    old = _content(app, b"removed long ago", 200)
    listed = purge(app, dry_run=True, now=NOW)
    assert [p.sha256 for p in listed] == [old]
    assert app.blobs.exists(old)


def test_legal_hold_suspends_retention_until_lifted(app: App) -> None:
    old = _content(app, b"evidence for a trial", 400)
    hold = place_hold(app, old, "proceedings 2026/117", "prosecutor")
    assert purge(app, now=NOW) == []
    assert [sha for _h, sha in list_holds(app)] == [old]
    lift_hold(app, hold.id, "prosecutor")
    assert [p.sha256 for p in purge(app, now=NOW)] == [old]
    with pytest.raises(HoldError, match="already lifted"):
        lift_hold(app, hold.id, "prosecutor")


def test_hold_needs_known_content_and_a_reason(app: App) -> None:
    with pytest.raises(HoldError, match="no content"):
        place_hold(app, "a" * 64, "reason", None)
    sha = _content(app, b"x", None)
    with pytest.raises(HoldError, match="reason"):
        place_hold(app, sha, "  ", None)
