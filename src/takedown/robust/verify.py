"""Geometric verification of two keypoint signatures: the evidence behind a keypoint match.

Descriptors are paired by mutual nearest neighbour in Hamming distance (at most
``MAX_DESCRIPTOR_BITS`` apart); a similarity transform (rotation, uniform scale, translation) is
fitted to the pairs with RANSAC (``cv2.estimateAffinePartial2D``). The *keypoint rule*: at
least ``MIN_INLIERS`` pairs agree with the transform within ``REPROJECTION`` working-image
pixels, the transform is plausible (scale between ``1 / MAX_SCALE`` and ``MAX_SCALE``), the
inliers spread over ``MIN_EXTENT`` of the reference's width and height, and a match with fewer
than ``STRONG_INLIERS`` inliers also covers ``MIN_COVERAGE`` of the reference's area.

Where both sides carry a colour layout (``takedown.robust.layout``), it is compared under the
transform and decides with the keypoints: a match is the keypoint rule with a layout agreement
of at least ``LAYOUT_STRICT``, or a weaker keypoint agreement (``LOOSE_MIN_INLIERS`` inliers
spread over ``LOOSE_MIN_EXTENT``) with a layout agreement of at least ``LAYOUT_LOOSE``. Without
layouts (values from before the layout, video keyframes) the keypoint rule alone decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from takedown.robust import layout
from takedown.robust.features import Signature, words
from takedown.robust.kernels import distances, distinct_places, mutual_nearest

MAX_DESCRIPTOR_BITS = 64
MIN_PAIRS = 6
MIN_INLIERS = 8
REPROJECTION = 5.0
MAX_SCALE = 4.0
RANSAC_ITERS = 200
#: A query keypoint that is an inlier for this many candidates is a shared element.
SHARED_IN = 3
MIN_EXTENT = 0.2
#: A match with fewer inliers than this must also cover ``MIN_COVERAGE`` of the reference
#: (area of the inliers' convex hull): a few inliers on a small patch (a logo and a title
#: shared by posters of one outlet, a line of text) are not a copy.
STRONG_INLIERS = 12
MIN_COVERAGE = 0.14
#: So many inliers, agreeing this well (inliers / pairs), are a copy even when they sit in a
#: small part of the picture (one object on a plain background); they must still spread over
#: ``MIN_DENSE_EXTENT`` of the reference's width and height.
DENSE_INLIERS = 24
DENSE_RATIO = 0.6
MIN_DENSE_EXTENT = 0.1
#: Inliers closer than this (working-image pixels, on either side) count once.
SAME_PLACE = 2.5
#: Guided matching (see ``verify``) runs when RANSAC on mutual nearest neighbours found at
#: least this many inliers but fewer than ``STRONG_INLIERS``; it pairs keypoints that the
#: transform puts within ``GUIDE_RADIUS`` working-image pixels of each other.
GUIDE_FROM = 7
GUIDE_RADIUS = 4.0
#: Descriptor distance allowed for a guided pair (stricter than mutual nearest neighbours').
GUIDE_BITS = 48

#: With colour layouts on both sides (see the module doc): the keypoint rule needs this much
#: layout agreement, and a weaker keypoint agreement needs ``LAYOUT_LOOSE``.
LAYOUT_STRICT = 0.6
LAYOUT_LOOSE = 0.8
LOOSE_MIN_INLIERS = 6
LOOSE_MIN_EXTENT = 0.1

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
    #: Spread of the inliers (10th to 90th percentile of x and of y, as shares of the sides),
    #: the smallest of the four (x and y, on the query and on the reference): a template's
    #: title line or logo is thin or small.
    extent: float = 0.0
    #: Share of the overlapping layout cells that agree under the transform (see
    #: ``takedown.robust.layout``); None where either side has no layout or too little overlaps.
    layout: float | None = None

    @property
    def matched(self) -> bool:
        if self.layout is None:
            return self.keypoint_rule
        if self.keypoint_rule and self.layout >= LAYOUT_STRICT:
            return True
        return (
            self.inliers >= LOOSE_MIN_INLIERS
            and 1.0 / MAX_SCALE <= self.scale <= MAX_SCALE
            and self.extent >= LOOSE_MIN_EXTENT
            and self.layout >= LAYOUT_LOOSE
        )

    @property
    def keypoint_rule(self) -> bool:
        """The keypoints alone make a match (see the module doc)."""
        if self.inliers < MIN_INLIERS or not 1.0 / MAX_SCALE <= self.scale <= MAX_SCALE:
            return False
        spread = self.extent >= MIN_EXTENT and (
            self.inliers >= STRONG_INLIERS or self.coverage >= MIN_COVERAGE
        )
        dense = (
            self.inliers >= DENSE_INLIERS
            and self.inlier_ratio >= DENSE_RATIO
            and self.extent >= MIN_DENSE_EXTENT
        )
        return spread or dense

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("scale", "rotation_deg", "tx", "ty", "inlier_ratio", "coverage", "extent"):
            out[key] = round(float(out[key]), 4)
        if self.layout is not None:
            out["layout"] = round(self.layout, 4)
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
    fitted = _fit(query.points[qi], reference.points[ri])
    if fitted is None:
        return none
    model, inlying = fitted
    if GUIDE_FROM <= int(inlying.sum()) < STRONG_INLIERS:
        # Guided matching: mutual nearest neighbours miss the right partner where several
        # keypoints look alike (the corners of flat shapes); with the transform roughly known,
        # pair every query keypoint with the most similar reference keypoint where the
        # transform puts it, and fit again.
        guided = _guided_pairs(query, reference, model, ignore)
        if guided is not None and guided[0].size > int(inlying.sum()):
            refit = _fit(query.points[guided[0]], reference.points[guided[1]])
            if refit is not None and int(refit[1].sum()) > int(inlying.sum()):
                qi, ri = guided
                model, inlying = refit
                pairs = int(qi.size)
    # ORB finds one corner at several pyramid levels: an inlier counts once per place.
    inlying &= _distinct(query.points[qi], reference.points[ri], inlying)
    inliers = int(inlying.sum())
    a, b = float(model[0, 0]), float(model[1, 0])
    scale = math.hypot(a, b)
    if not math.isfinite(scale) or scale <= 0:
        return none
    rotation = math.degrees(math.atan2(b, a))
    if inlier_rows is not None:
        inlier_rows.append(qi[inlying])
    coverage = extent = 0.0
    shown = None
    if inliers >= min(MIN_INLIERS, LOOSE_MIN_INLIERS):  # only matters (and is shown) for a match
        kept = reference.points[ri][inlying]
        hull = cv2.convexHull(kept.reshape(-1, 1, 2).astype(np.float32))
        area = float(reference.width * reference.height)
        coverage = float(cv2.contourArea(hull)) / max(1.0, area)
        # On both sides: text lines matched to other text in the same font line up along one
        # axis of the query even where the reference's partners scatter.
        extent = min(_extent(kept, reference), _extent(query.points[qi][inlying], query))
        if query.layout is not None and reference.layout is not None:
            shown = layout.agreement(
                query.layout,
                (query.width, query.height),
                reference.layout,
                (reference.width, reference.height),
                model,
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
        shown,
    )


def _distinct(
    src: npt.NDArray[np.float32], dst: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """``mask`` without pairs whose query or reference keypoint lies within ``SAME_PLACE``
    pixels of an earlier kept pair's."""
    keep = np.zeros(mask.shape[0], dtype=np.bool_)
    rows = np.flatnonzero(mask)
    if rows.size:
        taken = distinct_places(
            np.ascontiguousarray(src, dtype=np.float32),
            np.ascontiguousarray(dst, dtype=np.float32),
            rows.astype(np.int64),
            SAME_PLACE**2,
        )
        keep[rows[taken]] = True
    return keep


def _extent(points: npt.NDArray[np.float32], sig: Signature) -> float:
    """The smaller of the inliers' spreads along x and y (10th to 90th percentile, robust to
    strays) as shares of the image's sides."""
    n = points.shape[0]
    ordered = np.sort(points, axis=0)
    low, high = ordered[int(0.1 * (n - 1))], ordered[math.ceil(0.9 * (n - 1))]
    return min(
        float(high[0] - low[0]) / max(sig.width, 1), float(high[1] - low[1]) / max(sig.height, 1)
    )


def _fit(
    src: npt.NDArray[np.float32], dst: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]] | None:
    """RANSAC similarity transform from ``src`` onto ``dst`` and its inlier mask, or None."""
    if src.shape[0] < 2:
        return None
    cv2.setRNGSeed(12345)  # deterministic RANSAC: the same pair always gives the same verdict
    model, mask = cv2.estimateAffinePartial2D(
        src.reshape(-1, 1, 2),
        dst.reshape(-1, 1, 2),
        method=cv2.RANSAC,
        ransacReprojThreshold=REPROJECTION,
        maxIters=RANSAC_ITERS,
        confidence=0.995,
        refineIters=10,
    )
    if model is None or mask is None:
        return None
    return np.asarray(model, dtype=np.float64), mask.ravel().astype(np.bool_)


def _guided_pairs(
    query: Signature,
    reference: Signature,
    model: npt.NDArray[np.float64],
    ignore: npt.NDArray[np.bool_] | None,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]] | None:
    """One-to-one pairs of keypoints that ``model`` puts within ``GUIDE_RADIUS`` of each other
    and whose descriptors are at most ``GUIDE_BITS`` apart (the closest first)."""
    projected = query.points @ model[:, :2].T.astype(np.float32) + model[:, 2].astype(np.float32)
    offsets = projected[:, None, :] - reference.points[None, :, :]
    near = (offsets**2).sum(axis=2) <= GUIDE_RADIUS**2
    bits = distances(words(query.descriptors), words(reference.descriptors))
    allowed = near & (bits <= GUIDE_BITS)
    if ignore is not None:
        allowed &= ~ignore[:, None]
    q_rows, r_rows = np.nonzero(allowed)
    if q_rows.size == 0:
        return None
    order = np.argsort(bits[q_rows, r_rows], kind="stable")
    used_q = np.zeros(len(query), dtype=bool)
    used_r = np.zeros(len(reference), dtype=bool)
    out_q, out_r = [], []
    for k in order:  # greedy, closest descriptors first: at most a few hundred candidates
        q, r = int(q_rows[k]), int(r_rows[k])
        if not used_q[q] and not used_r[r]:
            used_q[q] = used_r[r] = True
            out_q.append(q)
            out_r.append(r)
    return np.array(out_q, dtype=np.intp), np.array(out_r, dtype=np.intp)


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
