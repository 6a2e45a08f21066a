"""Pictures for the robustness tests: synthetic posters, and one public-domain photo that ships
inside scikit-image's wheel (NASA's astronaut portrait), loaded offline."""

from __future__ import annotations

import io
import random

import pytest
import skimage.data
from PIL import Image

from takedown.demo.media import outlets, poster


def picture(seed: int) -> Image.Image:
    outlet = outlets(random.Random(seed), ("en",))[seed % 8]
    return poster(random.Random(seed), outlet, seed)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def original() -> Image.Image:
    return picture(3)


@pytest.fixture(scope="session")
def unrelated() -> list[Image.Image]:
    return [picture(seed) for seed in range(10, 16)]


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    """A photo (crops keep enough of its texture; see docs/robustness.md for posters)."""
    return Image.fromarray(skimage.data.astronaut()).resize((480, 480))
