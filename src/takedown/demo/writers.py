"""Write sightings in every intake format: JSONL, CSV, URL list, Telegram export, WARC."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import shutil
import uuid
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from takedown.demo.builder import Builder, Item, Material, iso

CHANNEL, CHANNEL_ID, CHANNEL_TITLE = "lanternbulletins", 1712345678, "Lantern Bulletins"
FIELDS = ("url", "seen_at", "reporter", "language", "notes", "text", "content")
WARC_SITES = (
    "https://justpaste.it/{slug}",
    "https://telegra.ph/Bulletin-{n}-04-26",
    "https://rentry.co/{slug}",
    "https://{handle}.wordpress.com/2026/04/26/bulletin-{n}/",
    "https://{handle}.blogspot.com/2026/04/bulletin-{n}.html",
    "https://pastebin.com/{slug}",
)


def _row(item: Item, notes: str = "") -> dict[str, str]:
    return {
        "url": item.url,
        "seen_at": iso(item.seen_at),
        "reporter": item.reporter,
        "language": item.language,
        "notes": notes or f"{item.material.outlet.name}; {item.transform}",
        "text": item.text or "",
        "content": item.content or "",
    }


def write_lists(root: Path, builder: Builder, items: list[Item], duplicates: int) -> None:
    """Agency A's JSONL and the shared CSV of agencies B and C; some URLs reported twice."""
    a = [i for i in items if "unit-a" in i.reporter]
    b = [i for i in items if "unit-a" not in i.reporter]
    twins = builder.rng.sample(a, k=min(duplicates, len(a)))
    with (root / "agency-a.jsonl").open("w", encoding="utf-8") as out:
        for item in a:
            out.write(json.dumps(_row(item), ensure_ascii=False) + "\n")
            builder.record("jsonl", item)
    with (root / "agency-b.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(FIELDS))
        writer.writeheader()
        for item in b:
            writer.writerow(_row(item))
            builder.record("csv", item)
        for item in twins:
            twin = dataclasses.replace(
                item,
                reporter=item.reporter.replace("unit-a", "unit-b"),
                seen_at=builder.moment(),
            )
            writer.writerow(_row(twin, "also reported by unit-a"))
            builder.record("csv", twin)
            builder.tick()


def write_urls(root: Path, builder: Builder, materials: list[Material], count: int) -> None:
    """URL-only sightings from unit C, some of them defanged."""
    with (root / "urls.txt").open("w", encoding="utf-8") as out:
        out.write("# URL-only sightings from unit-c (media not collected)\n")
        for _ in range(count):
            material = builder.rng.choice(materials)
            item = Item(
                url=builder.url(defang=0.3),
                seen_at=builder.moment(),
                reporter="intake@unit-c.example",
                language=material.language,
                material=material,
                transform="url_only",
            )
            out.write(item.url + "\n")
            builder.record("urls", item)
            builder.tick()


def _message(builder: Builder, folder: Path, n: int, material: Material) -> dict[str, object]:
    seen = builder.moment()
    message: dict[str, object] = {
        "id": n,
        "type": "message",
        "date": seen.strftime("%Y-%m-%dT%H:%M:%S"),
        "date_unixtime": str(int(seen.timestamp())),
        "from": CHANNEL_TITLE,
        "from_id": f"channel{CHANNEL_ID}",
    }
    content, text, transform = builder.variant(material)
    caption = builder.rng.choice(("", "", f"{material.outlet.name} #bulletin{n}"))
    if content and material.kind == "image":
        name = f"photos/photo_{n}@{seen:%d-%m-%Y_%H-%M-%S}.jpg"
        shutil.copyfile(builder.root / content, folder / name)
        message.update({"photo": name, "width": 640, "height": 480, "text": caption})
    elif content and material.kind == "video":
        name = f"video_files/bulletin_{n}.mp4"
        shutil.copyfile(builder.root / content, folder / name)
        message.update(
            {
                "file": name,
                "media_type": "video_file",
                "mime_type": "video/mp4",
                "duration_seconds": 2,
                "text": caption,
            }
        )
    else:
        name = None
        link = builder.url()
        message["text"] = [text or "", "\n", {"type": "link", "text": link}]
    item = Item(
        url=f"https://t.me/{CHANNEL}/{n}",
        seen_at=seen,
        reporter=f"telegram:{CHANNEL}",
        language=material.language,
        material=material,
        content=f"telegram-export/{name}" if name else None,
        text=text,
        transform=transform,
    )
    builder.record("telegram", item)
    return message


def write_telegram(root: Path, builder: Builder, materials: list[Material], count: int) -> None:
    """A Telegram Desktop export of one public channel (result.json, photos/, video_files/)."""
    folder = root / "telegram-export"
    for sub in ("photos", "video_files"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    messages = []
    for n in range(1, count + 1):
        messages.append(_message(builder, folder, n, builder.rng.choice(materials)))
        builder.tick()
    result = {
        "name": CHANNEL_TITLE,
        "type": "public_channel",
        "id": CHANNEL_ID,
        "messages": messages,
    }
    text = json.dumps(result, ensure_ascii=False, indent=1)
    (folder / "result.json").write_text(text, encoding="utf-8")


def write_warc(root: Path, builder: Builder, statements: list[Material], count: int) -> None:
    """A crawl of paste and blog pages carrying statements, as WARC response records."""
    rng = builder.rng
    with (root / "crawl.warc.gz").open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for i in range(count):
            material = statements[i % len(statements)]
            content, text, transform = builder.variant(material)
            url = rng.choice(WARC_SITES).format(
                slug="".join(rng.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8)),
                n=rng.randint(1, 999),
                handle=material.outlet.handle,
            )
            title = html.escape(f"{material.outlet.name} bulletin")
            direction = "rtl" if material.language in ("ar", "ur", "ps") else "ltr"
            body = (
                f'<!doctype html><html lang="{material.language}" dir="{direction}">'
                f"<head><meta charset='utf-8'><title>{title}</title></head>"
                f"<body><article><h1>{title}</h1><p>{html.escape(text or '')}</p></article>"
                "</body></html>"
            ).encode()
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            seen = builder.moment()
            record_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=headers,
                warc_headers_dict={
                    "WARC-Date": seen.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "WARC-Record-ID": f"<urn:uuid:{record_id}>",
                },
            )
            writer.write_record(record)
            item = Item(url, seen, "crawler@unit-b.example", material.language, material)
            item.content, item.text, item.transform = content, text, transform
            builder.record("warc", item)
            builder.tick()
