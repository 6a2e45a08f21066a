"""Ingest hashes an image once for every signal type that takes decoded images."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from takedown.matching.hashing import applicable, hash_stream
from tests.robust.conftest import picture


def jpeg(image: Image.Image) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    buffer.seek(0)
    return buffer


def test_one_decode_gives_what_each_signal_type_gives_alone() -> None:
    data = jpeg(picture(5)).getvalue()
    shared, errors = hash_stream(io.BytesIO(data), "image")
    assert not errors
    alone = []
    for signal in applicable("image"):
        alone.extend(signal.hash_stream(io.BytesIO(data)))
    key = lambda v: (v.signal_type, v.variant)  # noqa: E731
    assert sorted(shared, key=key) == sorted(alone, key=key)
    assert {v.signal_type for v in shared} >= {"pdq", "keypoints", "sha256"}


@pytest.mark.parametrize("cut", [40, 400])
def test_a_corrupt_image_is_an_error_of_each_image_type_not_of_the_others(cut: int) -> None:
    data = jpeg(picture(6)).getvalue()[:cut]
    values, errors = hash_stream(io.BytesIO(data), "image")
    assert {"pdq", "keypoints"} <= set(errors)
    assert all("image" in message for message in (errors["pdq"], errors["keypoints"]))
    assert {v.signal_type for v in values} >= {"sha256", "md5"}
