"""The decoded pixels are read once per image and shared by the signal types."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from takedown.signals.imageio import pixels


def test_pixels_are_read_once_per_image_and_cannot_be_written() -> None:
    image = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    first = pixels(image)
    assert pixels(image) is first
    assert np.array_equal(first, np.asarray(image))
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0, 0] = 1  # shared between signal types: read-only


def test_a_copy_or_conversion_reads_its_own_pixels() -> None:
    image = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    first = pixels(image)
    assert pixels(image.copy()) is not first
    grey = pixels(image.convert("L"))
    assert grey.shape == (4, 4)


def test_an_image_resized_in_place_is_read_again() -> None:
    image = Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8))
    assert pixels(image).shape == (8, 8, 3)
    image.thumbnail((2, 2))  # in place: same object, new size
    assert pixels(image).shape == (2, 2, 3)
