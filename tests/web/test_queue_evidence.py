"""A reviewer sees why a robust match holds: the stored evidence on the review queue and the
material page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import skimage.data
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from takedown.api.app import create_app
from takedown.api.auth import create_user
from takedown.app import App
from takedown.cli.bank_files import rows_of_file
from takedown.evidence.ingest import Ingestor
from takedown.matching import banks as bank_ops
from takedown.matching.formats import BankRow
from takedown.matching.pipeline import process_new_content
from takedown.robust import edits
from takedown.store.models import Sighting
from takedown.web.queue import evidence_detail
from tests.api.seed import OWNER, REPORTER, own_reporter
from tests.web.conftest import PASSWORD, log_in


def ingest_banked_crop(app: App, folder: Path) -> int:
    """Bank a photo (public domain, shipped in scikit-image's wheel: NASA's astronaut
    portrait), then ingest its 20 % crop, which PDQ misses and keypoints find; the crop's
    sighting id."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.fromarray(skimage.data.astronaut()).resize((480, 480))
    photo.save(folder / "original.png")
    edits.crop(photo, 0.2).save(folder / "crop.png")
    bank_ops.create_bank(app, "partner")
    rows = rows_of_file(folder / "original.png", {"outlet": "Pale Harbor Wire"})
    assert bank_ops.add_entries(app, "partner", [r for r in rows if isinstance(r, BankRow)]).added
    own_reporter(app)
    source = folder / "items.jsonl"
    source.write_text(json.dumps({"url": "https://x.com/a/status/9", "content": "crop.png"}) + "\n")
    report = Ingestor(app).ingest(source, "jsonl", reporter=REPORTER)
    process_new_content(app, report.new_content_ids)
    with app.db.session() as session:
        found = session.scalar(
            select(Sighting.id).where(Sighting.url == "https://x.com/a/status/9")
        )
    assert found is not None
    return found


def test_queue_and_material_page_show_the_keypoints_behind_a_crop_match(
    app: App, tmp_path: Path
) -> None:
    ingest_banked_crop(app, tmp_path)
    create_user(app, "ana", PASSWORD, agency=OWNER)
    with TestClient(create_app(app)) as client:
        log_in(client)
        page = client.get("/queue").text
        material = re.search(r'href="/material/(\d+)"', page)
        assert material, "the queue links the item's material"
        copies = client.get(f"/material/{material.group(1)}").text
    hit = page[page.index("<strong>Bank</strong> partner") :]
    hit = hit[: hit.index("</div>")]
    assert "keypoints distance" in hit
    why = re.search(r'<p class="why">([^<]+)</p>', hit)
    assert why, hit
    inliers = int(why.group(1).split(" inliers of ")[0])
    assert inliers >= 6 and "scale 0.8" in why.group(1)  # a 20 % crop: the picture at 0.8
    assert "colour layout agrees on" in why.group(1)
    # The material page says how each copy joined it: by keypoints, with the same evidence.
    row = copies[copies.index('<tr class="copy') :]
    matched = row[row.index('<td class="matched">') : row.index("</tr>")]
    assert "keypoints" in matched and why.group(1) in matched


def test_evidence_of_an_unknown_shape_is_not_shown_and_breaks_nothing() -> None:
    assert evidence_detail(None) is None and evidence_detail({}) is None
    assert evidence_detail({"inliers": "many"}) is None  # no pairs, no transform
    assert evidence_detail(["not", "a", "dict"]) is None
    shown = evidence_detail(
        {"inliers": 12, "pairs": 15, "scale": 1.0, "rotation_deg": 5.0, "tx": 0.0, "ty": 0.0}
    )
    assert shown is not None and shown.startswith("12 inliers of 15 matched keypoints")
