"""Generate a synthetic Referral Action Day on disk, in every intake format.

Everything is invented and harmless: fictional outlets, drawn posters and clips, neutral
"bulletin" statements. Real platform domains are used only in URL shapes with invented ids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from takedown.demo.builder import START as WINDOW_START
from takedown.demo.builder import WINDOW_SECONDS, Builder, Material, iso
from takedown.demo.writers import CHANNEL, write_lists, write_telegram, write_urls, write_warc

OUTPUTS = (
    "agency-a.jsonl",
    "agency-b.csv",
    "urls.txt",
    "telegram-export",
    "crawl.warc.gz",
    "media",
    "truth.json",
    "manifest.json",
)


@dataclass
class DemoSpec:
    sightings: int = 2200
    seed: int = 2017
    images: int = 120
    videos: int = 12
    statements: int = 140

    @classmethod
    def small(cls, seed: int = 2017) -> DemoSpec:
        """``takedown demo --size small``: the same story on ~250 sightings (tests, first tries)."""
        return cls(sightings=250, seed=seed, images=16, videos=2, statements=18)


@dataclass
class DemoManifest:
    root: Path
    sources: list[tuple[Path, str]]
    telegram_channel: str | None
    truth: Path
    known_originals: list[Path] = field(default_factory=list)
    outlets: dict[str, str] = field(default_factory=dict)


def _sources(root: Path) -> list[tuple[Path, str]]:
    return [
        (root / "agency-a.jsonl", "jsonl"),
        (root / "agency-b.csv", "csv"),
        (root / "urls.txt", "urls"),
        (root / "telegram-export", "telegram"),
        (root / "crawl.warc.gz", "warc"),
    ]


def _shares(total: int) -> tuple[int, int, int, int, int]:
    """(list rows, duplicate rows, URL-only, Telegram messages, WARC pages) adding up to total."""
    url_only = max(5, total * 6 // 100)
    telegram = max(5, total * 5 // 100)
    warc = min(40, max(3, total * 15 // 1000))
    duplicates = max(2, total * 2 // 100)
    rows = max(1, total - url_only - telegram - warc - duplicates)
    return rows, duplicates, url_only, telegram, warc


def _load(root: Path, spec_json: str) -> DemoManifest | None:
    stamp = root / "manifest.json"
    if not stamp.is_file():
        return None
    try:
        saved = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("spec") != spec_json:
        return None
    if not all(p.exists() for p, _fmt in _sources(root)):
        return None
    return DemoManifest(
        root=root,
        sources=_sources(root),
        telegram_channel=saved["telegram_channel"],
        truth=root / "truth.json",
        known_originals=[root / p for p in saved["known_originals"]],
        outlets=dict(saved["outlets"]),
    )


def _material_truth(m: Material) -> dict[str, Any]:
    return {
        "key": m.key,
        "kind": m.kind,
        "outlet": m.outlet.name,
        "language": m.language,
        "original": m.original,
        "text": m.text,
        "text_sha256": hashlib.sha256(m.text.encode()).hexdigest() if m.text else None,
        "variants": [
            {"transform": kind, "path": path, "params": m.params.get(path, {})}
            for kind, paths in sorted(m.variants.items())
            for path in paths
        ],
        "text_edits": [{"transform": kind, "text": text} for kind, text in m.edits],
    }


def generate(
    spec: DemoSpec, out: Path, progress: Callable[[int, int], None] | None = None
) -> DemoManifest:
    """Write the action day under ``out`` (skipped when the same spec was generated there)."""
    root = out.resolve()
    spec_json = json.dumps(dataclasses.asdict(spec), sort_keys=True)
    loaded = _load(root, spec_json)
    if loaded is not None:
        return loaded
    for name in OUTPUTS:  # only what a previous run wrote, never anything else in the folder
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    root.mkdir(parents=True, exist_ok=True)

    builder = Builder(spec, root, progress)
    materials = builder.materials()
    rows, duplicates, url_only, telegram, warc = _shares(spec.sightings)
    items = builder.items(materials, rows)
    write_lists(root, builder, items, duplicates)
    write_urls(root, builder, materials, url_only)
    write_telegram(root, builder, materials, telegram)
    statements = [m for m in materials if m.kind == "text"]
    write_warc(root, builder, statements, warc if statements else 0)

    media_materials = [m for m in materials if m.original]
    known = [m for i, m in enumerate(media_materials) if i % 5 < 2]  # about 40 % are in the bank
    manifest = DemoManifest(
        root=root,
        sources=_sources(root),
        telegram_channel=CHANNEL,
        truth=root / "truth.json",
        known_originals=[root / m.original for m in known if m.original],
        outlets={Path(m.original).name: m.outlet.name for m in media_materials if m.original},
    )
    truth = {
        "seed": spec.seed,
        "window": {
            "start": iso(WINDOW_START),
            "hours": WINDOW_SECONDS // 3600,
        },
        "outlets": [
            {"name": o.name, "handle": o.handle, "language": o.language} for o in builder.outlets
        ],
        "known_originals": [m.original for m in known],
        "materials": [_material_truth(m) for m in materials],
        "sightings": builder.truth,
    }
    text = json.dumps(truth, ensure_ascii=False, indent=1)
    (root / "truth.json").write_text(text, encoding="utf-8")
    stamp = {
        "spec": spec_json,
        "sources": [[str(p.relative_to(root)), f] for p, f in manifest.sources],
        "telegram_channel": manifest.telegram_channel,
        "known_originals": [str(p.relative_to(root)) for p in manifest.known_originals],
        "outlets": manifest.outlets,
    }
    (root / "manifest.json").write_text(json.dumps(stamp, indent=1), encoding="utf-8")
    return manifest
