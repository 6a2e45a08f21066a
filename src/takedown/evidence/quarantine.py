"""Quarantine: the bytes of rejected records, kept apart for an analyst to inspect.

Files are named by position, never by a name taken from the input, and each has a JSON
sidecar with the reason. Nothing in quarantine is ever served by the web face.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Quarantine:
    def __init__(self, root: Path, *, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def put(self, import_id: int, seq: int, ref: str, reason: str, raw: bytes) -> Path:
        folder = self.root / f"import-{import_id}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{seq:06d}-{_SAFE.sub('_', ref)[:60]}"
        data = folder / f"{stem}.bin"
        data.write_bytes(raw[: self.max_bytes])
        sidecar = {
            "ref": ref,
            "reason": reason,
            "bytes": len(raw),
            "kept_bytes": min(len(raw), self.max_bytes),
            "at": datetime.now(UTC).isoformat(),
        }
        (folder / f"{stem}.json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=1))
        return data
