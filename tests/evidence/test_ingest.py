from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.store.models import Content, ImportRun, Platform, RejectedRecord, Sighting


def _png(path: Path, colour: tuple[int, int, int]) -> None:
    Image.new("RGB", (64, 48), colour).save(path, "PNG")


def _bomb_png(path: Path, width: int = 40_000, height: int = 40_000) -> None:
    """A tiny PNG whose header claims a huge image (never decoded by the store)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _count(app: App, model: type) -> int:
    with app.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_csv_import_reports_created_duplicates_and_rejections(app: App, tmp_path: Path) -> None:
    _png(tmp_path / "poster.png", (200, 30, 30))
    (tmp_path / "list.csv").write_text(
        "url,seen_at,reporter,language,notes,content\n"
        "https://www.youtube.com/watch?v=abcdefghijk&utm_source=x,2026-04-26T10:00:00Z,ana,en,first,poster.png\n"
        "https://t.me/s/examplechannel/12,2026-04-26T11:00:00Z,ana,ar,,poster.png\n"
        "javascript:alert(1),2026-04-26T11:00:00Z,ana,en,,\n"
        "https://unknown-outlet.example/post/1,2026-04-26T12:00:00Z,ana,fr,,\n"
        "https://www.youtube.com/watch?v=abcdefghijk,2026-04-26T10:00:00Z,ana,en,again,poster.png\n",
        encoding="utf-8",
    )
    report = Ingestor(app).ingest(tmp_path / "list.csv", reporter="unit-a")
    assert report.ok
    assert (report.created, report.duplicates, len(report.rejected)) == (3, 1, 1)
    assert "javascript" in report.rejected[0].reason or "scheme" in report.rejected[0].reason
    assert report.contents_created == 1
    with app.db.session() as session:
        sightings = session.scalars(select(Sighting).order_by(Sighting.id)).all()
        assert sightings[0].canonical_url == "https://www.youtube.com/watch?v=abcdefghijk"
        assert sightings[1].canonical_url == "https://t.me/examplechannel/12"
        assert sightings[0].content_id == sightings[1].content_id is not None
        assert sightings[2].platform_key is not None and sightings[2].platform_key.startswith(
            "unknown:"
        )
        platform = session.get(Platform, sightings[2].platform_key)
        assert platform is not None and not platform.known
        assert {s.source_ref for s in sightings} >= {"line 2", "line 3"}
        run = session.scalars(select(ImportRun)).one()
        assert (run.status, run.created, run.rejected) == ("done", 3, 1)
        assert run.source_sha256 is not None and len(run.source_sha256) == 64


def test_importing_the_same_source_twice_creates_nothing_new(app: App, tmp_path: Path) -> None:
    (tmp_path / "urls.txt").write_text(
        "https://justpaste.it/abc1\nhxxps://pastebin[.]com/raw/Xy12\n", encoding="utf-8"
    )
    first = Ingestor(app).ingest(tmp_path / "urls.txt")
    second = Ingestor(app).ingest(tmp_path / "urls.txt")
    assert (first.created, second.created, second.duplicates) == (2, 0, 2)
    assert _count(app, Sighting) == 2


def test_hostile_records_are_rejected_and_nothing_stored_is_lost(app: App, tmp_path: Path) -> None:
    _png(tmp_path / "good.png", (10, 120, 10))
    (tmp_path / "ok.jsonl").write_text(
        json.dumps({"url": "https://archive.org/details/x1", "content": "good.png"}) + "\n",
        encoding="utf-8",
    )
    Ingestor(app).ingest(tmp_path / "ok.jsonl")
    before = _count(app, Sighting), _count(app, Content)
    _bomb_png(tmp_path / "bomb.png")
    outside = tmp_path.parent / "secret.txt"
    outside.write_text("not yours", encoding="utf-8")
    lines = [
        json.dumps({"url": "https://archive.org/details/x2", "content": "bomb.png"}),
        json.dumps({"url": "https://archive.org/details/x3", "content": "../secret.txt"}),
        "{not json",
        json.dumps({"url": "https://" + "a" * 9000 + ".example/"}),
        json.dumps({"url": "https://archive.org/details/x4", "text": "a statement"}),
    ]
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = Ingestor(app).ingest(tmp_path / "bad.jsonl")
    assert report.created == 1
    assert len(report.rejected) == 4
    reasons = " | ".join(r.reason for r in report.rejected)
    assert "bomb" in reasons or "pixels" in reasons
    assert _count(app, Sighting) == before[0] + 1
    assert _count(app, Content) == before[1] + 1
    assert _count(app, RejectedRecord) == 4
    bomb = next(r for r in report.rejected if "pixels" in r.reason or "bomb" in r.reason)
    assert bomb.quarantined is not None and Path(bomb.quarantined).is_file()


def test_text_statements_become_content(app: App, tmp_path: Path) -> None:
    (tmp_path / "posts.jsonl").write_text(
        json.dumps(
            {"url": "https://x.com/someone/status/1", "text": "بيان رقم ٣", "language": "ar"}
        )
        + "\n"
        + json.dumps(
            {"url": "https://x.com/other/status/2", "text": "بيان رقم ٣", "language": "ar"}
        )
        + "\n",
        encoding="utf-8",
    )
    report = Ingestor(app).ingest(tmp_path / "posts.jsonl")
    assert (report.created, report.contents_created) == (2, 1)
    with app.db.session() as session:
        content = session.scalars(select(Content)).one()
    assert content.kind == "text"
    assert app.blobs.read_verified(content.sha256).decode("utf-8") == "بيان رقم ٣"
