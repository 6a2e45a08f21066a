from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from takedown.app import App
from takedown.store.models import Cluster, Content, Sighting
from takedown.verify.reuploads import mark_reupload, pending_reuploads

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _sighting(
    app: App,
    name: str,
    cluster_id: int | None,
    seen_at: datetime,
    removed_at: datetime | None = None,
) -> int:
    with app.db.session() as session:
        digest = hashlib.sha256(name.encode()).hexdigest()
        content = Content(
            sha256=digest,
            md5=digest[:32],
            size=1,
            kind="image",
            media_type="image/png",
            cluster_id=cluster_id,
        )
        session.add(content)
        session.flush()
        sighting = Sighting(
            natural_key=hashlib.sha256(b"s" + name.encode()).hexdigest(),
            url=f"https://video.example/{name}",
            content_id=content.id,
            seen_at=seen_at,
            removed_at=removed_at,
            removal_source="check" if removed_at else None,
        )
        session.add(sighting)
        session.flush()
        return sighting.id


def _cluster(app: App) -> int:
    with app.db.session() as session:
        cluster = Cluster()
        session.add(cluster)
        session.flush()
        return cluster.id


def _mark(app: App, sighting_id: int) -> bool:
    with app.db.session() as session:
        sighting = session.get(Sighting, sighting_id)
        assert sighting is not None
        return mark_reupload(session, sighting)


def test_new_sighting_in_cluster_with_removed_sighting_is_a_reupload(app: App) -> None:
    cluster = _cluster(app)
    old = _sighting(app, "a", cluster, T0, removed_at=T0 + timedelta(hours=2))
    new = _sighting(app, "b", cluster, T0 + timedelta(hours=5))
    assert _mark(app, new)
    with app.db.session() as session:
        sighting = session.get(Sighting, new)
        assert sighting is not None
        assert sighting.reupload_of_id == old
        assert sighting.reupload_gap_seconds == 3 * 3600
        assert [s.id for s in pending_reuploads(session)] == [new]


def test_latest_earlier_removal_is_the_reference(app: App) -> None:
    cluster = _cluster(app)
    _sighting(app, "a", cluster, T0, removed_at=T0 + timedelta(hours=1))
    later = _sighting(app, "b", cluster, T0, removed_at=T0 + timedelta(hours=4))
    # removed after the new sighting was seen: not what it is a re-upload of
    _sighting(app, "c", cluster, T0, removed_at=T0 + timedelta(hours=9))
    new = _sighting(app, "d", cluster, T0 + timedelta(hours=6))
    assert _mark(app, new)
    with app.db.session() as session:
        sighting = session.get(Sighting, new)
        assert sighting is not None
        assert sighting.reupload_of_id == later
        assert sighting.reupload_gap_seconds == 2 * 3600


def test_no_reupload_without_removed_sighting_or_cluster(app: App) -> None:
    cluster = _cluster(app)
    _sighting(app, "a", cluster, T0)  # live, never removed
    other = _cluster(app)
    _sighting(app, "x", other, T0, removed_at=T0 + timedelta(hours=1))  # other material
    new = _sighting(app, "b", cluster, T0 + timedelta(hours=5))
    loose = _sighting(app, "c", None, T0 + timedelta(hours=5))
    assert not _mark(app, new)
    assert not _mark(app, loose)
    with app.db.session() as session:
        assert pending_reuploads(session) == []


def test_removed_reupload_is_no_longer_pending(app: App) -> None:
    cluster = _cluster(app)
    _sighting(app, "a", cluster, T0, removed_at=T0 + timedelta(hours=1))
    new = _sighting(app, "b", cluster, T0 + timedelta(hours=2))
    assert _mark(app, new)
    assert _mark(app, new)  # idempotent
    with app.db.session() as session:
        sighting = session.get(Sighting, new)
        assert sighting is not None
        sighting.removed_at = T0 + timedelta(hours=3)
        sighting.removal_source = "check"
    with app.db.session() as session:
        assert pending_reuploads(session) == []
