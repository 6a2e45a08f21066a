"""PDQ: Meta's 256-bit perceptual image hash, implemented here in numpy + numba.

The numeric core (``pdq_core``) follows the reference C++ operation by operation in float32
and reproduces Meta's published bridge vectors bit for bit; see docs/pdq.md.

Hex format: the reference's ``Hash256::format``: sixteen 16-bit words, word 15 first; bit
``i*16 + j`` is DCT coefficient (i, j) being above the median.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from takedown.signals import pdq_core
from takedown.signals.base import InvalidSignal, SignalType, SignalValue, UnhashableContent
from takedown.signals.imageio import DEFAULT_MAX_PIXELS, open_image, pixels

WindowAxes = Literal["published", "source"]

#: The 8 dihedral variants, in the reference's order; "" is the image as stored.
DIHEDRAL_VARIANTS: tuple[str, ...] = pdq_core.DIHEDRAL_NAMES
#: Quality below this marks a hash ``low_quality`` (kept, never dropped).
LOW_QUALITY_BELOW = 50
HASH_HEX_LENGTH = 64

_HEX = frozenset("0123456789abcdef")


def _luma(image: Image.Image | npt.NDArray[np.generic]) -> npt.NDArray[np.float32] | None:
    """Float32 luma as the reference computes it; ``None`` when under 5x5 (unhashable)."""
    if isinstance(image, Image.Image):
        array: npt.NDArray[np.generic]
        if image.mode.startswith("I;16"):
            # 16-bit grey: scale to 8 bits as ImageMagick does (v / 257, rounded).
            wide = np.asarray(image, dtype=np.uint32)
            array = ((wide + 128) // 257).astype(np.uint8)
        elif image.mode in ("1", "L", "LA", "I", "F"):
            array = pixels(image) if image.mode == "L" else np.asarray(image.convert("L"))
        else:
            array = pixels(image) if image.mode == "RGB" else np.asarray(image.convert("RGB"))
    else:
        array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(f"PDQ needs 8-bit samples, got an array of {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        rows, cols = array.shape
        luma = array.astype(np.float32)  # fillFloatLumaFromGrey
    elif array.ndim == 3 and array.shape[2] >= 3:
        rows, cols = array.shape[:2]
        luma = pdq_core.luma_from_rgb(array.astype(np.uint8, copy=False))
    else:
        raise TypeError(f"PDQ needs an HxW or HxWx3 array, got shape {array.shape}")
    if rows < pdq_core.MIN_HASHABLE_DIM or cols < pdq_core.MIN_HASHABLE_DIM:
        return None
    return luma


def resize_like_reference_cli(
    image: Image.Image | npt.NDArray[np.generic], size: int = pdq_core.DOWNSAMPLE_DIMS
) -> npt.NDArray[np.generic]:
    """What today's ``pdq-photo-hasher`` does first to images over ``size`` px on a side:
    CImg ``resize(512, 512)``, nearest neighbour (source index ``floor(x * W / 512)``), aspect
    not kept. Meta's published vectors predate this step; use it only to reproduce hashes
    made by that CLI (see docs/pdq.md)."""
    array = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image)
    rows, cols = array.shape[:2]
    if rows <= size and cols <= size:
        return array
    ys = (np.arange(size, dtype=np.int64) * rows) // size
    xs = (np.arange(size, dtype=np.int64) * cols) // size
    resized: npt.NDArray[np.generic] = np.ascontiguousarray(array[ys][:, xs])
    return resized


def pdq_hash(
    image: Image.Image | npt.NDArray[np.generic], *, window_axes: WindowAxes = "published"
) -> tuple[str, int]:
    """(64 lower-case hex characters, quality 0-100) of an image or an 8-bit array.

    Images under 5 pixels on a side give the all-zero hash with quality 0, as the reference
    does. ``window_axes`` is explained in docs/pdq.md ("Exactness").
    """
    luma = _luma(image)
    if luma is None:
        return pdq_core.zero_hash(), 0
    dct, quality = pdq_core.dct16_from_luma(luma, window_axes)
    return pdq_core.bits_to_hex(dct), quality


def pdq_hash_dihedral(
    image: Image.Image | npt.NDArray[np.generic], *, window_axes: WindowAxes = "published"
) -> tuple[dict[str, str], int]:
    """All 8 dihedral hashes ({variant name: hex}) from one DCT, and the quality."""
    luma = _luma(image)
    if luma is None:
        return {name: pdq_core.zero_hash() for name in DIHEDRAL_VARIANTS}, 0
    dct, quality = pdq_core.dct16_from_luma(luma, window_axes)
    hashes = {
        name: pdq_core.bits_to_hex(pdq_core.dihedral_block(dct, name)) for name in DIHEDRAL_VARIANTS
    }
    return hashes, quality


def validate_hex(value: str) -> str:
    """Canonical (stripped, lower-case) PDQ hex or :class:`InvalidSignal`."""
    canonical = value.strip().lower()
    if len(canonical) != HASH_HEX_LENGTH or not set(canonical) <= _HEX:
        raise InvalidSignal(f"pdq must be {HASH_HEX_LENGTH} hex characters, got {value[:80]!r}")
    return canonical


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two PDQ hashes (0-256)."""
    return (int(validate_hex(a_hex), 16) ^ int(validate_hex(b_hex), 16)).bit_count()


def hashes_to_bytes(hexes: Sequence[str]) -> npt.NDArray[np.uint8]:
    """N x 32 byte matrix of hex hashes (for vectorised distance computations)."""
    out = np.zeros((len(hexes), 32), dtype=np.uint8)
    for row, value in enumerate(hexes):
        out[row] = np.frombuffer(bytes.fromhex(value), dtype=np.uint8)
    return out


def hamming_matrix(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> npt.NDArray[np.int32]:
    """All pairwise Hamming distances between the rows of two N x 32 byte matrices."""
    bits_a = np.unpackbits(a, axis=1).astype(np.float32)
    bits_b = np.unpackbits(b, axis=1).astype(np.float32)
    ones_a = bits_a.sum(axis=1)[:, None]
    ones_b = bits_b.sum(axis=1)[None, :]
    shared = bits_a @ bits_b.T  # exact: integers below 2**24
    result: npt.NDArray[np.int32] = (ones_a + ones_b - 2.0 * shared).astype(np.int32)
    return result


#: Variant name of the hash of an image with its uniform margins cut (borders, letterboxes).
TRIM_VARIANT = "trim"
#: The dihedral variant that is the left-right mirror of the image.
MIRROR_VARIANT = "flip-y"


def mirror_hash(image: Image.Image) -> str | None:
    """PDQ of the left-right mirrored pixels (``None`` when unhashable).

    The DCT sign flip that gives ``flip-y`` from the stored orientation's DCT is exact only
    for a symmetric downsampling; the reference's box filter and sampling are not, and on
    fine textures or text the shortcut lands 14-110 bits from the mirrored image's real hash
    (issue #8). The mirrored block is sampled from the stored orientation's filtered buffer
    (``pdq_core.downsample_64_and_mirror``): equal to hashing the mirrored pixels, without a
    second filtering.
    """
    luma = _luma(image)
    if luma is None:
        return None
    _dct, mirror, _quality = pdq_core.dct16_and_mirror_from_luma(luma)
    return pdq_core.bits_to_hex(mirror)


def pdq_hash_variants(
    image: Image.Image,
) -> tuple[dict[str, str], int, npt.NDArray[np.float32] | None]:
    """The 8 dihedral hashes with ``flip-y`` the hash of the mirrored pixels (see
    ``mirror_hash``), the quality, and the luma (for ``trimmed_variant``), from one luma and
    one filtering: what the signal stores and a query searches."""
    luma = _luma(image)
    if luma is None:
        return {name: pdq_core.zero_hash() for name in DIHEDRAL_VARIANTS}, 0, None
    dct, mirror, quality = pdq_core.dct16_and_mirror_from_luma(luma)
    hashes = {
        name: pdq_core.bits_to_hex(pdq_core.dihedral_block(dct, name)) for name in DIHEDRAL_VARIANTS
    }
    hashes[MIRROR_VARIANT] = pdq_core.bits_to_hex(mirror)
    return hashes, quality, luma


def trimmed_variant(
    image: Image.Image, luma: npt.NDArray[np.float32] | None = None
) -> list[SignalValue]:
    """The ``trim`` variant when the image has uniform margins (see ``takedown.robust.trim``);
    none otherwise, so the stored hashes of images without margins are unchanged. ``luma``
    (the image's, from ``pdq_hash_variants``) saves computing it again."""
    from takedown.robust.trim import TrimBox, find_margins  # robust builds on signals

    box: TrimBox | None
    array: npt.NDArray[np.float32] | None
    if luma is not None:
        # The luma is what trim's own grey conversion gives for 8-bit RGB or grey pixels
        # (the same float32 weights, left to right): the same margins, found without
        # reading the pixels again.
        array, box = luma, find_margins(luma)
    elif image.mode in ("RGB", "RGBA", "L"):
        box = find_margins(pixels(image))  # looks at the four edges first: cheap
        array = _luma(image) if box.trimmed else None
    else:
        array = _luma(image)
        box = None if array is None else find_margins(array)
    if array is None or box is None or not box.trimmed:
        return []
    if min(box.bottom - box.top, box.right - box.left) < pdq_core.MIN_HASHABLE_DIM:
        return []
    dct, quality = pdq_core.dct16_from_luma(
        np.ascontiguousarray(array[box.top : box.bottom, box.left : box.right])
    )
    if quality < LOW_QUALITY_BELOW:
        return []
    meta = {k: str(v) for k, v in box.margins().items()}
    return [SignalValue("pdq", pdq_core.bits_to_hex(dct), quality, False, TRIM_VARIANT, meta)]


class PdqSignal(SignalType):
    """PDQ of still images: the stored orientation plus the 7 other dihedral variants."""

    name = "pdq"
    content_kinds = frozenset({"image"})
    default_threshold = 31
    max_threshold = 63
    index_kind = "hamming256"

    #: Decode JPEGs at reduced size (>= 512 px short side); see docs/pdq.md.
    reduced_decode: ClassVar[bool] = True
    max_pixels: ClassVar[int] = DEFAULT_MAX_PIXELS

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        image = open_image(stream, reduced=self.reduced_decode, max_pixels=self.max_pixels)
        return self.hash_image(image)

    def hash_image(self, image: Image.Image) -> Sequence[SignalValue]:
        """The values of an image decoded as ``hash_stream`` decodes it."""
        width, height = image.size
        if min(width, height) < pdq_core.MIN_HASHABLE_DIM:
            raise UnhashableContent(
                f"image too small: {width}x{height} (PDQ needs at least "
                f"{pdq_core.MIN_HASHABLE_DIM} pixels on each side)"
            )
        hashes, quality, luma = pdq_hash_variants(image)
        low = quality < LOW_QUALITY_BELOW
        values = [
            SignalValue(self.name, hashes[variant], quality, low, variant)
            for variant in DIHEDRAL_VARIANTS
        ]
        values.extend(trimmed_variant(image, luma))
        return values

    def validate(self, value: str) -> str:
        return validate_hex(value)

    def distance(self, a: str, b: str) -> int:
        return hamming(a, b)

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        # Meta's bridge vector, and copies with 31 and 32 bits flipped.
        base = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
        value = int(base, 16)
        near = f"{value ^ ((1 << 31) - 1):064x}"
        far = f"{value ^ ((1 << 32) - 1):064x}"
        return [(base, base, True), (base, near, True), (base, far, False)]
