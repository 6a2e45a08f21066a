"""Synthetic fixtures for API and web tests: images, a bank, sightings, a cluster."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select, update

from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.matching import banks as bank_ops
from takedown.matching.formats import BankRow
from takedown.matching.lookup import hash_file
from takedown.matching.pipeline import process_new_content
from takedown.ops.agencies import OpsError, add_reporter, create_agency, get_agency
from takedown.store.models import Content, Sighting

#: The agency that owns the seeded sightings (their reporter "tester" stands for it).
OWNER = "Test IRU"
REPORTER = "tester"

HOSTILE = [
    "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>",
    "\u202eexe.txt\u202c and \u2066isolate\u2069 \u200f",
    "A" * 300_000,
]


def synthetic_image(path: Path, seed: int, size: int = 256) -> Path:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    image = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), image)
    return path


@dataclass
class Seeded:
    known_image: Path
    other_image: Path
    pdq: str
    bank: str
    cluster_id: int
    sighting_ids: list[int]


def own_reporter(app: App, agency: str = OWNER, reporter: str = REPORTER) -> None:
    """``reporter`` stands for ``agency`` (created when new)."""
    with app.db.session() as session:
        try:
            owner = get_agency(session, agency)
        except OpsError:
            owner = create_agency(session, agency)
        add_reporter(session, owner, reporter)


def seed(app: App, folder: Path, *, hostile: bool = True, owner: str = OWNER) -> Seeded:
    """The seeded sightings belong to ``owner`` (by their reporter)."""
    folder.mkdir(parents=True, exist_ok=True)
    own_reporter(app, owner)
    known = synthetic_image(folder / "known.png", 1)
    other = synthetic_image(folder / "other.png", 2)
    _kind, values, _errors = hash_file(known, "pdq")
    pdq = next(v.value for v in values if v.variant == "")
    bank_ops.create_bank(app, "synthetic-bank", description="synthetic test bank")
    bank_ops.add_entries(
        app,
        "synthetic-bank",
        [BankRow("r1", "pdq", pdq, "ext-1", {"outlet": "Synthetic Outlet", "confidence": "0.9"})],
    )
    base = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    rows = [
        {"url": "https://x.com/a/status/1", "content": "known.png", "seen_at": base.isoformat()},
        {
            "url": "https://t.me/chan/5",
            "content": "known.png",
            "seen_at": (base + timedelta(hours=2)).isoformat(),
            "extra": {"views": "25000"},
        },
        {
            "url": "https://x.com/b/status/2",
            "content": "known.png",
            "seen_at": (base + timedelta(days=2)).isoformat(),
        },
        {"url": "https://example.org/o", "content": "other.png", "seen_at": base.isoformat()},
    ]
    if hostile:
        for i, text in enumerate(HOSTILE):
            rows.append(
                {
                    "url": f"https://example.net/post/{i}",
                    "text": text,
                    "notes": text[:50_000],
                    "seen_at": base.isoformat(),
                }
            )
    source = folder / "items.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = Ingestor(app).ingest(source, "jsonl", reporter=REPORTER)
    assert not report.rejected, report.rejected
    process_new_content(app, report.new_content_ids)
    with app.db.session() as session:
        ids = list(session.scalars(select(Sighting.id).order_by(Sighting.id)))
        cluster_id = session.scalar(
            select(Content.cluster_id).where(Content.first_name == "known.png")
        )
        assert cluster_id is not None
        # the first copy was removed after 3 hours; the third is a re-upload of it
        session.execute(
            update(Sighting)
            .where(Sighting.id == ids[0])
            .values(removed_at=base + timedelta(hours=3), removal_source="test")
        )
        session.execute(
            update(Sighting)
            .where(Sighting.id == ids[2])
            .values(reupload_of_id=ids[0], reupload_gap_seconds=3600.0 * 45)
        )
    return Seeded(known, other, pdq, "synthetic-bank", cluster_id, ids)
