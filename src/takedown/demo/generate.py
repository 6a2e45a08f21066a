"""Generate a synthetic Referral Action Day on disk, in every intake format.

Everything is invented and harmless: fictional outlets, drawn posters and clips, neutral
"bulletin" statements. Real platform domains are used only in URL shapes with invented ids.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from takedown.demo import media
from takedown.demo.platforms import PLATFORM_TEMPLATES
from takedown.demo.texts import LANGUAGES, edit, statement

START = datetime(2026, 4, 26, 6, 0, tzinfo=UTC)
IMAGE_EDITS = ("reencoded", "resized", "cropped", "captioned", "watermarked", "bordered")
CHANNEL, CHANNEL_ID = "lanternbulletins", 1712345678
AGENCIES = ("unit-a", "unit-b", "unit-c")


@dataclass
class DemoSpec:
    sightings: int = 2200
    seed: int = 2017
    images: int = 120
    videos: int = 12
    statements: int = 140


@dataclass
class DemoManifest:
    root: Path
    sources: list[tuple[Path, str]]
    telegram_channel: str | None
    truth: Path
    known_originals: list[Path] = field(default_factory=list)
    outlets: dict[str, str] = field(default_factory=dict)


@dataclass
class _Material:
    key: str
    kind: str
    outlet: media.Outlet
    language: str
    original: str | None = None
    text: str | None = None
    variants: dict[str, list[str]] = field(default_factory=dict)
    weight: float = 1.0


@dataclass
class _Item:
    url: str
    seen_at: datetime
    reporter: str
    language: str
    material: _Material
    content: str | None = None
    text: str | None = None
    transform: str = "original"


class _Builder:
    def __init__(
        self, spec: DemoSpec, root: Path, progress: Callable[[int, int], None] | None
    ) -> None:
        self.spec, self.root, self.progress = spec, root, progress
        self.rng = random.Random(spec.seed)
        self.outlets = media.outlets(self.rng, LANGUAGES)
        self.images: dict[str, Image.Image] = {}
        self.done = 0
        self.total = spec.images + spec.videos + spec.statements + spec.sightings

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def materials(self) -> list[_Material]:
        out: list[_Material] = []
        (self.root / "media").mkdir(parents=True, exist_ok=True)
        for i in range(self.spec.images):
            outlet = self.outlets[i % len(self.outlets)]
            name = f"media/poster-{i:04d}.jpg"
            image = media.poster(self.rng, outlet, 100 + i)
            media.save_jpeg(image, self.root / name, 90)
            self.images[name] = image
            out.append(_Material(f"image-{i}", "image", outlet, outlet.language, original=name))
            self.tick()
        for i in range(self.spec.videos):
            outlet = self.outlets[i % len(self.outlets)]
            name = f"media/clip-{i:03d}.mp4"
            media.clip(self.root / name, self.spec.seed + i, outlet)
            out.append(_Material(f"video-{i}", "video", outlet, outlet.language, original=name))
            self.tick()
        for i in range(self.spec.statements):
            outlet = self.rng.choice(self.outlets)
            language = LANGUAGES[i % len(LANGUAGES)]
            text = statement(self.rng, language, outlet.name, outlet.handle, 200 + i)
            out.append(_Material(f"statement-{i}", "text", outlet, language, text=text))
            self.tick()
        for material in out:  # long tail: a few pieces everywhere, most on one to four platforms
            material.weight = min(self.rng.paretovariate(1.1), 40.0)
        return out

    def variant(self, material: _Material) -> tuple[str | None, str | None, str]:
        """(content path, text, transform) of one upload of the material."""
        rng = self.rng
        if material.kind == "text":
            if rng.random() < 0.45:
                edits = material.variants.setdefault("edits", [])
                if len(edits) < 3:
                    edited, _kind = edit(rng, material.text or "", material.language)
                    edits.append(f"{_kind}\x00{edited}")
                kind, text = rng.choice(edits).split("\x00", 1)
                return None, text, kind
            return None, material.text, "original"
        if rng.random() >= 0.45 or material.original is None:
            return material.original, None, "original"
        if material.kind == "video":
            paths = material.variants.setdefault("reencoded", [])
            if not paths:
                name = f"media/{material.key}-reencoded.mp4"
                index = int(material.key.split("-")[1])
                media.clip(
                    self.root / name,
                    self.spec.seed + index,
                    material.outlet,
                    size=(240, 180),
                    crf="34",
                )
                paths.append(name)
            return paths[0], None, "reencoded"
        kind = rng.choice(IMAGE_EDITS)
        paths = material.variants.setdefault(kind, [])
        if len(paths) < 2:
            name = f"media/{material.key}-{kind}-{len(paths)}.jpg"
            picture = media.transform_image(rng, self.images[material.original], kind)
            media.save_jpeg(
                picture, self.root / name, rng.randint(30, 60) if kind == "reencoded" else 85
            )
            paths.append(name)
        return rng.choice(paths), None, kind

    def url(self, index: int) -> str:
        rng = self.rng
        if index < len(PLATFORM_TEMPLATES):
            _domain, template = PLATFORM_TEMPLATES[index]
        else:
            _domain, template = rng.choice(PLATFORM_TEMPLATES)
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        url = template.format(
            vid="".join(rng.choice(alphabet) for _ in range(11)),
            slug="".join(rng.choice(alphabet[:36]) for _ in range(8)),
            hex=f"{rng.getrandbits(64):016x}",
            num=rng.randint(10**8, 10**11),
            small=rng.randint(1, 9999),
            handle=rng.choice(self.outlets).handle + str(rng.randint(1, 99)),
        )
        if rng.random() < 0.1:
            url += ("&" if "?" in url else "?") + "utm_source=share&fbclid=demo"
        return url

    def items(self, materials: list[_Material], count: int) -> list[_Item]:
        weights = [m.weight for m in materials]
        out = []
        for i in range(count):
            material = (
                materials[i] if i < len(materials) else self.rng.choices(materials, weights)[0]
            )
            content, text, transform = self.variant(material)
            agency = AGENCIES[0] if self.rng.random() < 0.6 else AGENCIES[1]
            out.append(
                _Item(
                    url=self.url(i),
                    seen_at=START + timedelta(seconds=self.rng.randrange(48 * 3600)),
                    reporter=f"analyst-{self.rng.randint(1, 6)}@{agency}.example",
                    language=material.language,
                    material=material,
                    content=content,
                    text=text,
                    transform=transform,
                )
            )
            self.tick()
        return out


def _row(item: _Item, notes: str = "") -> dict[str, str]:
    return {
        "url": item.url,
        "seen_at": item.seen_at.isoformat().replace("+00:00", "Z"),
        "reporter": item.reporter,
        "language": item.language,
        "notes": notes or f"{item.material.outlet.name}; {item.transform}",
        "text": item.text or "",
        "content": item.content or "",
    }


def _write_lists(root: Path, items: list[_Item], rng: random.Random) -> None:
    a = [i for i in items if "unit-a" in i.reporter]
    b = [i for i in items if "unit-b" in i.reporter]
    duplicates = rng.sample(a, k=min(40, len(a)))  # the same URL reported by two agencies
    with (root / "agency-a.jsonl").open("w", encoding="utf-8") as out:
        for item in a:
            out.write(json.dumps(_row(item), ensure_ascii=False) + "\n")
    with (root / "agency-b.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(_row(items[0])))
        writer.writeheader()
        for item in b:
            writer.writerow(_row(item))
        for item in duplicates:
            twin = dataclasses.replace(item, reporter=item.reporter.replace("unit-a", "unit-b"))
            writer.writerow(_row(twin, "also reported by unit-a"))


def _write_urls(root: Path, builder: _Builder, count: int) -> None:
    with (root / "urls.txt").open("w", encoding="utf-8") as out:
        out.write("# URL-only sightings from unit-c (media not collected)\n")
        for _ in range(count):
            url = builder.url(10**6)
            if builder.rng.random() < 0.3:
                url = url.replace("https://", "hxxps://").replace(".", "[.]", 1)
            out.write(url + "\n")
            builder.tick()


def _write_telegram(root: Path, builder: _Builder, materials: list[_Material], count: int) -> None:
    folder = root / "telegram-export"
    for sub in ("photos", "video_files"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    messages = []
    for n in range(1, count + 1):
        material = builder.rng.choice(materials)
        seen = START + timedelta(seconds=builder.rng.randrange(48 * 3600))
        message: dict[str, object] = {
            "id": n,
            "type": "message",
            "date": seen.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(seen.timestamp())),
            "from": "Lantern Bulletins",
        }
        content, text, _transform = builder.variant(material)
        if content and material.kind == "image":
            name = f"photos/photo_{n}@{seen:%d-%m-%Y_%H-%M-%S}.jpg"
            shutil.copyfile(root / content, folder / name)
            message["photo"] = name
            message["text"] = ""
        elif content and material.kind == "video":
            name = f"video_files/clip_{n}.mp4"
            shutil.copyfile(root / content, folder / name)
            message.update(
                {"file": name, "media_type": "video_file", "mime_type": "video/mp4", "text": ""}
            )
        else:
            link = builder.url(10**6)
            message["text"] = [text or "", " ", {"type": "link", "text": link}]
        messages.append(message)
        builder.tick()
    result = {
        "name": "Lantern Bulletins",
        "type": "public_channel",
        "id": CHANNEL_ID,
        "messages": messages,
    }
    (folder / "result.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _write_warc(root: Path, builder: _Builder, statements: list[_Material], count: int) -> None:
    with (root / "crawl.warc.gz").open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for i in range(count):
            material = statements[i % len(statements)]
            url = f"https://justpaste.it/demo{i:04d}"
            body = f"<html><body><article><p>{material.text}</p></article></body></html>".encode()
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            seen = START + timedelta(seconds=builder.rng.randrange(48 * 3600))
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": seen.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
            builder.tick()


def _manifest(root: Path, materials: list[_Material], known: list[Path]) -> DemoManifest:
    return DemoManifest(
        root=root,
        sources=[
            (root / "agency-a.jsonl", "jsonl"),
            (root / "agency-b.csv", "csv"),
            (root / "urls.txt", "urls"),
            (root / "telegram-export", "telegram"),
            (root / "crawl.warc.gz", "warc"),
        ],
        telegram_channel=CHANNEL,
        truth=root / "truth.json",
        known_originals=known,
        outlets={Path(m.original).name: m.outlet.name for m in materials if m.original},
    )


def generate(
    spec: DemoSpec, out: Path, progress: Callable[[int, int], None] | None = None
) -> DemoManifest:
    """Write the action day under ``out`` (skipped when the same spec was generated there)."""
    root = out.resolve()
    stamp = root / "manifest.json"
    spec_json = json.dumps(dataclasses.asdict(spec), sort_keys=True)
    if stamp.is_file():
        saved = json.loads(stamp.read_text(encoding="utf-8"))
        if saved.get("spec") == spec_json:
            return DemoManifest(
                root=root,
                sources=[(root / p, f) for p, f in saved["sources"]],
                telegram_channel=saved["telegram_channel"],
                truth=root / "truth.json",
                known_originals=[root / p for p in saved["known_originals"]],
                outlets=saved["outlets"],
            )
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    builder = _Builder(spec, root, progress)
    materials = builder.materials()
    url_only, telegram, warc = 120, 100, 30
    items = builder.items(
        materials, max(spec.sightings - url_only - telegram - warc - 40, len(materials))
    )
    _write_lists(root, items, builder.rng)
    _write_urls(root, builder, url_only)
    _write_telegram(root, builder, materials, telegram)
    _write_warc(root, builder, [m for m in materials if m.kind == "text"], warc)
    media_materials = [m for m in materials if m.original]
    known = [root / m.original for i, m in enumerate(media_materials) if m.original and i % 5 < 2]
    truth = {
        "materials": [
            {
                "key": m.key,
                "kind": m.kind,
                "outlet": m.outlet.name,
                "language": m.language,
                "original": m.original,
                "text_sha256": hashlib.sha256(m.text.encode()).hexdigest() if m.text else None,
                "variants": {k: v for k, v in m.variants.items() if k != "edits"},
                "text_edits": [e.split("\x00", 1)[0] for e in m.variants.get("edits", [])],
            }
            for m in materials
        ],
        "sightings": [
            {
                "url": i.url,
                "material": i.material.key,
                "transform": i.transform,
                "content": i.content,
                "language": i.language,
            }
            for i in items
        ],
    }
    (root / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    manifest = _manifest(root, materials, known)
    stamp.write_text(
        json.dumps(
            {
                "spec": spec_json,
                "sources": [[str(p.relative_to(root)), f] for p, f in manifest.sources],
                "telegram_channel": manifest.telegram_channel,
                "known_originals": [str(p.relative_to(root)) for p in manifest.known_originals],
                "outlets": manifest.outlets,
            }
        ),
        encoding="utf-8",
    )
    return manifest
