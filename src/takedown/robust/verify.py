"""Geometric verification of two keypoint signatures: the evidence behind a keypoint match.

Descriptors are paired by mutual nearest neighbour in Hamming distance (at most
``MAX_DESCRIPTOR_BITS`` apart); a similarity transform (rotation, uniform scale, translation) is
fitted to the pairs with RANSAC (``cv2.estimateAffinePartial2D``). The pair is a match when at
least ``MIN_INLIERS`` pairs agree with the transform within ``REPROJECTION`` working-image
pixels, the transform is plausible (scale between ``1 / MAX_SCALE`` and ``MAX_SCALE``), the
inliers spread over ``MIN_EXTENT`` of the reference's width and height, and a match with fewer
than ``STRONG_INLIERS`` inliers also covers ``MIN_COVERAGE`` of the reference's area.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from takedown.robust.features import Signature, words
from takedown.robust.kernels import mutual_nearest

MAX_DESCRIPTOR_BITS = 64
MIN_PAIRS = 6
MIN_INLIERS = 10
REPROJECTION = 5.0
MAX_SCALE = 4.0
RANSAC_ITERS = 200
#: A query keypoint that is an inlier for this many candidates is a shared element.
SHARED_IN = 3
MIN_EXTENT = 0.2
#: A match with fewer inliers than this must also cover ``MIN_COVERAGE`` of the reference
#: (area of the inliers' convex hull): a few inliers on a small patch (a logo and a title
#: shared by posters of one outlet, a line of text) are not a copy.
STRONG_INLIERS = 14
MIN_COVERAGE = 0.14

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass(frozen=True)
class Evidence:
    """Why two images match: matched pairs, RANSAC inliers and the estimated transform.

    The transform maps the query's working image onto the reference's (``scale``,
    ``rotation_deg`` counter-clockwise, translation ``tx``/``ty`` as shares of the reference's
    width and height).
    """

    pairs: int
    inliers: int
    query_keypoints: int
    reference_keypoints: int
    scale: float
    rotation_deg: float
    tx: float
    ty: float
    inlier_ratio: float
    #: Share of the reference image inside the convex hull of the inliers (for reviewers).
    coverage: float = 0.0
    #: Query keypoints left out because they also verify against other candidates: elements
    #: shared by many bank entries (an outlet's logo, a caption template), not the content.
    shared_ignored: int = 0
    #: Spread of the inliers on the reference (10th to 90th percentile of x and of y, as shares
    #: of its sides), whichever is smaller: a template's title line or logo is thin or small.
    extent: float = 0.0

    @property
    def matched(self) -> bool:
        return (
            self.inliers >= MIN_INLIERS
            and 1.0 / MAX_SCALE <= self.scale <= MAX_SCALE
            and self.extent >= MIN_EXTENT
            and (self.inliers >= STRONG_INLIERS or self.coverage >= MIN_COVERAGE)
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("scale", "rotation_deg", "tx", "ty", "inlier_ratio", "coverage", "extent"):
            out[key] = round(float(out[key]), 4)
        return out


def hamming_table(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> npt.NDArray[np.int32]:
    """All pairwise Hamming distances between rows of two N x 32 descriptor matrices."""
    xor = np.bitwise_xor(a[:, None, :], b[None, :, :])
    out: npt.NDArray[np.int32] = _POPCOUNT[xor].sum(axis=2, dtype=np.int32)
    return out


def mutual_pairs(
    query: Signature, reference: Signature
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Mutual nearest-neighbour descriptor pairs at most ``MAX_DESCRIPTOR_BITS`` apart."""
    if len(query) == 0 or len(reference) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    qi, ri = mutual_nearest(
        words(query.descriptors), words(reference.descriptors), MAX_DESCRIPTOR_BITS
    )
    return qi.astype(np.intp), ri.astype(np.intp)


def verify(
    query: Signature,
    reference: Signature,
    ignore: npt.NDArray[np.bool_] | None = None,
    inlier_rows: list[npt.NDArray[np.intp]] | None = None,
) -> Evidence:
    """The evidence for ``query`` being a copy of ``reference`` (check ``.matched``).

    ``ignore`` masks query keypoints out (shared elements); ``inlier_rows``, when given,
    receives the query rows of the inliers.
    """
    qi, ri = mutual_pairs(query, reference)
    shared = 0
    if ignore is not None and qi.size:
        keep = ~ignore[qi]
        shared = int(qi.size - keep.sum())
        qi, ri = qi[keep], ri[keep]
    pairs = int(qi.size)
    none = Evidence(pairs, 0, len(query), len(reference), 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, shared)
    if pairs < MIN_PAIRS:
        return none
    src = query.points[qi].reshape(-1, 1, 2)
    dst = reference.points[ri].reshape(-1, 1, 2)
    cv2.setRNGSeed(12345)  # deterministic RANSAC: the same pair always gives the same verdict
    model, mask = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=REPROJECTION,
        maxIters=RANSAC_ITERS,
        confidence=0.995,
        refineIters=10,
    )
    if model is None or mask is None:
        return none
    inliers = int(mask.sum())
    a, b = float(model[0, 0]), float(model[1, 0])
    scale = math.hypot(a, b)
    if not math.isfinite(scale) or scale <= 0:
        return none
    rotation = math.degrees(math.atan2(b, a))
    inlying = mask.ravel().astype(bool)
    if inlier_rows is not None:
        inlier_rows.append(qi[inlying])
    coverage = extent = 0.0
    if inliers >= MIN_INLIERS:  # the spread only matters (and is only shown) for a match
        kept = reference.points[ri][inlying]
        hull = cv2.convexHull(kept.reshape(-1, 1, 2).astype(np.float32))
        area = float(reference.width * reference.height)
        coverage = float(cv2.contourArea(hull)) / max(1.0, area)
        ordered = np.sort(kept, axis=0)  # 10th to 90th percentile: robust to strays
        low, high = ordered[int(0.1 * (inliers - 1))], ordered[math.ceil(0.9 * (inliers - 1))]
        extent = min(
            float(high[0] - low[0]) / max(reference.width, 1),
            float(high[1] - low[1]) / max(reference.height, 1),
        )
    return Evidence(
        pairs,
        inliers,
        len(query),
        len(reference),
        scale,
        rotation,
        float(model[0, 2]) / max(reference.width, 1),
        float(model[1, 2]) / max(reference.height, 1),
        inliers / pairs,
        coverage,
        shared,
        extent,
    )


def verify_candidates(
    query: Signature,
    references: Sequence[tuple[int, Signature]],
    common: npt.NDArray[np.bool_] | None = None,
) -> dict[int, Evidence]:
    """Evidence per candidate, with elements shared by several candidates left out.

    A query keypoint that is an inlier against ``SHARED_IN`` or more candidates (the same logo,
    title or caption template on many bank entries) is ignored and the candidates that
    matched are verified again without it, so that a match rests on the content. ``common``
    marks query keypoints the index found in many stored images; they are ignored from the
    start.
    """
    first: dict[int, Evidence] = {}
    rows: dict[int, npt.NDArray[np.intp]] = {}
    for target, reference in references:
        found: list[npt.NDArray[np.intp]] = []
        first[target] = verify(query, reference, ignore=common, inlier_rows=found)
        if found and first[target].inliers >= MIN_PAIRS:  # matched or not: a template counts
            rows[target] = found[0]
    if len(rows) < SHARED_IN:
        return first
    counts = np.zeros(len(query), dtype=np.int32)
    for r in rows.values():
        counts[r] += 1
    shared = counts >= SHARED_IN
    if common is not None:
        shared |= common
    if not (counts >= SHARED_IN).any():
        return first
    refs = dict(references)
    return {
        target: verify(query, refs[target], ignore=shared) if evidence.matched else evidence
        for target, evidence in first.items()
    }
