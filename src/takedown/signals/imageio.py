"""Safe image decoding for the perceptual signals.

``open_image`` reads the header first and refuses images whose declared pixel count is over
the limit *before* decoding a single pixel; any decoder failure (corrupt, truncated,
unsupported) becomes :class:`UnhashableContent` with a reason.

EXIF orientation is deliberately **not** applied: pytx (Meta's Python stack) hashes the
pixels as stored, so a bank hash computed elsewhere matches only if we do the same. Rotated
copies are caught by PDQ's dihedral variants instead.
"""

from __future__ import annotations

import warnings
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from takedown.signals.base import UnhashableContent

#: Reduced decode keeps the short side at least this large (JPEG DCT scaling 1/2, 1/4, 1/8).
REDUCED_MIN_SIDE = 512
DEFAULT_MAX_PIXELS = 100_000_000
#: Exact PDQ decodes the whole image (no reduced decode exists in pytx) and holds the decoded
#: image (up to 4 bytes a pixel) and then a float32 luma (4 bytes a pixel) filtered in place:
#: about 8 bytes a pixel at the peak. This limit keeps the worst image under it (a 4-channel
#: PNG of 30 M pixels: 410 MiB measured) under 512 MiB of RSS; larger images are refused from their
#: header before decoding. See docs/pdq.md ("Memory budget").
PDQ_MAX_PIXELS = 30_000_000

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


def open_checked(stream: BinaryIO, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open an image lazily: its size checked from the header against ``max_pixels`` before
    any pixel is decoded. Raises :class:`UnhashableContent`; finish with :func:`load_checked`.
    """
    if max_pixels <= 0:
        raise ValueError("max_pixels must be positive")
    try:
        with warnings.catch_warnings():
            # We enforce our own pixel limit below; Pillow's warning would only duplicate it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream)
    except Image.DecompressionBombError as exc:
        raise UnhashableContent(f"image too large: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise UnhashableContent("corrupt image: not a recognised image format") from exc
    except _DECODE_ERRORS as exc:
        raise UnhashableContent(f"corrupt image: {exc}") from exc

    width, height = image.size
    if width <= 0 or height <= 0:
        raise UnhashableContent(f"corrupt image: empty size {width}x{height}")
    if width * height > max_pixels:
        raise UnhashableContent(
            f"image too large: {width}x{height} = {width * height} pixels > {max_pixels}"
        )
    return image


def load_checked(
    image: Image.Image, draft: tuple[str | None, tuple[int, int]] | None = None
) -> Image.Image:
    """Decode an image from :func:`open_checked`; a JPEG at the reduced ``draft`` (mode, size)
    when given. Every decoder failure becomes :class:`UnhashableContent`."""
    try:
        if draft is not None and image.format in ("JPEG", "MPO"):
            image.draft(*draft)
        image.load()
    except _DECODE_ERRORS as exc:
        raise UnhashableContent(f"corrupt image: {exc}") from exc
    return image


def open_image(
    stream: BinaryIO, *, reduced: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """Decode the first frame of an image, fully loaded, in its stored orientation.

    With ``reduced`` a JPEG is decoded at the smallest DCT scale (1/2, 1/4 or 1/8) that keeps
    both sides at least ``REDUCED_MIN_SIDE`` pixels; other formats decode at full size.
    Raises :class:`UnhashableContent` ("corrupt image: ..." or "image too large: ...").
    """
    image = open_checked(stream, max_pixels=max_pixels)
    shrinks = reduced and image.format in ("JPEG", "MPO")
    width, height = image.size
    if not shrinks and width * height > PDQ_MAX_PIXELS:
        # decoded at full size: the same memory budget as exact PDQ (docs/pdq.md); only a
        # JPEG's reduced decode stays small whatever its declared size
        raise UnhashableContent(
            f"image too large: {width}x{height} = {width * height} pixels > {PDQ_MAX_PIXELS}"
            " decoded at full size"
        )
    draft = (None, (REDUCED_MIN_SIDE, REDUCED_MIN_SIDE)) if reduced else None
    return load_checked(image, draft)


_PIXELS = "_takedown_pixels"


def pixels(image: Image.Image) -> npt.NDArray[np.uint8]:
    """The image's pixels as a read-only array (``np.asarray(image)``), made once per image
    object: the signal types that share one decode (PDQ, keypoints) share this copy too. The
    copy of a 1 MP picture costs ~0.3 ms, about a sixth of a PDQ hash.

    The image must not be changed in place afterwards (a copy or ``convert`` is a new image);
    the cache is keyed on the mode and size as a guard."""
    key = (image.mode, image.size)
    cached = getattr(image, _PIXELS, None)
    if cached is not None and cached[0] == key:
        array: npt.NDArray[np.uint8] = cached[1]
        return array
    array = np.asarray(image)
    array.flags.writeable = False
    setattr(image, _PIXELS, (key, array))
    return array
