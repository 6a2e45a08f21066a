"""PDQ: Meta's 256-bit perceptual image hash, computed as the field computes it.

The truth is pytx's ``PdqSignal.hash_from_file`` (what HMA runs): Pillow decodes the file,
pytx turns the image into a numpy array (``pytx_array_strip`` says how, mode by mode) and
the PyPI ``pdqhash`` binding of Meta's C++ computes a float64 luma, the Jarosz box filters
(window along rows from the width), the 16x16 DCT and the bits. ``pdq_core`` re-implements
the C++ in float32, operation by operation; together they give pytx's hash and quality bit
for bit, all eight dihedral hashes included (tests/signals/test_pdq_pytx.py checks against
pytx and ``pdqhash`` themselves). See docs/pdq.md.

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
from takedown.signals.imageio import PDQ_MAX_PIXELS, load_checked, open_checked

WindowAxes = Literal["published", "source"]

#: The 8 dihedral variants, in the reference's order; "" is the image as stored.
DIHEDRAL_VARIANTS: tuple[str, ...] = pdq_core.DIHEDRAL_NAMES
#: Quality below this marks a hash ``low_quality`` (kept, never dropped; pytx drops them).
LOW_QUALITY_BELOW = 50
HASH_HEX_LENGTH = 64
#: Recorded with every stored PDQ signal (``signal.algorithm``): hashes stored without it
#: came from the earlier variant (reduced JPEG decode, C++-README window axes, float32 luma)
#: and are re-computed by ``takedown signals rehash``.
ALGORITHM = "pytx-1"

_HEX = frozenset("0123456789abcdef")
#: Modes pytx converts to RGB before making its array.
_PYTX_TO_RGB = frozenset({"LA", "I;16"})
#: Rows per strip when the luma is made from a decoded image (bounds the float64 temporaries).
_STRIP_PIXELS = 1_000_000


def pytx_array_strip(
    image: Image.Image, top: int = 0, bottom: int | None = None
) -> npt.NDArray[np.generic]:
    """Rows ``top:bottom`` of the array pytx hands to ``pdqhash``, or of its documented
    stand-in where pytx fails.

    pytx (``pdq_hasher._convert_image_to_correct_array_dimension``): ``LA`` and ``I;16`` are
    converted to RGB; everything else is ``np.asarray(image)`` as decoded, a 2-D array (L,
    P's palette *indices*, 1's booleans) repeated on three channels; ``pdqhash`` reads the
    first three channels (RGBA and RGBX: alpha ignored; CMYK: C, M, Y as R, G, B; YCbCr, LAB
    and HSV: their raw channels). Modes whose array ``pdqhash`` refuses (``I``, ``F``,
    ``I;16B/L/N``: not one byte a sample; ``La``, ``PA``: two channels) make pytx raise; for
    them we hash Pillow's ``convert("RGB")`` instead (no pytx hash exists to agree with).
    """
    bottom = image.height if bottom is None else bottom
    whole = top == 0 and bottom == image.height
    part = image if whole else image.crop((0, top, image.width, bottom))
    if part.mode in _PYTX_TO_RGB:
        part = part.convert("RGB")
    array = np.asarray(part)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.dtype.itemsize != 1 or array.ndim != 3 or array.shape[2] < 3:
        array = np.asarray(_to_rgb(part))
    return array


def pytx_compatible(image: Image.Image) -> bool:
    """Whether pytx can hash this decoded image at all (see ``pytx_array_strip``)."""
    if image.mode in _PYTX_TO_RGB or image.mode in ("1", "L", "P"):
        return True
    probe = np.asarray(image.crop((0, 0, 1, 1)))
    return probe.dtype.itemsize == 1 and probe.ndim == 3 and probe.shape[2] >= 3


def _to_rgb(image: Image.Image) -> Image.Image:
    try:
        return image.convert("RGB")
    except ValueError:  # e.g. I;16B: Pillow converts it through I
        return image.convert("I").convert("RGB")


def luma_of_array(array: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    """``pdqhash.compute``'s luma: ``R*0.299 + G*0.587 + B*0.114`` in float64 (numpy's
    promotion of the 8-bit samples), left to right, then rounded to float32."""
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] < 3:
        raise TypeError(f"PDQ needs an HxW or HxWxC (C >= 3) array, got shape {array.shape}")
    if array.dtype.itemsize != 1:
        raise TypeError(f"PDQ needs 8-bit samples, got an array of {array.dtype}")
    # numpy promotes 8-bit (or bool) samples times a Python float to float64, as in pdqhash.
    red, green, blue = (np.asarray(array[:, :, k], dtype=np.float64) for k in range(3))
    luma: npt.NDArray[np.float32] = (red * 0.299 + green * 0.587 + blue * 0.114).astype(np.float32)
    return luma


def luma_of_image(image: Image.Image) -> npt.NDArray[np.float32]:
    """The float32 luma pytx + ``pdqhash`` compute for a decoded image, made in strips of
    rows so that no full-size float64 or RGB copy is ever held (the luma is exact per
    pixel, so strips change nothing)."""
    width, height = image.size
    luma = np.empty((height, width), dtype=np.float32)
    step = max(1, _STRIP_PIXELS // max(width, 1))
    for top in range(0, height, step):
        bottom = min(height, top + step)
        luma[top:bottom] = luma_of_array(pytx_array_strip(image, top, bottom))
    return luma


def _luma(image: Image.Image | npt.NDArray[np.generic]) -> npt.NDArray[np.float32] | None:
    """pytx's float32 luma; ``None`` when under 5x5 (unhashable)."""
    luma = luma_of_image(image) if isinstance(image, Image.Image) else luma_of_array(image)
    if min(luma.shape) < pdq_core.MIN_HASHABLE_DIM:
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
    image: Image.Image | npt.NDArray[np.generic], *, window_axes: WindowAxes = "source"
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
    image: Image.Image | npt.NDArray[np.generic], *, window_axes: WindowAxes = "source"
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
#: Variant name of the PDQ of the left-right mirrored pixels, stored when it differs from the
#: derived ``flip-y`` (issue #8; see ``mirror_hash``).
MIRROR_VARIANT = "mirror"


def mirror_hash(image: Image.Image) -> str | None:
    """PDQ of the left-right mirrored pixels (``None`` when unhashable).

    The DCT sign flip that gives ``flip-y`` from the stored orientation's DCT (Meta's
    dihedral hash, kept exactly as ``pdqhash`` computes it) is exact only for a symmetric
    downsampling; the reference's box filter and sampling are not, and on fine textures or
    text the shortcut lands 14-110 bits from the mirrored image's real hash (issue #8). This
    block is sampled from the stored orientation's filtered buffer
    (``pdq_core.downsample_64_and_mirror``): equal to hashing the mirrored pixels, without a
    second filtering.
    """
    luma = _luma(image)
    if luma is None:
        return None
    _dct, mirror, _quality = pdq_core.dct16_and_mirror_from_luma(luma, overwrite=True)
    return pdq_core.bits_to_hex(mirror)


def hashes_from_luma(
    luma: npt.NDArray[np.float32], *, overwrite: bool = False
) -> tuple[dict[str, str], str, int]:
    """Meta's 8 dihedral hashes ({variant: hex}), the exact mirror hash and the quality, from
    one filtering (in ``luma`` itself with ``overwrite``)."""
    dct, mirror, quality = pdq_core.dct16_and_mirror_from_luma(luma, overwrite=overwrite)
    hashes = {
        name: pdq_core.bits_to_hex(pdq_core.dihedral_block(dct, name)) for name in DIHEDRAL_VARIANTS
    }
    return hashes, pdq_core.bits_to_hex(mirror), quality


def pdq_hash_variants(
    image: Image.Image,
) -> tuple[dict[str, str], int, npt.NDArray[np.float32] | None]:
    """Meta's 8 dihedral hashes plus ``mirror`` (the hash of the mirrored pixels), the
    quality, and the luma (for ``trimmed_variant``)."""
    luma = _luma(image)
    if luma is None:
        return {name: pdq_core.zero_hash() for name in DIHEDRAL_VARIANTS}, 0, None
    hashes, mirror, quality = hashes_from_luma(luma)
    hashes[MIRROR_VARIANT] = mirror
    return hashes, quality, luma


def trimmed_variant(
    image: Image.Image | None, luma: npt.NDArray[np.float32] | None = None
) -> list[SignalValue]:
    """The ``trim`` variant when the image has uniform margins (see ``takedown.robust.trim``);
    none otherwise, so the stored hashes of images without margins are unchanged. ``luma``
    (pytx's luma of the image) saves computing it again; it is left unchanged."""
    from takedown.robust.trim import find_margins  # robust builds on signals

    array = luma if luma is not None else (None if image is None else _luma(image))
    if array is None:
        return []
    box = find_margins(array)  # looks at the four edges first: cheap
    if not box.trimmed:
        return []
    if min(box.bottom - box.top, box.right - box.left) < pdq_core.MIN_HASHABLE_DIM:
        return []
    # A copy (never a view: rows-only crops are contiguous), filtered in place.
    kept = np.array(array[box.top : box.bottom, box.left : box.right], order="C", copy=True)
    dct, quality = pdq_core.dct16_from_luma(kept, overwrite=True)
    if quality < LOW_QUALITY_BELOW:
        return []
    meta = {k: str(v) for k, v in box.margins().items()}
    return [SignalValue("pdq", pdq_core.bits_to_hex(dct), quality, False, TRIM_VARIANT, meta)]


class PdqSignal(SignalType):
    """PDQ of still images as pytx computes it: Meta's 8 dihedral hashes, plus ``mirror``
    (when it differs from ``flip-y``) and ``trim`` (when the image has margins)."""

    name = "pdq"
    content_kinds = frozenset({"image"})
    default_threshold = 31
    max_threshold = 63
    index_kind = "hamming256"
    algorithm_version = ALGORITHM

    #: Exactness first: never a reduced (JPEG draft) decode; the image is decoded on its own.
    reduced_decode: ClassVar[bool] = False
    #: Memory budget of exact hashing: see imageio.PDQ_MAX_PIXELS and docs/pdq.md.
    max_pixels: ClassVar[int] = PDQ_MAX_PIXELS

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        image = load_checked(open_checked(stream, max_pixels=self.max_pixels))
        self._check_size(image)
        luma = luma_of_image(image)
        # The only reference: the decoded pixels are freed before the filter works (memory
        # budget). Not ``close()``, which would close the caller's stream.
        del image
        return self.hash_luma(luma)

    def hash_image(self, image: Image.Image) -> Sequence[SignalValue]:
        """The values of a decoded image (full size, stored orientation)."""
        self._check_size(image)
        return self.hash_luma(luma_of_image(image))

    def hash_luma(self, luma: npt.NDArray[np.float32]) -> Sequence[SignalValue]:
        """The values from pytx's luma of the image; ``luma`` is consumed (filtered in place)."""
        trimmed = trimmed_variant(None, luma)
        hashes, mirror, quality = hashes_from_luma(luma, overwrite=True)
        low = quality < LOW_QUALITY_BELOW
        values = [
            SignalValue(
                self.name, hashes[variant], quality, low, variant, algorithm=self.algorithm_version
            )
            for variant in DIHEDRAL_VARIANTS
        ]
        if not low and mirror != hashes["flip-y"]:
            values.append(
                SignalValue(
                    self.name,
                    mirror,
                    quality,
                    low,
                    MIRROR_VARIANT,
                    algorithm=self.algorithm_version,
                )
            )
        values.extend(
            SignalValue(
                v.signal_type,
                v.value,
                v.quality,
                v.low_quality,
                v.variant,
                v.meta,
                algorithm=self.algorithm_version,
            )
            for v in trimmed
        )
        return values

    @staticmethod
    def _check_size(image: Image.Image) -> None:
        width, height = image.size
        if min(width, height) < pdq_core.MIN_HASHABLE_DIM:
            raise UnhashableContent(
                f"image too small: {width}x{height} (PDQ needs at least "
                f"{pdq_core.MIN_HASHABLE_DIM} pixels on each side)"
            )

    def validate(self, value: str) -> str:
        return validate_hex(value)

    def distance(self, a: str, b: str) -> int:
        return hamming(a, b)

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        # pytx's hash of Meta's bridge photo, and copies with 31 and 32 bits flipped.
        base = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
        value = int(base, 16)
        near = f"{value ^ ((1 << 31) - 1):064x}"
        far = f"{value ^ ((1 << 32) - 1):064x}"
        return [(base, base, True), (base, near, True), (base, far, False)]
