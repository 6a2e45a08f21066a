"""Colour layout: a second, independent check of a keypoint match (issue #8).

A keypoint match says "these corners line up under this transform". Posters of one outlet share
their logo, title and background, so a few shared corners line up on a poster that is not a
copy; and a 20 % crop of a flat poster keeps too few content corners for the keypoint rule
alone. The layout settles both: the image's mean colour in a ``GRID`` x ``GRID`` grid (luma and
the two chroma channels, over the same trimmed frame as the keypoints) is compared, under the
transform the keypoints estimated, with the reference's. A copy agrees almost everywhere it
overlaps (a caption bar or a watermark costs the cells it covers); another poster of the same
outlet agrees on the header and the background but not on its content.

Comparison (:func:`agreement`): each reference cell centre is mapped into the query; cells that
fall inside the query are compared. Luma is compared after centring on the median and scaling
by the 10th-90th percentile range (at least ``CONTRAST_FLOOR`` levels: a flat image is not
stretched into noise), within ``LUMA_TOLERANCE`` of that range; chroma (unless either side is
grey) after removing each side's median (a tint), within ``CHROMA_TOLERANCE`` levels. The
agreement is the share of compared cells that agree on both.

Stored value (an attachment to a keypoint value: a bank keeps it as an entry of the
``keypoints`` type beside the keypoint value, content as the variant ``layout``):
``"kl1:"`` + base64 of a version byte, the first ``DIGEST`` bytes of the SHA-256 of the
keypoint value it belongs to, and ``GRID * GRID * 3`` bytes (Y, Cr, Cb per cell, row by row):
1,032 characters. It is a 16 x 16 colour thumbnail: like PDQ, it cannot be turned back into the
picture, but it does show its broad colours, and it travels with bank exports.
"""

from __future__ import annotations

import base64
import hashlib

import cv2
import numpy as np
import numpy.typing as npt

from takedown.robust.codec import payload_of
from takedown.robust.kernels import cell_agreement
from takedown.robust.trim import TrimBox

PREFIX = "kl1:"
VERSION = 1
GRID = 16
DIGEST = 8
LUMA_TOLERANCE = 0.25
CONTRAST_FLOOR = 24.0
CHROMA_TOLERANCE = 10.0
#: A side whose chroma never leaves 128 by more than this is grey: luma alone is compared.
GREY_CHROMA = 6.0
#: Fewer compared cells than this: the layout cannot judge (the keypoint rule alone applies).
MIN_CELLS = 16
_SIZE = 1 + DIGEST + GRID * GRID * 3

Layout = npt.NDArray[np.uint8]


class LayoutError(ValueError):
    """A serialised layout that cannot be read."""


def compute(array: npt.NDArray[np.generic], box: TrimBox) -> Layout:
    """The GRID x GRID x 3 (Y, Cr, Cb) layout of an 8-bit image inside the trim box."""
    crop = array[box.top : box.bottom, box.left : box.right]
    if crop.ndim == 2 or crop.shape[2] == 1:
        grey = np.ascontiguousarray(crop.reshape(crop.shape[0], crop.shape[1]), dtype=np.uint8)
        crop = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    small = cv2.resize(
        np.ascontiguousarray(crop[:, :, :3], dtype=np.uint8),
        (GRID, GRID),
        interpolation=cv2.INTER_AREA,
    )
    out: Layout = np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb), dtype=np.uint8)
    return out


def digest(keypoint_value: str) -> bytes:
    return hashlib.sha256(keypoint_value.strip().encode("ascii", "replace")).digest()[:DIGEST]


def pack(owner: bytes, layout: Layout) -> str:
    """The value of ``layout`` attached to the keypoint value whose digest is ``owner``."""
    payload = bytes([VERSION]) + owner + layout.astype(np.uint8).tobytes()
    return PREFIX + base64.b64encode(payload).decode("ascii")


def encode(layout: Layout, keypoint_value: str) -> str:
    return pack(digest(keypoint_value), layout)


def decode(value: str) -> tuple[bytes, Layout]:
    """(digest of the keypoint value it belongs to, layout), or :class:`LayoutError`."""
    payload = payload_of(value, PREFIX, LayoutError, "layout")
    if len(payload) != _SIZE:
        raise LayoutError(f"layout payload must be {_SIZE} bytes, got {len(payload)}")
    if payload[0] != VERSION:
        raise LayoutError(f"unknown layout version {payload[0]}")
    grid = np.frombuffer(payload, dtype=np.uint8, offset=1 + DIGEST).reshape(GRID, GRID, 3)
    return payload[1 : 1 + DIGEST], np.ascontiguousarray(grid)


#: Cell columns and rows of the grid (x, y), for mapping cell centres.
_COLS, _ROWS = np.meshgrid(np.arange(GRID), np.arange(GRID))


def agreement(
    query: Layout,
    query_size: tuple[int, int],
    reference: Layout,
    reference_size: tuple[int, int],
    model: npt.NDArray[np.float64],
) -> float | None:
    """Share of the overlapping cells that agree, with ``model`` (2 x 3, query working pixels
    onto the reference's) mapping the query onto the reference; None when too few overlap."""
    q_w, q_h = query_size
    r_w, r_h = reference_size
    linear = model[:, :2]
    if abs(float(np.linalg.det(linear))) < 1e-9:
        return None
    inverse = np.linalg.inv(linear)
    ref_x = (_COLS + 0.5) * r_w / GRID - model[0, 2]
    ref_y = (_ROWS + 0.5) * r_h / GRID - model[1, 2]
    q_x = inverse[0, 0] * ref_x + inverse[0, 1] * ref_y
    q_y = inverse[1, 0] * ref_x + inverse[1, 1] * ref_y
    u = (q_x * GRID / max(q_w, 1) - 0.5).astype(np.float32)
    v = (q_y * GRID / max(q_h, 1) - 0.5).astype(np.float32)
    inside = (u >= 0) & (u <= GRID - 1) & (v >= 0) & (v <= GRID - 1)
    if int(inside.sum()) < MIN_CELLS:
        return None
    sampled = cv2.remap(query.astype(np.float32), u, v, cv2.INTER_LINEAR)
    agree = cell_agreement(
        np.ascontiguousarray(sampled[inside], dtype=np.float32),
        np.ascontiguousarray(reference.astype(np.float32)[inside]),
        LUMA_TOLERANCE,
        CONTRAST_FLOOR,
        CHROMA_TOLERANCE,
        GREY_CHROMA,
    )
    return agree / int(inside.sum())
