"""The matcher marks re-uploads when new content joins a cluster with removed sightings."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from takedown.app import App
from takedown.matching import banks
from takedown.matching.formats import BankRow
from takedown.matching.hashing import compute_signals
from takedown.matching.matcher import match_contents
from takedown.store.models import BankEntry, Cluster, Content, Match, Sighting
from takedown.verify.reuploads import pending_reuploads

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _content(app: App, data: bytes, url: str, seen_at: datetime) -> tuple[int, int]:
    blob = app.blobs.put_bytes(data)
    with app.db.session() as session:
        content = Content(
            sha256=blob.sha256, md5=blob.md5, size=blob.size, kind="text", media_type="text/plain"
        )
        session.add(content)
        session.flush()
        sighting = Sighting(
            natural_key=hashlib.sha256(url.encode()).hexdigest(),
            url=url,
            content_id=content.id,
            seen_at=seen_at,
        )
        session.add(sighting)
        session.flush()
        return content.id, sighting.id


def test_matching_new_copy_marks_it_as_reupload_of_removed_sighting(app: App) -> None:
    md5 = hashlib.md5(b"copy two", usedforsecurity=False).hexdigest()
    banks.create_bank(app, "known", labels={"outlet": "Synthetic Outlet"})
    banks.add_entries(app, "known", [BankRow("r", "md5", md5)])
    first, first_sighting = _content(app, b"copy one", "https://a.example/1", T0)
    with app.db.session() as session:
        entry = session.scalars(select(BankEntry)).one()
        cluster = Cluster(size=1, known=True)
        session.add(cluster)
        session.flush()
        session.get(Content, first).cluster_id = cluster.id  # type: ignore[union-attr]
        session.add(
            Match(
                key=f"c{first}:md5:e{entry.id}",
                content_id=first,
                signal_type="md5",
                bank_entry_id=entry.id,
                distance=0,
            )
        )
        s = session.get(Sighting, first_sighting)
        assert s is not None
        s.removed_at = T0 + timedelta(hours=1)
        s.removal_source = "platform"
    second, second_sighting = _content(
        app, b"copy two", "https://b.example/2", T0 + timedelta(hours=3)
    )
    compute_signals(app, [second])
    match_contents(app, [second])
    with app.db.session() as session:
        s = session.get(Sighting, second_sighting)
        assert s is not None
        assert s.reupload_of_id == first_sighting
        assert s.reupload_gap_seconds == 2 * 3600
        assert [p.id for p in pending_reuploads(session)] == [second_sighting]


def test_an_exact_copy_at_a_new_url_is_a_reupload_after_removal(app: App, tmp_path: Path) -> None:
    from takedown.evidence.ingest import Ingestor
    from takedown.matching.pipeline import process_new_content

    def ingest(name: str, url: str, seen: str) -> None:
        path = tmp_path / name
        path.write_text(
            json.dumps({"url": url, "text": "Synthetic bulletin 7", "seen_at": seen}) + "\n",
            encoding="utf-8",
        )
        report = Ingestor(app).ingest(path)
        assert report.created == 1
        process_new_content(app, report.new_content_ids)

    ingest("a.jsonl", "https://x.com/someone/status/1", "2026-03-01T08:00:00Z")
    with app.db.session() as session:
        first = session.scalars(select(Sighting)).one()
        first.removed_at = T0 + timedelta(hours=1)
        first_id = first.id
    ingest("b.jsonl", "https://x.com/other/status/2", "2026-03-01T12:00:00Z")
    with app.db.session() as session:
        second = session.scalars(select(Sighting).where(Sighting.id != first_id)).one()
        assert second.reupload_of_id == first_id
        assert second.reupload_gap_seconds == 3 * 3600
