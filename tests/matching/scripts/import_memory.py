"""Import a generated hash list of N lines into a new SQLite bank; print the peak RSS (kB).

Run by tests/matching/test_import_memory.py in a subprocess: ``import_memory.py N good|bad DIR``.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from takedown.app import App
from takedown.config import Settings
from takedown.matching import banks
from takedown.matching.formats import parse


def main() -> None:
    count, kind, folder = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    path = folder / "list.txt"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            name = "video_md5" if kind == "good" else f"unknown_{i % 7}"
            handle.write(f"{name} {i:032x}\n")
    app = App(Settings(data=folder / "data"))
    banks.create_bank(app, "big")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = banks.add_entries(app, "big", parse(path))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    app.close()
    out = {"before_kb": before, "peak_kb": peak, "added": report.added}
    out["rejected"] = report.rejected_count
    print(json.dumps(out))


if __name__ == "__main__":
    main()
