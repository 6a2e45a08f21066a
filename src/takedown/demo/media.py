"""Synthetic media: drawn logos, posters and short clips of invented outlets, and their edits."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Outlet:
    name: str
    handle: str
    language: str
    colour: Colour
    accent: Colour


OUTLET_NAMES = (
    "Crimson Dawn Media",
    "Northern Lantern Network",
    "Silver Dune Bulletin",
    "Azure Gate Reports",
    "Emberfield Press",
    "Quiet Meridian",
    "Stonebridge Voice",
    "Pale Harbor Wire",
)


CAPTIONS = ("shared again", "mirror copy", "bulletin archive", "new upload")
WATERMARKS = ("mirror", "archive", "reupload", "copy")


def outlets(rng: random.Random, languages: tuple[str, ...]) -> list[Outlet]:
    out = []
    for i, name in enumerate(OUTLET_NAMES):
        colour = cast(Colour, tuple(rng.randint(40, 220) for _ in range(3)))
        accent = cast(Colour, tuple(255 - c for c in colour))
        handle = "".join(w[:4].lower() for w in name.split())
        out.append(Outlet(name, handle, languages[i % len(languages)], colour, accent))
    return out


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def logo(draw: ImageDraw.ImageDraw, outlet: Outlet, x: int, y: int, size: int) -> None:
    draw.ellipse((x, y, x + size, y + size), fill=outlet.accent, outline=(255, 255, 255), width=3)
    initials = "".join(w[0] for w in outlet.name.split()[:2])
    draw.text(
        (x + size // 2, y + size // 2),
        initials,
        fill=(255, 255, 255),
        stroke_width=2,
        stroke_fill=outlet.colour,
        font=_font(size // 2),
        anchor="mm",
    )


def poster(
    rng: random.Random, outlet: Outlet, number: int, size: tuple[int, int] = (640, 480)
) -> Image.Image:
    width, height = size
    gradient = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    base = np.array(outlet.colour, dtype=np.float32) * (0.5 + 0.5 * gradient)
    canvas = np.broadcast_to(base, (height, width, 3)).copy()
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 12, (height, width, 3))
    image = Image.fromarray(np.clip(canvas + noise, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(4, 9)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randint(30, 260), y0 + rng.randint(30, 200)
        fill = cast(Colour, tuple(rng.randrange(256) for _ in range(3)))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=fill)
    logo(draw, outlet, 20, 20, 90)
    draw.text((130, 40), outlet.name, fill=(255, 255, 255), font=_font(30))
    draw.text((130, 80), f"Bulletin {number}", fill=(255, 255, 255), font=_font(24))
    return image


def transform_image(
    rng: random.Random, image: Image.Image, kind: str
) -> tuple[Image.Image, dict[str, object]]:
    """One edit of a poster, and the parameters used (recorded in the truth file)."""
    width, height = image.size
    if kind == "resized":
        scale = round(rng.uniform(0.5, 0.8), 3)
        size = (int(width * scale), int(height * scale))
        return image.resize(size, Image.Resampling.BILINEAR), {"scale": scale, "size": list(size)}
    if kind == "cropped":
        share = round(rng.uniform(0.05, 0.15), 3)
        dx, dy = int(width * share / 2), int(height * share / 2)
        box = (dx, dy, width - dx, height - dy)
        return image.crop(box), {"share": share, "box": list(box)}
    if kind == "captioned":
        out = image.copy()
        draw = ImageDraw.Draw(out)
        caption = rng.choice(CAPTIONS)
        draw.rectangle((0, height - 60, width, height), fill=(0, 0, 0))
        draw.text((20, height - 45), caption, fill=(255, 255, 255), font=_font(26))
        return out, {"caption": caption, "bar_height": 60}
    if kind == "watermarked":
        out = image.convert("RGBA")
        layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
        mark = rng.choice(WATERMARKS)
        position = (rng.randrange(width // 2), rng.randrange(height // 2, height - 60))
        ImageDraw.Draw(layer).text(position, mark, fill=(255, 255, 255, 90), font=_font(48))
        return Image.alpha_composite(out, layer).convert("RGB"), {
            "text": mark,
            "position": list(position),
        }
    if kind == "bordered":
        border = rng.randint(15, 40)
        colour = rng.choice(((255, 255, 255), (0, 0, 0), (200, 30, 30)))
        return ImageOps.expand(image, border=border, fill=colour), {
            "border": border,
            "colour": list(colour),
        }
    return image, {}  # "reencoded": same pixels, saved at low quality by the caller


def save_jpeg(image: Image.Image, path: Path, quality: int) -> None:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    path.write_bytes(buffer.getvalue())


def clip(
    path: Path,
    seed: int,
    outlet: Outlet,
    *,
    seconds: float = 2.5,
    size: tuple[int, int] = (320, 240),
    crf: str = "26",
) -> None:
    """A short H.264 clip: a moving shape over the outlet's colours, with its logo."""
    rng = np.random.default_rng(seed)
    fps = 10
    width, height = size
    background = Image.new("RGB", (320, 240), outlet.colour)
    logo(ImageDraw.Draw(background), outlet, 10, 10, 60)
    base = np.asarray(background, dtype=np.uint8)
    x_speed, y_speed = rng.integers(4, 12, size=2)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": crf, "preset": "ultrafast"}
        stream.time_base = Fraction(1, fps)
        for i in range(int(seconds * fps)):
            frame_rgb = base.copy()
            x, y = int(40 + x_speed * i) % 260, int(80 + y_speed * i) % 180
            frame_rgb[y : y + 50, x : x + 50] = outlet.accent
            frame = av.VideoFrame.from_ndarray(frame_rgb, format="rgb24")
            if size != (320, 240):
                frame = frame.reformat(width=width, height=height)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
