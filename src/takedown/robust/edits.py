"""The edits copies go through (for tests, the benchmark and the demo): deterministic, Pillow.

Every edit takes an RGB image and returns the edited RGB image. ``EDITS`` names the set the
benchmark measures (``bench/robustness.py``).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

Edit = Callable[[Image.Image], Image.Image]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def resize(image: Image.Image, scale: float = 0.6) -> Image.Image:
    w, h = image.size
    return image.resize((max(8, int(w * scale)), max(8, int(h * scale))), Image.Resampling.BILINEAR)


def crop(image: Image.Image, share: float) -> Image.Image:
    """Cut ``share`` of the width and of the height, two thirds from the left/top."""
    w, h = image.size
    dx, dy = int(w * share), int(h * share)
    left, top = (2 * dx) // 3, (2 * dy) // 3
    return image.crop((left, top, left + w - dx, top + h - dy))


def jpeg(image: Image.Image, quality: int = 30) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as out:
        return out.convert("RGB")


def rotate(image: Image.Image, degrees: float) -> Image.Image:
    """Rotated about the centre, same size, corners filled black (what editors do)."""
    return image.rotate(degrees, resample=Image.Resampling.BILINEAR, expand=False)


def mirror(image: Image.Image) -> Image.Image:
    return ImageOps.mirror(image)


def caption(image: Image.Image, text: str = "shared again - join the channel") -> Image.Image:
    """A black caption bar (15 % of the height) with white text over the bottom of the image."""
    out = image.copy()
    w, h = out.size
    bar = max(12, int(h * 0.15))
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, h - bar, w, h), fill=(0, 0, 0))
    draw.text((int(w * 0.04), h - bar + bar // 5), text, fill=(255, 255, 255), font=_font(bar // 2))
    return out


def watermark(image: Image.Image, text: str = "reupload") -> Image.Image:
    out = image.convert("RGBA")
    w, h = out.size
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).text(
        (int(w * 0.1), int(h * 0.45)), text, fill=(255, 255, 255, 110), font=_font(max(10, h // 7))
    )
    return Image.alpha_composite(out, layer).convert("RGB")


def border(
    image: Image.Image, pixels: int = 30, colour: tuple[int, int, int] = (0, 0, 0)
) -> Image.Image:
    return ImageOps.expand(image, border=pixels, fill=colour)


def letterbox(image: Image.Image, ratio: float = 16 / 9) -> Image.Image:
    """Pad to ``ratio`` with black bars (top/bottom or left/right)."""
    w, h = image.size
    if w / h < ratio:
        new_w = int(h * ratio)
        canvas = Image.new("RGB", (new_w, h), (0, 0, 0))
        canvas.paste(image, ((new_w - w) // 2, 0))
    else:
        new_h = int(w / ratio)
        canvas = Image.new("RGB", (w, new_h), (0, 0, 0))
        canvas.paste(image, (0, (new_h - h) // 2))
    return canvas


def greyscale(image: Image.Image) -> Image.Image:
    return ImageOps.grayscale(image).convert("RGB")


def brightness_contrast(image: Image.Image) -> Image.Image:
    return ImageEnhance.Contrast(ImageEnhance.Brightness(image).enhance(1.25)).enhance(0.8)


def noisy_border(image: Image.Image, pixels: int = 30, seed: int = 0) -> Image.Image:
    """A near-uniform grey border with sensor-like noise (what a re-encoded frame looks like)."""
    out = np.asarray(border(image, pixels, (40, 40, 40))).astype(np.int16)
    rng = np.random.default_rng(seed)
    mask = np.ones(out.shape[:2], dtype=bool)
    mask[pixels:-pixels, pixels:-pixels] = False
    out[mask] += rng.integers(-6, 7, size=(int(mask.sum()), 3), dtype=np.int16)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


EDITS: dict[str, Edit] = {
    "resize": resize,
    "crop10": lambda im: crop(im, 0.10),
    "crop20": lambda im: crop(im, 0.20),
    "jpeg30": jpeg,
    "rotate5": lambda im: rotate(im, 5),
    "rotate10": lambda im: rotate(im, 10),
    "mirror": mirror,
    "caption": caption,
    "watermark": watermark,
    "border30": border,
    "greyscale": greyscale,
    "brightness": brightness_contrast,
}
