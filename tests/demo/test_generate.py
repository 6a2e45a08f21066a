from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from takedown.demo import DemoSpec, generate
from takedown.demo.platforms import PLATFORM_TEMPLATES
from takedown.urls import PlatformRegistry, canonicalize

SMALL = DemoSpec(sightings=400, images=12, videos=2, statements=20)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "a"
    generate(SMALL, root)
    return root


def _rows(root: Path) -> list[dict[str, str]]:
    rows = [
        json.loads(line)
        for line in (root / "agency-a.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    with (root / "agency-b.csv").open(encoding="utf-8", newline="") as handle:
        rows += list(csv.DictReader(handle))
    return rows


def test_generation_is_deterministic(small: Path, tmp_path: Path) -> None:
    again = tmp_path / "b"
    generate(SMALL, again)
    for name in (
        "agency-a.jsonl",
        "agency-b.csv",
        "urls.txt",
        "truth.json",
        "telegram-export/result.json",
    ):
        assert (small / name).read_bytes() == (again / name).read_bytes(), name


def test_every_content_path_exists_inside_the_root(small: Path) -> None:
    for row in _rows(small):
        if row["content"]:
            path = (small / row["content"]).resolve()
            assert path.is_file() and path.is_relative_to(small.resolve())


def test_truth_names_existing_originals_and_variants(small: Path) -> None:
    truth = json.loads((small / "truth.json").read_text(encoding="utf-8"))
    for material in truth["materials"]:
        if material["original"]:
            assert (small / material["original"]).is_file()
        for paths in material["variants"].values():
            assert all((small / p).is_file() for p in paths)
    assert {s["transform"] for s in truth["sightings"]} - {"original"}, (
        "some copies are transformed"
    )


def test_default_day_meets_the_brief(tmp_path: Path) -> None:
    manifest = generate(DemoSpec(images=20, videos=2, statements=30), tmp_path / "day")
    rows = _rows(manifest.root)
    urls = (manifest.root / "urls.txt").read_text(encoding="utf-8").splitlines()[1:]
    telegram = json.loads(
        (manifest.root / "telegram-export" / "result.json").read_text(encoding="utf-8")
    )
    assert len(rows) + len(urls) + len(telegram["messages"]) + 30 >= 2000
    registry = PlatformRegistry.load_default()
    platforms = {registry.attribute(canonicalize(r["url"])).key for r in rows}
    assert len(platforms) >= 52 and not any(p.startswith("unknown:") for p in platforms)
    assert {r["language"] for r in rows} == {"ar", "en", "fr", "de", "ru", "tr", "ur", "id", "ps"}
    assert manifest.known_originals and all(p.is_file() for p in manifest.known_originals)


def test_every_template_domain_is_in_the_registry() -> None:
    registry = PlatformRegistry.load_default()
    for domain, template in PLATFORM_TEMPLATES:
        url = template.format(
            vid="abcdefghijk", slug="abcd1234", hex="ab12", num=123456789, small=7, handle="demo"
        )
        assert registry.attribute(canonicalize(url)).known, domain
    assert len(PLATFORM_TEMPLATES) >= 60


def test_no_real_outlet_names(small: Path) -> None:
    text = (small / "agency-a.jsonl").read_text(encoding="utf-8").lower()
    for name in ("amaq", "al-naba", "dabiq", "rumiyah", "al-hayat", "as-sahab"):
        assert name not in text
