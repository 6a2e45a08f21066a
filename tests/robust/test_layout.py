"""The colour layout: a second check of keypoint matches (issue #8, ``takedown.robust.layout``)."""

from __future__ import annotations

import io
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from takedown.demo.media import outlets, poster
from takedown.robust import edits, layout
from takedown.robust.features import Signature
from takedown.robust.kernels import cell_agreement
from takedown.robust.signal import KeypointSignal, join
from takedown.robust.verify import LAYOUT_LOOSE, LAYOUT_STRICT, verify
from takedown.signals.imageio import open_image

SIGNAL = KeypointSignal()
SHOP = outlets(random.Random(7), ("en",))[0]


def values(image: Image.Image) -> list[str]:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    buffer.seek(0)
    return [v.value for v in SIGNAL.hash_image(open_image(buffer))]


def banked(image: Image.Image) -> Signature:
    """What a bank holds: the primary keypoint value and the layout."""
    found = values(image)
    return join([found[0], found[-1]])


def query(image: Image.Image) -> Signature:
    return join(values(image))


def bulletin(number: int) -> Image.Image:
    return poster(random.Random(number), SHOP, number)


def test_an_image_agrees_with_itself_and_not_with_another() -> None:
    one, other = bulletin(3), bulletin(4)
    sig = banked(one)
    assert sig.layout is not None
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    size = (sig.width, sig.height)
    assert layout.agreement(sig.layout, size, sig.layout, size, identity) == 1.0
    second = banked(other)
    assert second.layout is not None
    found = layout.agreement(second.layout, size, sig.layout, size, identity)
    assert found is not None and found < LAYOUT_STRICT


def test_too_little_overlap_cannot_judge() -> None:
    sig = banked(bulletin(3))
    assert sig.layout is not None
    far_away = np.array([[1.0, 0.0, 10_000.0], [0.0, 1.0, 0.0]])
    size = (sig.width, sig.height)
    assert layout.agreement(sig.layout, size, sig.layout, size, far_away) is None


def test_a_crop_the_keypoints_alone_miss_is_found_with_the_layout() -> None:
    original = bulletin(24)
    evidence = verify(query(edits.crop(original, 0.2)), banked(original))
    assert not evidence.keypoint_rule  # 6 inliers: too few for the keypoints alone
    assert evidence.matched
    assert evidence.layout is not None and evidence.layout >= LAYOUT_LOOSE
    assert evidence.to_dict()["layout"] == round(evidence.layout, 4)


def test_another_poster_of_the_outlet_is_refused_by_the_layout() -> None:
    # Bulletins 57 and 46 share the outlet's logo, title and background: twelve corners line
    # up, which the keypoint rule alone takes for a copy (in so small an index the template is
    # not yet common enough to be ignored).
    reference = banked(bulletin(46))
    other = query(bulletin(57))
    evidence = verify(other, reference)
    assert evidence.keypoint_rule
    assert evidence.layout is not None and evidence.layout < LAYOUT_STRICT
    assert not evidence.matched
    # Without layouts (values from before them) the keypoint rule alone decides, as before.
    assert verify(replace(other, layout=None), reference).matched


@pytest.mark.parametrize("edit", ["caption", "rotate10", "brightness", "greyscale", "crop10"])
def test_copies_agree_under_the_estimated_transform(edit: str) -> None:
    original = bulletin(5)
    evidence = verify(query(edits.EDITS[edit](original)), banked(original))
    assert evidence.matched, evidence
    assert evidence.layout is not None and evidence.layout >= LAYOUT_STRICT


def test_layout_values_name_their_keypoint_value_and_round_trip() -> None:
    found = values(bulletin(8))
    owner, grid = layout.decode(found[-1])
    assert owner == layout.digest(found[0])
    assert layout.pack(owner, grid) == found[-1]
    assert SIGNAL.validate(found[-1]) == found[-1]
    with pytest.raises(layout.LayoutError):
        layout.decode(found[-1][:-8])
    with pytest.raises(layout.LayoutError):
        layout.decode(found[0])


def _agreement_in_numpy(a: np.ndarray, b: np.ndarray) -> float:
    """The cell comparison as numpy states it (what ``kernels.cell_agreement`` compiles)."""

    def centred(z: np.ndarray) -> np.ndarray:
        low, high = np.percentile(z, [10, 90])
        return (z - np.median(z)) / max(float(high - low), layout.CONTRAST_FLOOR)

    agree = np.abs(centred(a[:, 0]) - centred(b[:, 0])) <= layout.LUMA_TOLERANCE
    grey = (
        np.abs(a[:, 1:] - 128.0).max() < layout.GREY_CHROMA
        or np.abs(b[:, 1:] - 128.0).max() < layout.GREY_CHROMA
    )
    if not grey:
        chroma_a = a[:, 1:] - np.median(a[:, 1:], axis=0)
        chroma_b = b[:, 1:] - np.median(b[:, 1:], axis=0)
        agree &= np.abs(chroma_a - chroma_b).max(axis=1) <= layout.CHROMA_TOLERANCE
    return float(agree.mean())


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(layout.MIN_CELLS, layout.GRID * layout.GRID),
    st.sampled_from(["noise", "copy", "flat", "grey"]),
)
def test_compiled_cell_comparison_is_the_numpy_one_bit_for_bit(
    seed: int, cells: int, kind: str
) -> None:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 255, (cells, 3)).astype(np.float32)
    if kind == "copy":  # near-agreement: values sit on the tolerances' edges
        b = (a + rng.normal(0, 6, a.shape)).astype(np.float32)
    elif kind == "flat":  # ties, a range under the contrast floor
        a = np.round(a / 40) * 4 + 100
        b = (a + rng.integers(-2, 3, a.shape)).astype(np.float32)
    else:
        b = rng.uniform(0, 255, (cells, 3)).astype(np.float32)
    if kind == "grey":
        a[:, 1:] = 128 + rng.integers(-5, 6, (cells, 2))
    a, b = a.astype(np.float32), b.astype(np.float32)
    count = cell_agreement(
        a,
        b,
        layout.LUMA_TOLERANCE,
        layout.CONTRAST_FLOOR,
        layout.CHROMA_TOLERANCE,
        layout.GREY_CHROMA,
    )
    assert count / cells == _agreement_in_numpy(a, b)
