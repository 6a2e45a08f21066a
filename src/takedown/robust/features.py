"""Compact keypoint signatures: ORB keypoints of a trimmed, downscaled grey image.

Extraction: margins are trimmed (``trim``), the image is scaled (area filter) so that its long
side is ``WORK_SIDE`` pixels, ORB finds up to ``DETECT`` keypoints, and ``KEEP`` of them are
kept, spread over a ``GRID`` x ``GRID`` grid (strongest first in each cell, cells in turn) so
that a crop or a caption bar never removes all of them.

Serialised value: ``"kp2:"`` + base64 of a 5-byte header (version, width and height of the
working image as big-endian uint16) and one 34-byte record per keypoint (x and y quantised to
0-255 across the working image, then the 32-byte ORB descriptor). With ``KEEP = 56`` a value
is at most 2,552 characters: small enough for the B-tree indexes on ``signal.value`` and
``bank_entry.value`` (PostgreSQL refuses index rows over 2,704 bytes).
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from takedown.robust import layout
from takedown.robust.codec import payload_of
from takedown.robust.trim import TrimBox, grey, trim

PREFIX = "kp2:"
VERSION = 2
WORK_SIDE = 320
DETECT = 700
KEEP = 56
GRID = 4
#: FAST corner threshold: higher ignores sensor and JPEG noise.
FAST_THRESHOLD = 8
LEVELS = 5
#: Images with a working side under this have too few pixels for keypoints.
MIN_SIDE = 32

_HEADER = struct.Struct(">BHH")
_RECORD = 34


class SignatureError(ValueError):
    """A serialised signature that cannot be read."""


@dataclass(frozen=True)
class Signature:
    """Keypoints (N x 2 float32, working-image pixels) and their ORB descriptors (N x 32)."""

    width: int
    height: int
    points: npt.NDArray[np.float32]
    descriptors: npt.NDArray[np.uint8]
    #: The colour layout of the same frame (``takedown.robust.layout``), where known.
    layout: npt.NDArray[np.uint8] | None = None

    def __len__(self) -> int:
        return int(self.points.shape[0])


def words(descriptors: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """N x 4 64-bit words of N x 32-byte descriptors (for popcounts)."""
    out: npt.NDArray[np.uint64] = np.ascontiguousarray(descriptors, dtype=np.uint8).view(np.uint64)
    return out.reshape(-1, 4)


def _orb() -> Any:
    return cv2.ORB_create(  # type: ignore[attr-defined]
        nfeatures=DETECT,
        scaleFactor=1.2,
        nlevels=LEVELS,
        edgeThreshold=19,
        patchSize=31,
        fastThreshold=FAST_THRESHOLD,
    )


def _spread(
    points: npt.NDArray[np.float32],
    response: npt.NDArray[np.float32],
    width: int,
    height: int,
    keep: int,
) -> npt.NDArray[np.intp]:
    """Indexes of up to ``keep`` keypoints (``points`` N x 2, ``response`` N), taken in turn
    from a GRID x GRID grid of cells.

    Round ``r`` takes the ``r``-th strongest keypoint of every cell that has one, cells in the
    order of their strongest keypoint; rounds go on until ``keep`` are taken.
    """
    if not response.size:
        return np.zeros(0, dtype=np.intp)
    col = np.minimum(GRID - 1, (points[:, 0] * GRID / width).astype(np.int64))
    row = np.minimum(GRID - 1, (points[:, 1] * GRID / height).astype(np.int64))
    order = np.argsort(-response, kind="stable")
    cell = (row * GRID + col)[order]
    # Rank of each keypoint within its cell (0 = strongest) and each cell's priority.
    by_cell = np.argsort(cell, kind="stable")
    sorted_cells = cell[by_cell]
    starts = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.empty_like(cell)
    rank[by_cell] = np.arange(cell.size) - starts
    first_seen = np.full(GRID * GRID, cell.size, dtype=np.int64)
    np.minimum.at(first_seen, cell, np.arange(cell.size))
    chosen: npt.NDArray[np.intp] = order[np.lexsort((first_seen[cell], rank))[:keep]]
    return chosen


def prepare(array: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.uint8], TrimBox]:
    """The trimmed grey working image (long side ``WORK_SIDE`` at most) and the trim box."""
    if array.ndim == 3 and array.shape[2] >= 3 and array.dtype == np.uint8:
        # grey first: the margins are found on a third of the data (same luma weights)
        whole = cv2.cvtColor(np.ascontiguousarray(array[:, :, :3]), cv2.COLOR_RGB2GRAY)
    else:
        whole = np.clip(grey(array) + 0.5, 0, 255).astype(np.uint8)
    kept, box = trim(whole)
    g = np.ascontiguousarray(kept, dtype=np.uint8)
    height, width = g.shape
    # Every image is brought to the same working size (down or up), so that a copy at another
    # resolution shows its features at the same scale as the original.
    scale = WORK_SIDE / max(height, width)
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        method = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        return np.ascontiguousarray(cv2.resize(g, size, interpolation=method), dtype=np.uint8), box
    return g, box


def extract(
    array: npt.NDArray[np.generic], keep: int = KEEP, *, with_layout: bool = False
) -> tuple[Signature, TrimBox]:
    """The signature of an 8-bit image array (HxW or HxWxC); possibly with no keypoints.
    ``with_layout`` adds the colour layout of the same trimmed frame."""
    work, box = prepare(array)
    height, width = work.shape
    shown = layout.compute(array, box) if with_layout and array.dtype == np.uint8 else None
    if min(height, width) < MIN_SIDE:
        return Signature(
            width, height, np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), shown
        ), box
    # Detect more than we keep, then keep a spread few: text and logos have the strongest
    # corners and would otherwise take every keypoint.
    keypoints, descriptors = _orb().detectAndCompute(work, None)
    if descriptors is None or not keypoints:
        return Signature(
            width, height, np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), shown
        ), box
    every = cv2.KeyPoint_convert(keypoints).reshape(-1, 2)  # type: ignore[attr-defined]
    response = np.array([k.response for k in keypoints], dtype=np.float32)
    chosen = _spread(every, response, width, height, keep)
    points = np.ascontiguousarray(every[chosen], dtype=np.float32)
    descs = np.ascontiguousarray(descriptors[chosen])
    return Signature(width, height, points, descs, shown), box


def encode(sig: Signature) -> str:
    header = _HEADER.pack(VERSION, sig.width, sig.height)
    n = len(sig)
    qx = np.clip(np.rint(sig.points[:, 0] * 255.0 / max(sig.width - 1, 1)), 0, 255)
    qy = np.clip(np.rint(sig.points[:, 1] * 255.0 / max(sig.height - 1, 1)), 0, 255)
    records = np.zeros((n, _RECORD), dtype=np.uint8)
    records[:, 0] = qx.astype(np.uint8)
    records[:, 1] = qy.astype(np.uint8)
    records[:, 2:] = sig.descriptors
    return PREFIX + base64.b64encode(header + records.tobytes()).decode("ascii")


def decode(value: str) -> Signature:
    """The signature of a serialised value, or :class:`SignatureError`."""
    payload = payload_of(value, PREFIX, SignatureError, "keypoint")
    if len(payload) < _HEADER.size or (len(payload) - _HEADER.size) % _RECORD:
        raise SignatureError("keypoint payload has the wrong length")
    version, width, height = _HEADER.unpack_from(payload)
    if version != VERSION:
        raise SignatureError(f"unknown keypoint signature version {version}")
    if not (MIN_SIDE <= width <= WORK_SIDE and MIN_SIDE <= height <= WORK_SIDE) and not (
        width == height == 0
    ):
        raise SignatureError(f"implausible working size {width}x{height}")
    records = np.frombuffer(payload, dtype=np.uint8, offset=_HEADER.size).reshape(-1, _RECORD)
    if records.shape[0] > KEEP:
        raise SignatureError(f"more than {KEEP} keypoints")
    points = np.empty((records.shape[0], 2), dtype=np.float32)
    points[:, 0] = records[:, 0].astype(np.float32) * max(width - 1, 1) / 255.0
    points[:, 1] = records[:, 1].astype(np.float32) * max(height - 1, 1) / 255.0
    return Signature(width, height, points, np.ascontiguousarray(records[:, 2:]))
