"""Drive the installed ``takedown`` command the way a user does."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from takedown.demo.media import outlets, poster

TAKEDOWN = shutil.which("takedown", path=str(Path(sys.executable).parent)) or "takedown"
PDQ_DIR = Path(__file__).resolve().parents[1] / "data" / "pdq-reference"


def run(tmp: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TAKEDOWN_DATA": str(tmp / "data"), "COLUMNS": "200"}
    done = subprocess.run(
        [TAKEDOWN, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_ingest_then_bank_then_match_end_to_end(tmp_path: Path) -> None:
    outlet = outlets(random.Random(1), ("en",))[0]
    image = poster(random.Random(2), outlet, 7)
    image.save(tmp_path / "poster.png")
    (tmp_path / "list.csv").write_text(
        "url,seen_at,reporter,language,content\n"
        "https://justpaste.it/abc1,2026-04-26T10:00:00Z,ana,en,poster.png\n"
        "not a url at all,2026-04-26T10:00:00Z,ana,en,\n",
        encoding="utf-8",
    )
    ingested = run(tmp_path, "ingest", str(tmp_path / "list.csv"), "--json", ok=False)
    assert ingested.returncode == 3  # partial: one row rejected
    report = json.loads(ingested.stdout)
    (imp,) = report["imports"]
    assert (imp["created"], imp["rejected_count"]) == (1, 1)
    assert imp["matching"]["hashed"] == 1

    hashed = json.loads(run(tmp_path, "hash", str(tmp_path / "poster.png"), "--json").stdout)
    values = {
        s["signal_type"]: s["value"] for s in hashed["files"][0]["signals"] if not s["variant"]
    }
    assert set(values) >= {"sha256", "md5", "pdq"}

    (tmp_path / "bank.txt").write_text(f"pdq {values['pdq']}\n", encoding="utf-8")
    run(
        tmp_path,
        "bank",
        "create",
        "partner",
        "--threshold",
        "pdq=20",
        "--label",
        "outlet=Crimson Dawn Media",
    )
    imported = json.loads(
        run(tmp_path, "bank", "import", "partner", str(tmp_path / "bank.txt"), "--json").stdout
    )
    assert imported["added"] == 1

    image.resize((320, 240)).save(tmp_path / "copy.jpg", quality=40)
    found = json.loads(run(tmp_path, "match", str(tmp_path / "copy.jpg"), "--json").stdout)
    pdq = next(r for r in found["lookups"][0]["results"] if r["signal_type"] == "pdq")
    assert pdq["bank_matches"][0]["bank"] == "partner"
    assert pdq["bank_matches"][0]["labels"]["outlet"] == "Crimson Dawn Media"
    assert isinstance(pdq["bank_matches"][0]["distance"], int)
    assert pdq["content_matches"][0]["urls"] == ["https://justpaste.it/abc1"]

    exported = run(tmp_path, "bank", "export", "partner", "--format", "te").stdout
    assert exported.strip() == f"pdq {values['pdq']}"


def test_errors_go_to_stderr_with_a_non_zero_exit(tmp_path: Path) -> None:
    done = run(tmp_path, "bank", "import", "nope", str(Path(__file__)), ok=False)
    assert done.returncode != 0 and "no bank named" in done.stderr and done.stdout == ""
    done = run(tmp_path, "match", "--signal", "pdq", "--value", "xyz", ok=False)
    assert done.returncode != 0 and "64 hex" in done.stderr


def test_hash_reproduces_the_reference_pdq_vectors(tmp_path: Path) -> None:
    # pytx's own hashes of Meta's test images (what HMA and hash-sharing partners compute).
    expected = {
        line.split(",")[0]: line.split(",")[1]
        for line in (PDQ_DIR / "pytx-expected.csv").read_text().splitlines()[1:]
    }
    out = json.loads(
        run(
            tmp_path, "hash", "--signal", "pdq", str(PDQ_DIR / "bridge-1-original.jpg"), "--json"
        ).stdout
    )
    primary = next(s for s in out["files"][0]["signals"] if not s["variant"])
    assert primary["value"] == expected["bridge-1-original.jpg"]
