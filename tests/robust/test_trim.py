from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from takedown.robust import edits
from takedown.robust.trim import common_box, find_margins, trim
from takedown.signals.pdq import PdqSignal, hamming, pdq_hash_variants, trimmed_variant
from tests.robust.conftest import png


def test_letterbox_bars_are_cut_back_to_the_picture(original: Image.Image) -> None:
    boxed = edits.letterbox(original)  # 640x480 -> 853x480, black pillars left and right
    kept, box = trim(np.asarray(boxed))
    assert box.trimmed
    assert abs(kept.shape[1] - original.size[0]) <= 2 and kept.shape[0] == original.size[1]


def test_near_uniform_noisy_border_is_cut(original: Image.Image) -> None:
    noisy = edits.noisy_border(original, pixels=30, seed=4)
    box = find_margins(np.asarray(noisy))
    margins = box.margins()
    assert all(29 <= m <= 31 for m in margins.values()), margins


def test_image_without_margins_is_returned_unchanged(original: Image.Image) -> None:
    array = np.asarray(original)
    kept, box = trim(array)
    assert not box.trimmed and kept is array


def test_flat_image_is_not_trimmed_to_nothing() -> None:
    assert not find_margins(np.full((200, 300), 128, dtype=np.uint8)).trimmed


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(16, 90), st.integers(16, 90))
def test_textured_images_are_never_trimmed(seed: int, height: int, width: int) -> None:
    noise = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    assert not find_margins(noise).trimmed


def test_pdq_gains_a_trim_variant_that_matches_the_original(original: Image.Image) -> None:
    signal = PdqSignal()
    base = {v.variant: v.value for v in signal.hash_stream(io.BytesIO(png(original)))}
    copy = {v.variant: v for v in signal.hash_stream(io.BytesIO(png(edits.border(original))))}
    assert "trim" not in base  # no margins: the stored hashes are exactly the 8 dihedral ones
    assert hamming(copy[""].value, base[""]) > 31  # plain PDQ misses the bordered copy
    assert hamming(copy["trim"].value, base[""]) <= 8
    assert copy["trim"].meta["top"] == "30"


def test_video_frames_share_only_the_common_margins() -> None:
    frame = np.zeros((100, 160), dtype=np.uint8)
    frame[10:90, 20:140] = np.random.default_rng(1).integers(0, 256, (80, 120))
    dark = np.zeros_like(frame)
    dark[30:70, 40:120] = np.random.default_rng(2).integers(0, 256, (40, 80))
    boxes = [find_margins(frame), find_margins(dark)]
    shared = common_box(boxes)
    assert shared is not None
    assert (shared.top, shared.left) == (10, 20)
    assert common_box([]) is None


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(["RGB", "RGBA", "L"]),
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(0, 255),
)
def test_margins_found_on_pdq_luma_are_those_of_the_pixels(
    seed: int, mode: str, top: int, left: int, shade: int
) -> None:
    # PDQ's trimmed variant looks for margins on the luma it already has; it must find the
    # margins trim finds on the pixels themselves, bit for bit (same weights, same order).
    rng = np.random.default_rng(seed)
    picture = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    canvas = np.full((60 + top + 7, 80 + left + 5, 3), shade, dtype=np.uint8)
    canvas += rng.integers(0, 5, canvas.shape, dtype=np.uint8)  # a JPEG-noisy border
    canvas[top : top + 60, left : left + 80] = picture
    image = Image.fromarray(canvas).convert(mode)
    _hashes, _quality, luma = pdq_hash_variants(image)
    assert luma is not None
    assert find_margins(luma) == find_margins(np.asarray(image))
    assert [v.value for v in trimmed_variant(image, luma)] == [
        v.value for v in trimmed_variant(image.copy())
    ]
