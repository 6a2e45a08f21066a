from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from takedown.robust import edits, layout
from takedown.robust.features import KEEP, decode, encode, extract
from takedown.robust.index import KeypointIndex
from takedown.robust.signal import KeypointSignal, join, signature_of_image
from takedown.robust.verify import (
    MIN_COVERAGE,
    MIN_INLIERS,
    STRONG_INLIERS,
    Evidence,
    verify,
)
from takedown.signals.base import InvalidSignal, UnhashableContent
from tests.robust.conftest import png
from tests.signals.contract import check_signal_type

SIGNAL = KeypointSignal()


def query_of(image: Image.Image):  # type: ignore[no-untyped-def]
    values = SIGNAL.hash_stream(io.BytesIO(png(image)))
    return join([v.value for v in values])


def bank_of(image: Image.Image):  # type: ignore[no-untyped-def]
    primary = SIGNAL.hash_stream(io.BytesIO(png(image)))[0]
    assert primary.variant == ""
    return decode(primary.value)


def test_the_signal_type_passes_the_shared_contract() -> None:
    check_signal_type(SIGNAL)


CASES = {
    "crop10": (lambda im: edits.crop(im, 0.10), 0.0),
    "crop20": (lambda im: edits.crop(im, 0.20), 0.0),
    "rotate10": (lambda im: edits.rotate(im, 10), 10.0),
    "caption": (edits.caption, 0.0),
}


@pytest.mark.parametrize(
    ("source", "case"),
    [
        ("photo", "crop20"),
        ("photo", "rotate10"),
        ("photo", "caption"),
        ("original", "crop10"),
        ("original", "rotate10"),
        ("original", "caption"),
    ],
)
def test_finds_edited_copies_with_their_evidence(
    request: pytest.FixtureRequest, source: str, case: str
) -> None:
    image: Image.Image = request.getfixturevalue(source)
    edit, rotation = CASES[case]
    evidence = verify(query_of(edit(image)), bank_of(image))
    assert evidence.matched and evidence.inliers >= MIN_INLIERS
    assert evidence.pairs >= evidence.inliers
    assert abs(evidence.rotation_deg - rotation) < 2.0
    assert set(evidence.to_dict()) >= {"inliers", "pairs", "scale", "rotation_deg", "tx", "ty"}


def test_crop_shows_as_an_enlargement(photo: Image.Image) -> None:
    evidence = verify(query_of(edits.crop(photo, 0.2)), bank_of(photo))
    # The crop fills the working image: mapped back onto the original it shrinks by ~0.8.
    assert 0.72 <= evidence.scale <= 0.88


def test_rejects_unrelated_images(original: Image.Image, unrelated: list[Image.Image]) -> None:
    reference = bank_of(original)
    for other in unrelated:
        assert not verify(query_of(other), reference).matched


def test_index_ranks_the_original_first(
    original: Image.Image, unrelated: list[Image.Image]
) -> None:
    index = KeypointIndex()
    index.add_many([(i, bank_of(im)) for i, im in enumerate(unrelated)])
    index.add(99, bank_of(original))
    found = index.candidates(query_of(edits.crop(original, 0.2)))
    assert found and found[0][0] == 99
    index.remove(99)
    assert all(owner != 99 for owner, _ in index.candidates(query_of(original)))


def test_values_round_trip_and_fit_the_btree_limit(original: Image.Image) -> None:
    values = SIGNAL.hash_stream(io.BytesIO(png(original)))
    assert [v.variant for v in values] == ["", "more1", "more2", "layout"]
    assert [v.bankable for v in values] == [True, False, False, True]
    for v in values:
        assert len(v.value) < 2600
        assert SIGNAL.validate(v.value) == v.value
    for v in values[:3]:
        assert len(decode(v.value)) == KEEP
    owner, grid = layout.decode(values[3].value)
    assert owner == layout.digest(values[0].value)  # the layout names the primary it belongs to
    assert grid.shape == (layout.GRID, layout.GRID, 3)


@settings(max_examples=60, deadline=None)
@given(
    st.text(max_size=300)
    | st.binary(max_size=300).map(lambda b: "kp2:" + b.hex())
    | st.binary(max_size=800).map(lambda b: "kl1:" + base64.b64encode(b).decode())
)
def test_malformed_values_are_refused_cleanly(text: str) -> None:
    try:
        SIGNAL.validate(text)
    except InvalidSignal:
        return


def test_single_colour_image_is_marked_not_crashed() -> None:
    flat = Image.new("RGB", (400, 300), (90, 90, 90))
    with pytest.raises(UnhashableContent, match="too few keypoints"):
        SIGNAL.hash_stream(io.BytesIO(png(flat)))


def test_tiny_image_is_refused() -> None:
    with pytest.raises(UnhashableContent):
        SIGNAL.hash_stream(io.BytesIO(png(Image.new("RGB", (3, 3), (1, 2, 3)))))
    with pytest.raises(UnhashableContent, match="too small or too narrow"):
        SIGNAL.hash_stream(io.BytesIO(png(Image.new("RGB", (2000, 20), (1, 2, 3)))))


def test_truncated_file_is_refused(original: Image.Image) -> None:
    data = png(original)
    with pytest.raises(UnhashableContent):
        SIGNAL.hash_stream(io.BytesIO(data[: len(data) // 3]))


def _png_header_only(width: int, height: int) -> bytes:
    body = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(body)) + b"IHDR" + body
    head = b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(b"IHDR" + body))
    idat = zlib.compress(b"\x00" * 64)
    return (
        head
        + struct.pack(">I", len(idat))
        + b"IDAT"
        + idat
        + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    )


def test_huge_dimensions_are_refused_before_decoding() -> None:
    with pytest.raises(UnhashableContent, match="too large"):
        SIGNAL.hash_stream(io.BytesIO(_png_header_only(60_000, 60_000)))


def test_extract_handles_grey_and_alpha_arrays(original: Image.Image) -> None:
    grey = np.asarray(original.convert("L"))
    rgba = np.asarray(original.convert("RGBA"))
    assert len(extract(grey)[0]) == len(extract(rgba)[0]) == KEEP
    sig = signature_of_image(original.convert("P"), keep=KEEP)
    assert len(decode(encode(sig))) == len(sig)


def test_few_inliers_on_a_small_patch_are_not_a_match() -> None:
    def evidence(inliers: int, coverage: float) -> Evidence:
        return Evidence(inliers + 4, inliers, 168, 56, 1.0, 0.0, 0.0, 0.0, 0.8, coverage, 0, 0.3)

    assert not evidence(MIN_INLIERS, MIN_COVERAGE / 2).matched  # a logo and a title line
    assert evidence(MIN_INLIERS, MIN_COVERAGE).matched
    assert evidence(STRONG_INLIERS, MIN_COVERAGE / 2).matched
    assert not evidence(MIN_INLIERS - 1, 0.5).matched
