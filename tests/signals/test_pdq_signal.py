"""Behaviour of our PDQ: dihedral variants, decoding, validation (pytx exactness: test_pdq_pytx)."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from takedown.signals.base import InvalidSignal, UnhashableContent
from takedown.signals.imageio import open_image
from takedown.signals.pdq import (
    DIHEDRAL_VARIANTS,
    PdqSignal,
    hamming,
    mirror_hash,
    pdq_hash,
    pdq_hash_dihedral,
    resize_like_reference_cli,
)

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "pdq-reference"
#: Measured: bridge-1's derived dihedral hashes vs the hashes of the 7 transformed files
#: (re-encoded JPEGs, so their pixels differ slightly): 0-8 bits.
MAX_BITS_DIHEDRAL_VS_FILES = 8
FILE_FOR_VARIANT = {
    "": "bridge-1-original.jpg",
    "rotate-90": "bridge-2-rotate-90.jpg",
    "rotate-180": "bridge-3-rotate-180.jpg",
    "rotate-270": "bridge-4-rotate-270.jpg",
    "flip-x": "bridge-5-flipx.jpg",
    "flip-y": "bridge-6-flipy.jpg",
    "flip-plus-1": "bridge-7-flip-plus-1.jpg",
    "flip-minus-1": "bridge-8-flip-minus-1.jpg",
}


def _expected(name: str = "pytx-expected.csv") -> dict[str, tuple[str, int]]:
    with (REFERENCE / name).open(newline="") as handle:
        return {
            row["file"]: (row["pdq_hex"], int(row["quality"])) for row in csv.DictReader(handle)
        }


def synthetic_photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """Photo-like content: smooth gradients, shapes, blur and sensor noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = [
        127 + 100 * np.sin(xx / width * rng.uniform(2, 6) + yy / height * rng.uniform(1, 4) + k)
        for k in range(3)
    ]
    image = Image.fromarray(np.clip(np.stack(channels, -1), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.03, 0.2) * min(width, height)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1, width // 800)))
    noisy = np.asarray(image).astype(np.int16) + rng.normal(0, 6, (height, width, 3)).astype(
        np.int16
    )
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_published_and_source_window_axes_differ_only_on_non_square_images() -> None:
    # "published" reproduces the C++ README's bridge vectors (expected.csv) and nothing else;
    # the default ("source") is what pytx computes (pytx-expected.csv).
    with Image.open(REFERENCE / "bridge-1-original.jpg") as image:
        image.load()
        published, _ = pdq_hash(image, window_axes="published")
        source, _ = pdq_hash(image)
        square = image.resize((1004, 1004))
    assert published == _expected("expected.csv")["bridge-1-original.jpg"][0]
    assert source == _expected()["bridge-1-original.jpg"][0]
    assert 0 < hamming(published, source) <= 8
    assert pdq_hash(square)[0] == pdq_hash(square, window_axes="published")[0]


def test_dihedral_variants_of_original_match_transformed_files() -> None:
    expected = _expected()
    with Image.open(REFERENCE / "bridge-1-original.jpg") as image:
        hashes, quality = pdq_hash_dihedral(image)
    assert quality == 100
    assert list(hashes) == list(DIHEDRAL_VARIANTS)
    for variant, filename in FILE_FOR_VARIANT.items():
        assert hamming(hashes[variant], expected[filename][0]) <= MAX_BITS_DIHEDRAL_VS_FILES
    # The variants are distinct images: far apart from each other.
    assert hamming(hashes[""], hashes["rotate-180"]) > 64


def test_dihedral_names_follow_pixel_transforms() -> None:
    pixels = np.asarray(synthetic_photo(320, 240, seed=3))
    hashes, _ = pdq_hash_dihedral(pixels)
    transforms = {
        "rotate-90": np.rot90(pixels, 1),  # counter-clockwise
        "rotate-180": np.rot90(pixels, 2),
        "rotate-270": np.rot90(pixels, -1),
        "flip-x": pixels[::-1],  # top-bottom mirror
        "flip-y": pixels[:, ::-1],  # left-right mirror
        "flip-plus-1": pixels.transpose(1, 0, 2),
        "flip-minus-1": pixels[::-1, ::-1].transpose(1, 0, 2),
    }
    for variant, moved in transforms.items():
        # Meta's derived hashes (pdqhash.compute_dihedral) drift up to 18 bits here.
        assert hamming(hashes[variant], pdq_hash(np.ascontiguousarray(moved))[0]) <= 24, variant


def test_reduced_decode_stays_close_to_full_decode() -> None:
    # The reduced decode is what the keypoint signal uses; PDQ always decodes in full.
    data = _jpeg(synthetic_photo(2400, 1800, seed=1))
    reduced = open_image(io.BytesIO(data), reduced=True)
    full = open_image(io.BytesIO(data), reduced=False)
    assert reduced.size == (1200, 900)  # DCT-scaled 1/2: short side stays >= 512
    assert full.size == (2400, 1800)
    assert hamming(pdq_hash(reduced)[0], pdq_hash(full)[0]) <= 8
    assert PdqSignal().hash_stream(io.BytesIO(data))[0].value == pdq_hash(full)[0]


def test_small_jpeg_is_not_reduced() -> None:
    data = _jpeg(synthetic_photo(800, 600))
    assert open_image(io.BytesIO(data)).size == (800, 600)


def test_flat_image_is_kept_but_marked_low_quality() -> None:
    flat = Image.new("RGB", (300, 200), (120, 130, 140))
    values = PdqSignal().hash_stream(io.BytesIO(_png(flat)))
    assert len(values) == len(DIHEDRAL_VARIANTS)
    assert all(v.quality == 0 and v.low_quality for v in values)


def test_photo_is_high_quality_with_all_variants() -> None:
    values = PdqSignal().hash_stream(io.BytesIO(_jpeg(synthetic_photo(640, 480))))
    variants = [v.variant for v in values]
    assert variants[:8] == list(DIHEDRAL_VARIANTS) and set(variants[8:]) <= {"mirror"}
    assert all(v.signal_type == "pdq" and not v.low_quality for v in values)
    assert values[0].quality is not None and values[0].quality >= 50


def test_greyscale_and_rgba_images_hash_like_their_rgb_version() -> None:
    photo = synthetic_photo(400, 300, seed=5)
    grey = photo.convert("L")
    assert hamming(pdq_hash(grey)[0], pdq_hash(grey.convert("RGB"))[0]) <= 2
    rgba = photo.convert("RGBA")
    assert pdq_hash(rgba) == pdq_hash(photo)
    # 16-bit grey: pytx converts it with Pillow's convert("RGB"), which clips at 255.
    deep = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    assert deep.mode.startswith("I;16")
    assert pdq_hash(deep) == pdq_hash(deep.convert("RGB"))


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_truncated_image_is_unhashable(kind: str) -> None:
    photo = synthetic_photo(400, 300)
    data = _jpeg(photo) if kind == "jpeg" else _png(photo)
    with pytest.raises(UnhashableContent, match="corrupt image"):
        PdqSignal().hash_stream(io.BytesIO(data[: len(data) // 2]))


@pytest.mark.parametrize(
    "data", [b"", b"not an image at all" * 10, b"\x89PNG\r\n\x1a\n" + b"\0" * 40]
)
def test_garbage_is_unhashable(data: bytes) -> None:
    with pytest.raises(UnhashableContent, match="corrupt image"):
        PdqSignal().hash_stream(io.BytesIO(data))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG file that declares a huge size (its pixel data is a few bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_with_declared_size(width: int, height: int) -> bytes:
    data = bytearray(_jpeg(Image.new("RGB", (16, 16), (10, 20, 30))))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        _png_header(100_000, 100_000),
        _png_header(20_000, 6_000),
        _jpeg_with_declared_size(60_000, 60_000),
    ],
)
def test_enormous_declared_dimensions_are_refused_before_decoding(data: bytes) -> None:
    with pytest.raises(UnhashableContent, match="image too large"):
        PdqSignal().hash_stream(io.BytesIO(data))


def test_pixel_limit_is_configurable() -> None:
    data = _png(synthetic_photo(200, 100))
    with pytest.raises(UnhashableContent, match="image too large"):
        open_image(io.BytesIO(data), max_pixels=19_999)
    assert open_image(io.BytesIO(data), max_pixels=20_000).size == (200, 100)


def test_tiny_image_is_unhashable_and_hashes_to_zero() -> None:
    tiny = Image.new("RGB", (4, 40), (1, 2, 3))
    assert pdq_hash(tiny) == ("0" * 64, 0)
    with pytest.raises(UnhashableContent, match="too small"):
        PdqSignal().hash_stream(io.BytesIO(_png(tiny)))


@pytest.mark.parametrize(
    "value",
    ["", "f" * 63, "f" * 65, "g" * 64, "f8f8 " * 16, "0x" + "f" * 62],
)
def test_malformed_hex_is_invalid(value: str) -> None:
    with pytest.raises(InvalidSignal):
        PdqSignal().validate(value)


def test_validate_canonicalises_case_and_whitespace() -> None:
    assert PdqSignal().validate("  " + "AB" * 32 + "\n") == "ab" * 32


def test_hamming_counts_differing_bits() -> None:
    zero = "0" * 64
    assert hamming(zero, zero) == 0
    assert hamming(zero, "f" * 64) == 256
    assert hamming(zero, "8" + "0" * 62 + "1") == 2
    with pytest.raises(InvalidSignal):
        hamming(zero, "xyz")


def test_contract_examples_behave_as_declared() -> None:
    signal = PdqSignal()
    for a, b, expected in signal.examples():
        assert signal.matches(a, b) is expected
    assert signal.distance(*signal.examples()[1][:2]) == 31


def test_reference_cli_resize_picks_nearest_pixels_into_a_512_square() -> None:
    rows, cols = np.mgrid[0:1004, 0:1600]
    coded = np.stack([rows // 4, cols % 256, cols // 256], axis=-1).astype(np.uint8)
    resized = np.asarray(resize_like_reference_cli(coded))
    assert resized.shape == (512, 512, 3)
    assert resized[1, 1].tolist() == [0, 3, 0]  # source (row 1, col 3): floor(1*1004/512)=1
    assert resized[511, 511].tolist() == [1002 // 4, 1596 % 256, 1596 // 256]
    small = np.zeros((300, 400, 3), dtype=np.uint8)
    assert resize_like_reference_cli(small) is small


@pytest.mark.parametrize(
    ("width", "height"), [(320, 240), (451, 300), (512, 512), (600, 403), (1000, 872), (130, 77)]
)
def test_stored_mirror_hash_is_the_hash_of_the_mirrored_pixels(width: int, height: int) -> None:
    # Fine noise is where the DCT sign flip lands far from the mirrored image's hash; the
    # stored "mirror" variant is sampled from the filtered buffer and must equal hashing the
    # pixels; "flip-y" stays Meta's derived dihedral hash.
    rng = np.random.default_rng(width * height)
    pixels = np.asarray(synthetic_photo(width, height, seed=width)).astype(np.int16)
    pixels = np.clip(pixels + rng.integers(-60, 61, pixels.shape), 0, 255).astype(np.uint8)
    stored = {v.variant: v.value for v in PdqSignal().hash_image(Image.fromarray(pixels))}
    mirrored = np.ascontiguousarray(pixels[:, ::-1])
    # Sampling the filtered buffer is exact but for the few edge columns where the window
    # shrinks: on a 130 px wide image (even window 2) that is 8 bits.
    exact = pdq_hash(mirrored)[0]
    assert hamming(stored.get("mirror", stored["flip-y"]), exact) <= (0 if width >= 256 else 8)
    assert stored["flip-y"] == pdq_hash_dihedral(pixels)[0]["flip-y"]
    assert mirror_hash(Image.fromarray(pixels)) == stored.get("mirror", stored["flip-y"])
    assert stored[""] == pdq_hash(pixels)[0]
