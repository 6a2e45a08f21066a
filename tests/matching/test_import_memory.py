"""A long hash list is imported in flat memory (measured in a subprocess; no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "import_memory.py"
SLACK_KB = 40 * 1024


def run(count: int, kind: str, folder: Path) -> dict[str, int]:
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(count), kind, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_import_memory_does_not_grow_with_the_list(tmp_path: Path) -> None:
    small = run(5_000, "good", tmp_path / "small")
    large = run(60_000, "good", tmp_path / "large")
    assert (small["added"], large["added"]) == (5_000, 60_000)
    growth_small = small["peak_kb"] - small["before_kb"]
    growth_large = large["peak_kb"] - large["before_kb"]
    assert growth_large < growth_small + SLACK_KB, (growth_small, growth_large)


def test_a_list_of_bad_rows_keeps_memory_flat(tmp_path: Path) -> None:
    bad = run(200_000, "bad", tmp_path / "bad")
    assert (bad["added"], bad["rejected"]) == (0, 200_000)
    assert bad["peak_kb"] - bad["before_kb"] < SLACK_KB
