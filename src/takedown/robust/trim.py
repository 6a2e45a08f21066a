"""Border and letterbox trimming: find uniform (or near-uniform, noisy) margins and cut them.

A margin is a run of rows (or columns) from an edge whose pixels are almost all within
``tolerance`` grey levels of the edge's colour (the median of the outermost row or column),
which tolerates JPEG noise and anti-aliased edges. The search stops at the first row that is not
part of the margin; at most ``MAX_SHARE`` of a side is ever trimmed, and runs shorter than
``MIN_MARGIN`` pixels are ignored, so an image without margins comes back unchanged (``box`` is
the whole image and ``trimmed`` is false).

Pure numpy: no decoding here (callers decode with the safe ``open_image``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Grey levels a margin pixel may differ from the margin colour (JPEG noise, dithering).
TOLERANCE = 16
#: Share of a row's pixels that must be within the tolerance.
ROW_SHARE = 0.98
#: Mean absolute deviation allowed over a margin row.
MEAN_DEVIATION = 5.0
#: Margins thinner than this (pixels) are not trimmed.
MIN_MARGIN = 3
#: Never trim more than this share of a side's length from one edge.
MAX_SHARE = 0.4
#: A kept region flatter than this (grey-level standard deviation) means a flat image.
FLAT_STD = 4.0


@dataclass(frozen=True)
class TrimBox:
    """The kept region: rows ``top:bottom`` and columns ``left:right`` of the input."""

    top: int
    bottom: int
    left: int
    right: int
    height: int
    width: int

    @property
    def trimmed(self) -> bool:
        return (self.top, self.left, self.bottom, self.right) != (0, 0, self.height, self.width)

    def margins(self) -> dict[str, int]:
        return {
            "top": self.top,
            "bottom": self.height - self.bottom,
            "left": self.left,
            "right": self.width - self.right,
        }


def grey(array: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    """Float32 grey of an HxW or HxWxC (C >= 3; alpha ignored) 8-bit array."""
    data = np.asarray(array)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim == 2:
        return data.astype(np.float32)
    if data.ndim == 3 and data.shape[2] >= 3:
        rgb = data[:, :, :3].astype(np.float32)
        out: npt.NDArray[np.float32] = (
            0.299 * rgb[:, :, 0] + 0.587 * rgb[:, :, 1] + 0.114 * rgb[:, :, 2]
        )
        return out
    raise ValueError(f"need an HxW or HxWxC array, got shape {data.shape}")


def _run(lines: npt.NDArray[np.generic], limit: int) -> int:
    """How many of ``lines`` (first = outermost; raw pixels, any layout ``grey`` reads) belong
    to the margin, at most ``limit``. Lines are converted to grey in growing chunks and the
    scan stops at the first line that is not margin: an image with a flat background but no
    margin costs a few lines, not the whole image."""
    if limit <= 0 or lines.shape[0] == 0:
        return 0
    colour = float(np.median(grey(lines[:1])[0]))
    start, step = 0, 8
    run = limit
    while start < limit:
        stop = min(limit, start + step)
        deviation = np.abs(grey(lines[start:stop]) - colour)
        close = (deviation <= TOLERANCE).mean(axis=1) >= ROW_SHARE
        calm = deviation.mean(axis=1) <= MEAN_DEVIATION
        bad = np.flatnonzero(~(close & calm))
        if bad.size:
            run = start + int(bad[0])
            break
        start, step = stop, step * 2
    return run if run >= MIN_MARGIN else 0


def _edge_is_flat(line: npt.NDArray[np.float32]) -> bool:
    deviation = np.abs(line - float(np.median(line)))
    return bool((deviation <= TOLERANCE).mean() >= ROW_SHARE and deviation.mean() <= MEAN_DEVIATION)


def _columns(data: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """The array with columns as its first axis (a view)."""
    return data.transpose(1, 0, *range(2, data.ndim))


def find_margins(array: npt.NDArray[np.generic]) -> TrimBox:
    """The region left after cutting uniform margins from each edge (see module docstring)."""
    data = np.asarray(array)
    height, width = data.shape[:2]
    untouched = TrimBox(0, height, 0, width, height, width)
    if height < 2 * MIN_MARGIN + 8 or width < 2 * MIN_MARGIN + 8:
        return untouched
    # Fast path: most images have no flat edge line at all; look at the four edges only.
    edges = (data[:1], data[-1:], _columns(data[:, :1]), _columns(data[:, -1:]))
    if not any(_edge_is_flat(grey(edge)[0]) for edge in edges):
        return untouched
    top = _run(data, int(height * MAX_SHARE))
    bottom = _run(data[::-1], int(height * MAX_SHARE))
    inner = _columns(data[top : height - bottom])
    left = _run(inner, int(width * MAX_SHARE))
    right = _run(inner[::-1], int(width * MAX_SHARE))
    # A second pass over rows within the kept columns: a letterboxed image inside a pillar box.
    if left or right:
        cols = data[:, left : width - right]
        top = max(top, _run(cols, int(height * MAX_SHARE)))
        bottom = max(bottom, _run(cols[::-1], int(height * MAX_SHARE)))
    box = TrimBox(top, height - bottom, left, width - right, height, width)
    if box.trimmed:
        kept = data[box.top : box.bottom, box.left : box.right]
        step = max(1, min(kept.shape[:2]) // 128)  # a flat image: nothing to cut
        if float(grey(kept[::step, ::step]).std()) < FLAT_STD:
            return untouched
    return box


def trim(array: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], TrimBox]:
    """(the array without its margins, the box kept); the input itself when nothing is cut."""
    box = find_margins(array)
    if not box.trimmed:
        return array, box
    return np.ascontiguousarray(array[box.top : box.bottom, box.left : box.right]), box


def common_box(boxes: list[TrimBox]) -> TrimBox | None:
    """The margins shared by every frame of a video (the smallest cut on each side)."""
    if not boxes:
        return None
    first = boxes[0]
    if any((b.height, b.width) != (first.height, first.width) for b in boxes):
        return None
    return TrimBox(
        min(b.top for b in boxes),
        max(b.bottom for b in boxes),
        min(b.left for b in boxes),
        max(b.right for b in boxes),
        first.height,
        first.width,
    )
