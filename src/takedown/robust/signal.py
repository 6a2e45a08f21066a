"""The ``keypoints`` signal type: ORB keypoint signatures, verified geometrically.

Values per image: the primary value (``variant ""``, the ``KEEP`` best-spread keypoints: what
bank entries and the content index hold), up to ``QUERY_CHUNKS - 1`` further values
(``variant "more1"``, ``"more2"``: the next keypoints) that are used only when this image is the
query, so that a crop still shares enough keypoints with its original, and the colour layout
(``variant "layout"``, ``kl1:``, see ``takedown.robust.layout``), which a bank keeps beside the
primary value. Each value stays under PostgreSQL's B-tree row limit.

``distance`` = ``SCORE_SCALE`` - RANSAC inliers (0 for identical values), so that a bank
threshold works as for the other types. The default threshold 58 admits every verified match
(``verify``: at least 6 inliers confirmed by the colour layout, or 8 by the keypoints alone); a
bank may ask for more inliers (``keypoints=50`` means at least 14).
Matching never compares every stored value: ``takedown.robust.stage`` searches a descriptor
index and verifies the few candidates (declared ``pairwise`` for the generic contract only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import BinaryIO, ClassVar

import numpy as np
from PIL import Image, ImageDraw

from takedown.robust import features, layout
from takedown.robust.features import KEEP, Signature, SignatureError, decode, encode, extract
from takedown.robust.verify import LOOSE_MIN_INLIERS, MIN_INLIERS, Evidence, verify
from takedown.signals.base import InvalidSignal, SignalType, SignalValue, UnhashableContent
from takedown.signals.imageio import DEFAULT_MAX_PIXELS, open_image, pixels

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)

NAME = "keypoints"
SCORE_SCALE = 64
QUERY_CHUNKS = 3
MORE_VARIANTS = tuple(f"more{i}" for i in range(1, QUERY_CHUNKS))
LAYOUT_VARIANT = "layout"
#: Images over this many pixels are box-reduced by a whole factor before keypoints (memory).
REDUCE_ABOVE_PIXELS = 8_000_000


def signature_of_image(image: Image.Image, keep: int = KEEP * QUERY_CHUNKS) -> Signature:
    """Signature of a decoded image (``UnhashableContent`` when too small or featureless)."""
    factor = math.ceil(math.sqrt(image.width * image.height / REDUCE_ABOVE_PIXELS))
    if factor > 1:
        # the working image is WORK_SIDE pixels long: a box reduction of a huge image first
        # keeps memory bounded (no full-size RGB and grey copies of a 30 M-pixel picture)
        image = image.reduce(factor)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    sig, _box = extract(pixels(image), keep=keep, with_layout=True)
    if sig.width < features.MIN_SIDE or sig.height < features.MIN_SIDE:
        raise UnhashableContent(
            f"image too small or too narrow for keypoints: {image.size[0]}x{image.size[1]}"
        )
    if len(sig) < MIN_INLIERS:
        raise UnhashableContent(
            f"too few keypoints ({len(sig)}): a flat or featureless image; PDQ alone applies"
        )
    return sig


def split(sig: Signature) -> list[tuple[str, Signature]]:
    """(variant, chunk of KEEP keypoints): the primary first."""
    out = []
    for number, start in enumerate(range(0, min(len(sig), KEEP * QUERY_CHUNKS), KEEP)):
        variant = "" if number == 0 else MORE_VARIANTS[number - 1]
        out.append(
            (
                variant,
                Signature(
                    sig.width,
                    sig.height,
                    sig.points[start : start + KEEP],
                    sig.descriptors[start : start + KEEP],
                ),
            )
        )
    return out


def join(values: Sequence[str]) -> Signature:
    """One query signature from a primary value, its "more" values and its layout (any
    order; InvalidSignal)."""
    sigs = []
    shown = None
    for value in values:
        try:
            if value.lstrip().startswith(layout.PREFIX):
                shown = layout.decode(value)[1]
            else:
                sigs.append(decode(value))
        except (SignatureError, layout.LayoutError) as exc:
            raise InvalidSignal(str(exc)) from exc
    if not sigs:
        raise InvalidSignal("no keypoint values")
    first = sigs[0]
    same = [s for s in sigs if (s.width, s.height) == (first.width, first.height)]
    return Signature(
        first.width,
        first.height,
        np.concatenate([s.points for s in same]),
        np.concatenate([s.descriptors for s in same]),
        shown,
    )


def score_to_distance(inliers: int) -> int:
    return max(0, SCORE_SCALE - inliers)


class KeypointSignal(SignalType):
    """Local-feature signal for crops, rotations, captions and overlays (see module doc)."""

    name = NAME
    content_kinds = frozenset({"image"})
    default_threshold = SCORE_SCALE - LOOSE_MIN_INLIERS
    max_threshold = SCORE_SCALE - LOOSE_MIN_INLIERS
    index_kind = "pairwise"

    max_pixels: ClassVar[int] = DEFAULT_MAX_PIXELS

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        # The decode PDQ uses (reduced JPEG decode), so that ingest decodes an image once for
        # both and a value is the same whichever way it was computed.
        return self.hash_image(open_image(stream, reduced=True, max_pixels=self.max_pixels))

    def hash_image(self, image: Image.Image) -> Sequence[SignalValue]:
        sig = signature_of_image(image)
        quality = min(100, round(100 * len(sig) / (KEEP * QUERY_CHUNKS)))
        values = [
            SignalValue(
                self.name, encode(chunk), quality, False, variant, {"keypoints": str(len(chunk))}
            )
            for variant, chunk in split(sig)
        ]
        if sig.layout is not None:
            shown = layout.encode(sig.layout, values[0].value)
            values.append(
                SignalValue(self.name, shown, quality, False, LAYOUT_VARIANT, banked=True)
            )
        return values

    def validate(self, value: str) -> str:
        try:
            if value.lstrip().startswith(layout.PREFIX):
                return layout.pack(*layout.decode(value))
            return encode(decode(value))
        except (SignatureError, layout.LayoutError) as exc:
            raise InvalidSignal(str(exc)) from exc

    def evidence(self, query: str | Signature, reference: str | Signature) -> Evidence:
        q = query if isinstance(query, Signature) else join([query])
        r = reference if isinstance(reference, Signature) else join([reference])
        return verify(q, r)

    def distance(self, a: str, b: str) -> int:
        ca, cb = self.validate(a), self.validate(b)
        if ca == cb:
            return 0
        first, second = sorted((ca, cb))  # verification is not symmetric: fix the order
        ev = self.evidence(first, second)
        return score_to_distance(
            ev.inliers if ev.matched else min(ev.inliers, LOOSE_MIN_INLIERS - 1)
        )

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        original = _example_image(0)
        copy = original.rotate(8, resample=Image.Resampling.BILINEAR).crop((30, 20, 300, 230))
        other = _example_image(1)
        values = [encode(signature_of_image(im, keep=KEEP)) for im in (original, copy, other)]
        return [
            (values[0], values[0], True),
            (values[0], values[1], True),
            (values[0], values[2], False),
        ]


def _example_image(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(60, 200, (240, 320, 3), dtype=np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, 300, 2))
        w, h = (int(v) for v in rng.integers(10, 60, 2))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=fill)
        else:
            draw.ellipse((x, y, x + w, y + h), fill=fill)
    return image
