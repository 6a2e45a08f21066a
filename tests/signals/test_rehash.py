"""``takedown signals rehash``: stored values of an older algorithm re-computed, never mixed."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select, update

from takedown.app import App
from takedown.matching.hashing import compute_signals
from takedown.matching.rehash import rehash
from takedown.signals.pdq import ALGORITHM, PdqSignal
from takedown.store.models import Content, Signal


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.normal(128, 60, (120, 160, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _store(app: App, data: bytes) -> int:
    blob = app.blobs.put_bytes(data)
    with app.db.session() as session:
        content = Content(
            sha256=blob.sha256, md5=blob.md5, size=blob.size, kind="image", media_type="image/png"
        )
        session.add(content)
        session.flush()
        return content.id


def _pdq_rows(app: App, content_id: int) -> dict[str, tuple[str, str | None]]:
    with app.db.session() as session:
        rows = session.execute(
            select(Signal.variant, Signal.value, Signal.algorithm).where(
                Signal.content_id == content_id, Signal.signal_type == "pdq"
            )
        ).all()
    return {variant: (value, algorithm) for variant, value, algorithm in rows}


def test_old_pdq_values_are_rehashed_once_and_replaced_whole(app: App) -> None:
    data = [_png(1), _png(2)]
    ids = [_store(app, d) for d in data]
    compute_signals(app, ids)
    fresh = _pdq_rows(app, ids[0])
    assert fresh[""] == (PdqSignal().hash_stream(io.BytesIO(data[0]))[0].value, ALGORITHM)
    # What the earlier hasher left: unversioned rows, other values, a variant no longer made.
    with app.db.engine.begin() as conn:
        conn.execute(
            update(Signal)
            .where(Signal.signal_type == "pdq", Signal.content_id == ids[0])
            .values(algorithm=None, value="0" * 64)
        )
        conn.execute(
            Signal.__table__.insert().values(
                content_id=ids[0], signal_type="pdq", variant="old-only", value="1" * 64
            )
        )
    assert rehash(app, dry_run=True).stale == {"pdq": len(fresh) + 1}
    report = rehash(app)
    assert (report.contents, report.rehashed, report.failed) == (1, 1, {})
    assert _pdq_rows(app, ids[0]) == fresh  # the old-only variant is gone: no mix
    again = rehash(app)
    assert (again.stale, again.contents, again.rehashed) == ({}, 0, 0)


def test_purged_evidence_keeps_its_stale_values_and_is_reported(app: App) -> None:
    content_id = _store(app, _png(3))
    compute_signals(app, [content_id])
    with app.db.engine.begin() as conn:
        conn.execute(update(Signal).values(algorithm=None))
        conn.execute(update(Content).values(purged_at=Content.created_at))
    report = rehash(app)
    assert report.rehashed == 0 and "purged" in report.failed[content_id]
    assert all(a is None for _, a in _pdq_rows(app, content_id).values())


def test_cli_rehash_reports_in_json_and_refuses_unknown_types(tmp_path: Path) -> None:
    takedown = [str(Path(sys.executable).parent / "takedown")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*takedown, "--data", str(tmp_path / "data"), *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    done = run("signals", "rehash", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["versions"]["pdq"] == ALGORITHM and out["rehashed"] == 0
    bad = run("signals", "rehash", "--type", "sha256")
    assert bad.returncode != 0 and "not a versioned signal type" in bad.stderr
