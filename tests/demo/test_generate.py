from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image
from warcio.archiveiterator import ArchiveIterator

from takedown.demo import DemoManifest, DemoSpec, generate
from takedown.demo.platforms import PLATFORM_TEMPLATES
from takedown.urls import PlatformRegistry, canonicalize

SMALL = DemoSpec(sightings=400, images=12, videos=2, statements=20)
LANGUAGES = {"ar", "en", "fr", "de", "ru", "tr", "ur", "id", "ps"}
REAL_NAMES = ("amaq", "al-naba", "dabiq", "rumiyah", "al-hayat", "as-sahab", "inspire", "isis")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return generate(SMALL, tmp_path_factory.mktemp("demo") / "a")


@pytest.fixture(scope="module")
def full_count(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    spec = DemoSpec(images=20, videos=2, statements=36)  # default sightings, fewer media
    return generate(spec, tmp_path_factory.mktemp("demo") / "day")


def _rows(root: Path) -> list[dict[str, str]]:
    lines = (root / "agency-a.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    with (root / "agency-b.csv").open(encoding="utf-8", newline="") as handle:
        rows += list(csv.DictReader(handle))
    return rows


def _truth(root: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    return result


def _telegram(root: Path) -> dict[str, Any]:
    text = (root / "telegram-export" / "result.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _warc_urls(root: Path) -> list[str]:
    with (root / "crawl.warc.gz").open("rb") as handle:
        return [
            r.rec_headers.get_header("WARC-Target-URI")
            for r in ArchiveIterator(handle)
            if r.rec_type == "response"
        ]


def test_the_same_seed_writes_identical_bytes(small: DemoManifest, tmp_path: Path) -> None:
    again = generate(SMALL, tmp_path / "b")
    assert _digests(small.root) == _digests(again.root)


def test_another_seed_writes_other_sightings(small: DemoManifest, tmp_path: Path) -> None:
    other = generate(DemoSpec(sightings=200, seed=7, images=4, videos=1, statements=9), tmp_path)
    assert _rows(other.root)[0]["url"] != _rows(small.root)[0]["url"]


def test_regenerating_the_same_spec_reuses_the_folder(small: DemoManifest) -> None:
    calls: list[tuple[int, int]] = []
    again = generate(SMALL, small.root, progress=lambda done, total: calls.append((done, total)))
    assert calls == []
    assert again == small


def test_regenerating_another_spec_keeps_unrelated_files(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("mine", encoding="utf-8")
    generate(DemoSpec(sightings=200, images=3, videos=1, statements=9), tmp_path)
    manifest = generate(DemoSpec(sightings=210, images=3, videos=1, statements=9), tmp_path)
    assert (tmp_path / "notes.md").read_text(encoding="utf-8") == "mine"
    assert len(_truth(manifest.root)["sightings"]) == 210


def test_progress_reaches_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    spec = DemoSpec(sightings=200, images=3, videos=1, statements=9)
    generate(spec, tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1]


def test_sources_are_listed_in_ingest_order(small: DemoManifest) -> None:
    names = [(p.name, fmt) for p, fmt in small.sources]
    assert names == [
        ("agency-a.jsonl", "jsonl"),
        ("agency-b.csv", "csv"),
        ("urls.txt", "urls"),
        ("telegram-export", "telegram"),
        ("crawl.warc.gz", "warc"),
    ]
    assert all(p.exists() for p, _fmt in small.sources)
    assert small.telegram_channel == "lanternbulletins"


def test_every_content_path_exists_inside_the_root(small: DemoManifest) -> None:
    root = small.root.resolve()
    paths = [r["content"] for r in _rows(root) if r["content"]]
    paths += [s["content"] for s in _truth(root)["sightings"] if s["content"]]
    assert paths
    for content in paths:
        path = (root / content).resolve()
        assert path.is_file() and path.is_relative_to(root), content


def test_truth_transforms_refer_to_existing_originals(small: DemoManifest) -> None:
    truth = _truth(small.root)
    materials = {m["key"]: m for m in truth["materials"]}
    for material in materials.values():
        if material["original"]:
            assert (small.root / material["original"]).is_file()
        for variant in material["variants"]:
            assert material["original"] and (small.root / variant["path"]).is_file()
            if material["kind"] == "image":
                assert "jpeg_quality" in variant["params"], variant
    for sighting in truth["sightings"]:
        assert sighting["material"] in materials
    transforms = {s["transform"] for s in truth["sightings"]}
    assert {"original", "url_only", "reencoded"} <= transforms
    assert transforms & {"typos", "dropped_sentence", "repost"}


def test_default_sightings_cover_platforms_languages_and_agencies(
    full_count: DemoManifest,
) -> None:
    root = full_count.root
    rows = _rows(root)
    urls = [u for u in (root / "urls.txt").read_text(encoding="utf-8").splitlines() if u[:1] != "#"]
    messages = _telegram(root)["messages"]
    assert len(rows) + len(urls) + len(messages) + len(_warc_urls(root)) >= 2000
    registry = PlatformRegistry.load_default()
    platforms = {registry.attribute(canonicalize(r["url"])).key for r in rows}
    assert len(platforms) >= 52 and not any(p.startswith("unknown:") for p in platforms)
    assert {r["language"] for r in rows} == LANGUAGES
    assert {r["reporter"].split("@")[1] for r in rows} == {
        "unit-a.example",
        "unit-b.example",
        "unit-c.example",
    }


def test_sightings_fall_in_a_48_hour_window(full_count: DemoManifest) -> None:
    stamps = sorted(r["seen_at"] for r in _rows(full_count.root))
    assert all(s.endswith("Z") for s in stamps)
    assert stamps[0] >= "2026-04-26T06:00:00Z" and stamps[-1] < "2026-04-28T06:00:00Z"


def test_some_urls_are_defanged_tracked_or_reported_twice(full_count: DemoManifest) -> None:
    rows = _rows(full_count.root)
    urls = (full_count.root / "urls.txt").read_text(encoding="utf-8")
    assert "hxxps://" in urls and "[.]" in urls
    assert any("utm_source=" in r["url"] for r in rows)
    reporters: dict[str, set[str]] = {}
    for row in rows:
        reporters.setdefault(row["url"], set()).add(row["reporter"].split("@")[1])
    assert any(len(agencies) > 1 for agencies in reporters.values())


def test_statements_are_written_in_their_own_scripts(full_count: DemoManifest) -> None:
    texts: dict[str, str] = {}
    for material in _truth(full_count.root)["materials"]:
        if material["text"]:
            texts[material["language"]] = texts.get(material["language"], "") + material["text"]
    assert set(texts) == LANGUAGES
    assert any("\u0600" <= c <= "\u06ff" for c in texts["ar"])
    assert "ٹ" in texts["ur"] and "ڈ" in texts["ur"]
    assert "ړ" in texts["ps"] and "ځ" in texts["ps"]
    assert any("\u0400" <= c <= "\u04ff" for c in texts["ru"])


def test_a_small_spec_writes_exactly_its_sightings(tmp_path: Path) -> None:
    manifest = generate(DemoSpec(sightings=200), tmp_path)
    assert len(_truth(manifest.root)["sightings"]) == 200
    assert all(p.exists() for p, _fmt in manifest.sources)


def test_media_have_the_promised_shapes(small: DemoManifest) -> None:
    posters = sorted((small.root / "media").glob("poster-*.jpg"))
    with Image.open(posters[0]) as image:
        assert image.size == (640, 480)
    clip = sorted((small.root / "media").glob("clip-*.mp4"))[0]
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 320, 240)
    assert 20 <= frames <= 30


def test_telegram_export_is_a_public_channel_with_its_files(small: DemoManifest) -> None:
    export = _telegram(small.root)
    assert export["type"] == "public_channel" and isinstance(export["id"], int)
    folder = small.root / "telegram-export"
    kinds = set()
    for message in export["messages"]:
        for key in ("photo", "file"):
            if key in message:
                kinds.add(key)
                assert (folder / message[key]).is_file()
        if isinstance(message["text"], list):
            kinds.add("link")
            assert any(isinstance(p, dict) and p["type"] == "link" for p in message["text"])
    assert kinds == {"photo", "file", "link"}


def test_the_crawl_holds_statement_pages(small: DemoManifest) -> None:
    urls = _warc_urls(small.root)
    assert urls and all(u.startswith("https://") for u in urls)


def test_the_partner_bank_knows_about_forty_percent(small: DemoManifest) -> None:
    originals = [m for m in _truth(small.root)["materials"] if m["original"]]
    share = len(small.known_originals) / len(originals)
    assert 0.3 <= share <= 0.5
    assert all(p.is_file() and p.name in small.outlets for p in small.known_originals)


def test_every_template_domain_is_in_the_registry() -> None:
    registry = PlatformRegistry.load_default()
    for domain, template in PLATFORM_TEMPLATES:
        url = template.format(
            vid="abcdefghijk", slug="abcd1234", hex="ab12", num=123456789, small=7, handle="demo"
        )
        assert registry.attribute(canonicalize(url)).known, domain
    assert len({domain for domain, _t in PLATFORM_TEMPLATES}) >= 60


def test_no_real_outlet_names(small: DemoManifest) -> None:
    for name in ("agency-a.jsonl", "agency-b.csv", "truth.json", "telegram-export/result.json"):
        text = (small.root / name).read_text(encoding="utf-8").lower()
        for real in REAL_NAMES:
            assert real not in text, (name, real)
