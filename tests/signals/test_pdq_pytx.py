"""PDQ identical to what the field runs: pytx (`PdqSignal.hash_from_file`) = Pillow + pdqhash.

The references: pytx's recorded outputs on Meta's test images (tests/data/pdq-reference) and
pytx + pdqhash themselves (dev dependencies), run here on generated images of every shape
and mode. Every comparison is bit for bit, quality included.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from threatexchange.signal_type.pdq import pdq_hasher
from threatexchange.signal_type.pdq.signal import PdqSignal as PytxPdqSignal

from takedown.signals.pdq import DIHEDRAL_VARIANTS, PdqSignal, pdq_hash, pytx_compatible

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "pdq-reference"
#: pdqhash.compute_dihedral's order, as in dihedral-expected.csv's columns.
DIHEDRAL_COLUMNS = (
    "original",
    "rotate-90",
    "rotate-180",
    "rotate-270",
    "flip-x",
    "flip-y",
    "flip-plus-1",
    "flip-minus-1",
)


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _ours(data: bytes) -> dict[str, tuple[str, int]]:
    values = PdqSignal().hash_stream(io.BytesIO(data))
    return {v.variant: (v.value, int(v.quality or 0)) for v in values}


def _pytx(data: bytes) -> tuple[str, int]:
    return pdq_hasher.pdq_from_bytes(data)


def _pytx_dihedral(data: bytes) -> tuple[list[str], int]:
    array = pdq_hasher._convert_image_to_correct_array_dimension(Image.open(io.BytesIO(data)))
    vectors, quality = pdqhash.compute_dihedral(array)
    return [f"{int(''.join(str(b) for b in v), 2):064x}" for v in vectors], quality


@pytest.mark.parametrize("row", _rows("pytx-expected.csv"), ids=lambda r: r["file"])
def test_every_reference_image_hashes_as_pytx_recorded(row: dict[str, str]) -> None:
    ours = _ours((REFERENCE / row["file"]).read_bytes())[""]
    assert ours == (row["pdq_hex"], int(row["quality"]))


@pytest.mark.parametrize("row", _rows("dihedral-expected.csv"), ids=lambda r: r["file"])
def test_all_eight_dihedral_hashes_equal_pdqhash(row: dict[str, str]) -> None:
    ours = _ours((REFERENCE / row["file"]).read_bytes())
    for variant, column in zip(DIHEDRAL_VARIANTS, DIHEDRAL_COLUMNS, strict=True):
        assert ours[variant] == (row[column], int(row["quality"])), column


def test_pytx_itself_agrees_with_its_recorded_outputs() -> None:
    # The dev dependency is the one the CSV was made with: a drift there would show here.
    for row in _rows("pytx-expected.csv")[:12]:
        path = REFERENCE / row["file"]
        assert _pytx(path.read_bytes()) == (row["pdq_hex"], int(row["quality"]))
        expected = row["pdq_hex"] if int(row["quality"]) >= 50 else ""
        assert PytxPdqSignal.hash_from_file(path) == expected


def _pattern(width: int, height: int, seed: int) -> np.ndarray:
    """Smooth gradients plus noise: high quality at any size, different per seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    layers = [
        127 + 90 * np.sin(xx / max(width, 1) * rng.uniform(2, 9) + yy / max(height, 1) * k)
        for k in (1.0, 2.5, 4.0, 5.5)
    ]
    noisy = np.stack(layers, -1) + rng.normal(0, 12, (height, width, 4))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _image(width: int, height: int, mode: str, seed: int) -> Image.Image:
    pixels = _pattern(width, height, seed)
    if mode in ("RGBA", "CMYK"):
        return Image.fromarray(pixels, "RGBA" if mode == "RGBA" else "CMYK")
    rgb = Image.fromarray(pixels[:, :, :3], "RGB")
    if mode == "I;16":
        grey = np.asarray(rgb.convert("L")).astype(np.uint16) * 300
        return Image.fromarray(grey)  # uint16: mode I;16
    if mode == "P":
        return rgb.quantize(64)
    return rgb.convert(mode)


#: (file format, modes it stores as such)
FORMATS = {
    "PNG": ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"),
    "JPEG": ("L", "RGB", "CMYK"),
    "TIFF": ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr", "I;16"),
    "GIF": ("P", "L"),
    "WEBP": ("RGB", "RGBA"),
    "BMP": ("1", "L", "P", "RGB"),
}
SHAPES = {
    "square": (256, 256),
    "wide": (320, 100),
    "tall": (90, 300),
    "thumbnail": (160, 100),
    "tiny": (5, 7),
    "small-odd": (37, 23),
    "64x64": (64, 64),
    "panorama": (3000, 200),
    "huge": (4000, 3000),
}


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mode"), [(fmt, mode) for fmt, modes in FORMATS.items() for mode in modes]
)
@pytest.mark.parametrize("shape", ["square", "wide", "tall", "thumbnail", "tiny", "small-odd"])
def test_generated_shapes_and_modes_hash_as_pytx(fmt: str, mode: str, shape: str) -> None:
    width, height = SHAPES[shape]
    data = _encode(_image(width, height, mode, seed=width + height), fmt)
    hex_, quality = _pytx(data)
    ours = _ours(data)
    assert ours[""] == (hex_, quality)
    dihedral, _ = _pytx_dihedral(data)
    assert [ours[v][0] for v in DIHEDRAL_VARIANTS] == dihedral


@pytest.mark.parametrize("shape", ["64x64", "panorama", "huge"])
def test_large_and_special_sizes_hash_as_pytx(shape: str) -> None:
    width, height = SHAPES[shape]
    data = _encode(_image(width, height, "RGB", seed=3), "JPEG")
    assert _ours(data)[""] == _pytx(data)


def test_exif_orientation_is_ignored_as_pytx_ignores_it() -> None:
    image = _image(300, 200, "RGB", seed=9)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    data = buffer.getvalue()
    assert _ours(data)[""] == _pytx(data)
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.getexif().get(0x0112) == 6
        assert pdq_hash(stored) == _pytx(data)


def test_modes_pytx_cannot_hash_are_hashed_as_rgb() -> None:
    grey = np.asarray(_image(120, 80, "L", seed=4)).astype(np.int32) * 100
    image = Image.fromarray(grey, "I")
    data = _encode(image, "TIFF")
    with pytest.raises(ValueError, match="Buffer dtype mismatch"):
        _pytx(data)
    with Image.open(io.BytesIO(data)) as decoded:
        assert not pytx_compatible(decoded)
        expected = pdq_hash(decoded.convert("RGB"))
    assert _ours(data)[""] == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    mode=st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "I;16"]),
    seed=st.integers(0, 2**16),
)
def test_random_sizes_and_modes_hash_as_pytx(width: int, height: int, mode: str, seed: int) -> None:
    data = _encode(_image(width, height, mode, seed), "PNG")
    if min(width, height) < 5:
        with pytest.raises(ValueError, match="too small"):
            _ours(data)
        assert _pytx(data) == ("0" * 64, 0)  # pdqhash: the all-zero hash, quality 0
        return
    assert _ours(data)[""] == _pytx(data)


@pytest.mark.parametrize("bars", ["top-bottom", "left-right", "all"])
def test_images_with_margins_hash_as_pytx_and_add_a_trim_variant(bars: str) -> None:
    # The trim variant is hashed from a copy of the luma: the stored hashes stay pytx's.
    pixels = _pattern(400, 300, seed=11)[:, :, :3].copy()
    if bars in ("top-bottom", "all"):
        pixels[:40] = 0
        pixels[-40:] = 0
    if bars in ("left-right", "all"):
        pixels[:, :50] = 0
        pixels[:, -50:] = 0
    data = _encode(Image.fromarray(pixels), "PNG")
    ours = _ours(data)
    assert ours[""] == _pytx(data)
    assert [ours[v][0] for v in DIHEDRAL_VARIANTS] == _pytx_dihedral(data)[0]
    assert "trim" in ours
