"""Invented material (posters, clips, statements) and the sightings of its uploads."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from takedown.demo import media
from takedown.demo.platforms import PLATFORM_TEMPLATES
from takedown.demo.texts import LANGUAGES, edit, statement

START = datetime(2026, 4, 26, 6, 0, tzinfo=UTC)
WINDOW_SECONDS = 48 * 3600
IMAGE_EDITS = ("reencoded", "resized", "cropped", "captioned", "watermarked", "bordered")
AGENCIES = ("unit-a", "unit-b", "unit-c")
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TRACKING = ("utm_source=share&utm_medium=social", "fbclid=IwAR0demo", "si=demo42", "utm_source=tg")


@dataclass
class Material:
    key: str
    kind: str  # "image", "video" or "text"
    outlet: media.Outlet
    language: str
    original: str | None = None
    text: str | None = None
    variants: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    edits: list[tuple[str, str]] = field(default_factory=list)
    weight: float = 1.0


@dataclass
class Item:
    url: str
    seen_at: datetime
    reporter: str
    language: str
    material: Material
    content: str | None = None
    text: str | None = None
    transform: str = "original"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Builder:
    def __init__(self, spec: Any, root: Path, progress: Callable[[int, int], None] | None) -> None:
        self.spec, self.root, self.progress = spec, root, progress
        self.rng = random.Random(spec.seed)
        self.outlets = media.outlets(self.rng, LANGUAGES)
        self.images: dict[str, Image.Image] = {}
        self.truth: list[dict[str, Any]] = []
        self.done = 0
        self.total = spec.images + spec.videos + spec.statements + spec.sightings

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def moment(self) -> datetime:
        return START + timedelta(seconds=self.rng.randrange(WINDOW_SECONDS))

    def materials(self) -> list[Material]:
        out: list[Material] = []
        (self.root / "media").mkdir(parents=True, exist_ok=True)
        for i in range(self.spec.images):
            outlet = self.outlets[i % len(self.outlets)]
            name = f"media/poster-{i:04d}.jpg"
            image = media.poster(self.rng, outlet, 100 + i)
            media.save_jpeg(image, self.root / name, 90)
            self.images[name] = image
            out.append(Material(f"image-{i}", "image", outlet, outlet.language, original=name))
            self.tick()
        for i in range(self.spec.videos):
            outlet = self.outlets[i % len(self.outlets)]
            name = f"media/clip-{i:03d}.mp4"
            media.clip(self.root / name, self.spec.seed + i, outlet)
            out.append(Material(f"video-{i}", "video", outlet, outlet.language, original=name))
            self.tick()
        for i in range(self.spec.statements):
            outlet = self.rng.choice(self.outlets)
            language = LANGUAGES[i % len(LANGUAGES)]
            text = statement(self.rng, language, outlet.name, outlet.handle, 200 + i)
            out.append(Material(f"statement-{i}", "text", outlet, language, text=text))
            self.tick()
        for material in out:  # long tail: a few pieces everywhere, most on one to four platforms
            heavy = self.rng.random() < 0.08
            material.weight = self.rng.uniform(20, 60) if heavy else self.rng.uniform(0.2, 1.4)
        return out

    def variant(self, material: Material) -> tuple[str | None, str | None, str]:
        """(content path, text, transform) of one upload of the material."""
        rng = self.rng
        if material.kind == "text":
            if rng.random() < 0.45:
                if len(material.edits) < 3:
                    edited, kind = edit(rng, material.text or "", material.language)
                    material.edits.append((kind, edited))
                kind, text = rng.choice(material.edits)
                return None, text, kind
            return None, material.text, "original"
        if rng.random() >= 0.45 or material.original is None:
            return material.original, None, "original"
        if material.kind == "video":
            paths = material.variants.setdefault("reencoded", [])
            if not paths:
                name = f"media/{material.key}-reencoded.mp4"
                index = int(material.key.split("-")[1])
                size, crf = (240, 180), "34"
                media.clip(
                    self.root / name, self.spec.seed + index, material.outlet, size=size, crf=crf
                )
                paths.append(name)
                material.params[name] = {"size": list(size), "crf": int(crf), "codec": "h264"}
            return paths[0], None, "reencoded"
        kind = rng.choice(IMAGE_EDITS)
        paths = material.variants.setdefault(kind, [])
        if len(paths) < 2:
            name = f"media/{material.key}-{kind}-{len(paths)}.jpg"
            picture, params = media.transform_image(rng, self.images[material.original], kind)
            quality = rng.randint(30, 60) if kind == "reencoded" else 85
            media.save_jpeg(picture, self.root / name, quality)
            paths.append(name)
            material.params[name] = {**params, "jpeg_quality": quality}
        return rng.choice(paths), None, kind

    def url(self, index: int = -1, *, defang: float = 0.0) -> str:
        rng = self.rng
        if 0 <= index < len(PLATFORM_TEMPLATES):
            _domain, template = PLATFORM_TEMPLATES[index]
        else:
            _domain, template = rng.choice(PLATFORM_TEMPLATES)
        url = template.format(
            vid="".join(rng.choice(ALPHABET) for _ in range(11)),
            slug="".join(rng.choice(ALPHABET[:36]) for _ in range(8)),
            hex=f"{rng.getrandbits(64):016x}",
            num=rng.randint(10**8, 10**11),
            small=rng.randint(1, 9999),
            handle=rng.choice(self.outlets).handle + str(rng.randint(1, 99)),
        )
        if rng.random() < 0.1:
            url += ("&" if "?" in url else "?") + rng.choice(TRACKING)
        if rng.random() < defang:
            url = url.replace("https://", "hxxps://", 1)
            head, _sep, tail = url.partition("://")
            host, slash, path = tail.partition("/")
            url = f"{head}://{host.replace('.', '[.]')}{slash}{path}"
        return url

    def reporter(self) -> str:
        roll = self.rng.random()
        agency = AGENCIES[0] if roll < 0.55 else AGENCIES[1] if roll < 0.9 else AGENCIES[2]
        return f"analyst-{self.rng.randint(1, 6)}@{agency}.example"

    def items(self, materials: list[Material], count: int) -> list[Item]:
        weights = [m.weight for m in materials]
        first = list(materials)
        self.rng.shuffle(first)  # every piece is seen at least once when the count allows
        out = []
        for i in range(count):
            material = first[i] if i < len(first) else self.rng.choices(materials, weights)[0]
            content, text, transform = self.variant(material)
            item = Item(
                url=self.url(i, defang=0.03),
                seen_at=self.moment(),
                reporter=self.reporter(),
                language=material.language,
                material=material,
                content=content,
                text=text,
                transform=transform,
            )
            out.append(item)
            self.tick()
        return out

    def record(self, source: str, item: Item) -> None:
        self.truth.append(
            {
                "source": source,
                "url": item.url,
                "reporter": item.reporter,
                "seen_at": iso(item.seen_at),
                "material": item.material.key,
                "transform": item.transform,
                "content": item.content,
                "language": item.language,
            }
        )
