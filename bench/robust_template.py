"""An experiment of issue #8 (tried and dropped; docs/robustness.md): a position-aware
"template" filter for banked keypoints.

A banked keypoint is a *template* keypoint when at least ``min_others`` other bank entries
have a descriptor within ``bits`` of it at the same place (normalised coordinates within
``radius`` of the image's width and height): an outlet's logo and title on every one of its
posters. The filter drops template keypoints from every bank signature before the index is
built, so a match has to rest on the rest of the picture.

    .venv/bin/python bench/robustness.py --template-filter [--bank-chunks 2] ...

Descriptors are bucketed by a ``grid`` x ``grid`` grid of normalised positions; each one is
compared with the descriptors of its cell and the 8 around it (a compiled loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from takedown.robust.features import Signature, words
from takedown.robust.index import KeypointIndex


@dataclass(frozen=True)
class TemplateFilter:
    grid: int = 24
    bits: int = 40
    min_others: int = 4
    radius: float = 0.03


@numba.njit(cache=True)  # type: ignore[misc]
def _shared_counts(  # pragma: no cover - compiled
    order: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    xs: npt.NDArray[np.float32],
    ys: npt.NDArray[np.float32],
    w: npt.NDArray[np.uint64],
    owner: npt.NDArray[np.int64],
    grid: int,
    bits: int,
    radius: float,
) -> npt.NDArray[np.int32]:
    n = xs.shape[0]
    out = np.zeros(n, np.int32)
    for i in range(n):
        cx = min(grid - 1, int(xs[i] * grid))
        cy = min(grid - 1, int(ys[i] * grid))
        for dy in range(-1, 2):
            for dx in range(-1, 2):
                x, y = cx + dx, cy + dy
                if x < 0 or y < 0 or x >= grid or y >= grid:
                    continue
                c = y * grid + x
                for k in range(starts[c], starts[c + 1]):
                    j = order[k]
                    if owner[j] == owner[i]:
                        continue
                    if abs(xs[j] - xs[i]) > radius or abs(ys[j] - ys[i]) > radius:
                        continue
                    d = 0
                    for q in range(4):
                        v = w[i, q] ^ w[j, q]
                        v = v - ((v >> 1) & 0x5555555555555555)
                        v = (v & 0x3333333333333333) + ((v >> 2) & 0x3333333333333333)
                        v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0F
                        d += (v * 0x0101010101010101) >> 56
                    if d <= bits:
                        out[i] += 1
    return out


def without_templates(
    signatures: dict[int, Signature], settings: TemplateFilter = TemplateFilter()
) -> tuple[dict[int, Signature], int, int]:
    """The signatures without their template keypoints, the number dropped and the total."""
    if not signatures:
        return {}, 0, 0
    owner = np.concatenate([np.full(len(s), o, np.int64) for o, s in signatures.items()])
    xs = np.concatenate([s.points[:, 0] / max(s.width, 1) for s in signatures.values()])
    ys = np.concatenate([s.points[:, 1] / max(s.height, 1) for s in signatures.values()])
    w = np.ascontiguousarray(np.concatenate([words(s.descriptors) for s in signatures.values()]))
    g = settings.grid
    cell = np.minimum(g - 1, (ys * g).astype(np.int64)) * g + np.minimum(
        g - 1, (xs * g).astype(np.int64)
    )
    order = np.argsort(cell, kind="stable").astype(np.int64)
    starts = np.searchsorted(cell[order], np.arange(g * g + 1)).astype(np.int64)
    counts = _shared_counts(
        order,
        starts,
        xs.astype(np.float32),
        ys.astype(np.float32),
        w,
        owner,
        g,
        settings.bits,
        np.float32(settings.radius),
    )
    out: dict[int, Signature] = {}
    pos = dropped = 0
    for o, s in signatures.items():
        keep = counts[pos : pos + len(s)] < settings.min_others
        pos += len(s)
        dropped += int((~keep).sum())
        out[o] = Signature(
            s.width,
            s.height,
            np.ascontiguousarray(s.points[keep]),
            np.ascontiguousarray(s.descriptors[keep]),
        )
    return out, dropped, int(owner.size)


def filtered_index(index: KeypointIndex) -> tuple[KeypointIndex, int, int]:
    """A new index of ``index``'s signatures without their template keypoints."""
    kept, dropped, total = without_templates(index.signatures)
    out = KeypointIndex()
    out.add_many(list(kept.items()))
    return out, dropped, total
