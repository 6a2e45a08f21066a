"""Geometric verification on hand-made signatures: guided matching, places counted once, and
the spread of the inliers on both sides."""

from __future__ import annotations

import numpy as np
import pytest

from takedown.robust import verify as verify_module
from takedown.robust.features import Signature
from takedown.robust.verify import (
    DENSE_INLIERS,
    MIN_DENSE_EXTENT,
    MIN_EXTENT,
    Evidence,
    verify,
)


def descriptors(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 32), dtype=np.uint8)


def moved(
    points: np.ndarray, scale: float = 0.8, shift: tuple[float, float] = (20, 10)
) -> np.ndarray:
    """Where a crop (an enlargement about the origin, then a shift) puts reference points."""
    return ((points - np.array(shift)) / scale).astype(np.float32)


def scattered(count: int, seed: int, width: int = 320, height: int = 240) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(40, width - 40, count), rng.uniform(40, height - 40, count)]
    ).astype(np.float32)


def test_look_alike_keypoints_are_paired_by_where_the_transform_puts_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 8 distinct corners, and 18 corners that look alike in threes of six (the corners of
    # flat shapes): mutual nearest neighbours pair only one of each look-alike group.
    unique = descriptors(8, 1)
    alike = np.repeat(descriptors(3, 2), 6, axis=0)
    ref_points = scattered(26, 3)
    reference = Signature(320, 240, ref_points, np.concatenate([unique, alike]))
    query = Signature(320, 240, moved(ref_points), reference.descriptors.copy())
    guided = verify(query, reference)
    monkeypatch.setattr(verify_module, "GUIDE_FROM", 10**6)
    mutual_only = verify(query, reference)
    assert mutual_only.inliers <= 11 < guided.inliers
    assert guided.inliers >= 24 and guided.matched
    assert guided.scale == pytest.approx(0.8, abs=0.02)


def test_a_corner_found_at_several_pyramid_levels_counts_once() -> None:
    points = scattered(12, 4)
    desc = descriptors(12, 5)
    # every keypoint three times, a pixel apart, with slightly different descriptors
    many_points = np.concatenate([points, points + 0.7, points - 0.7])
    many_desc = np.concatenate([desc, desc ^ 1, desc ^ 2])
    reference = Signature(320, 240, many_points, many_desc)
    query = Signature(320, 240, moved(many_points, 1.0, (0, 0)), many_desc.copy())
    evidence = verify(query, reference)
    assert evidence.inliers == 12


def test_inliers_along_one_line_of_the_query_are_not_a_copy() -> None:
    # A title in the same font matched to another title: many inliers, all on one line.
    xs = np.linspace(30, 290, 30, dtype=np.float32)
    line = np.column_stack([xs, np.full(30, 40, dtype=np.float32)])
    desc = descriptors(30, 6)
    evidence = verify(
        Signature(320, 240, line, desc), Signature(320, 240, line.copy(), desc.copy())
    )
    assert evidence.inliers >= DENSE_INLIERS
    assert evidence.extent < MIN_DENSE_EXTENT < MIN_EXTENT
    assert not evidence.matched


def test_many_well_agreeing_inliers_on_one_object_are_a_copy() -> None:
    def evidence(inliers: int, ratio: float, extent: float) -> Evidence:
        return Evidence(
            round(inliers / ratio), inliers, 168, 56, 1.0, 0.0, 0.0, 0.0, ratio, 0.05, 0, extent
        )

    assert evidence(DENSE_INLIERS, 0.9, 0.12).matched  # a clock on a plain wall
    assert not evidence(DENSE_INLIERS - 1, 0.9, 0.12).matched
    assert not evidence(DENSE_INLIERS, 0.5, 0.12).matched
    assert not evidence(DENSE_INLIERS, 0.9, MIN_DENSE_EXTENT / 2).matched
