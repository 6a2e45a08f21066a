"""PDQ numeric core, a float32 re-implementation of Meta's reference C++ (pdqhashing.cpp,
downscaling.cpp) operation by operation, so that the float rounding matches the reference.

Everything here works on arrays; decoding and the public API live in ``pdq.py``.
The kernels are compiled with numba (on first use) without ``fastmath``: every float32
addition and multiplication happens in the reference's order, which makes the result
bit-exact.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]

#: Images smaller than this on either side hash to all zeros with quality 0 (reference).
MIN_HASHABLE_DIM = 5
#: The reference CLI (pdqio.cpp) resizes images over this size to this square first.
DOWNSAMPLE_DIMS = 512
#: Two X,Y pairs of box filters make a tent filter (Jarosz).
NUM_JAROSZ_XY_PASSES = 2

# ``const float luma_from_R_coeff = 0.299;`` etc.: float32 constants.
LUMA_R = np.float32(0.299)
LUMA_G = np.float32(0.587)
LUMA_B = np.float32(0.114)


_PY_KERNELS: dict[str, Callable[..., Any]] = {}
_COMPILED: dict[str, Callable[..., Any]] = {}
_COMPILE_LOCK = threading.Lock()


def _kernel(func: Callable[..., Any]) -> Callable[..., Any]:
    """Register a kernel; numba (1.2 s to import) is loaded and compiles it on first use, so
    importing this module (e.g. to register the signal type) stays cheap."""
    _PY_KERNELS[func.__name__] = func
    return func


def _compiled(name: str) -> Callable[..., Any]:
    kernel = _COMPILED.get(name)
    if kernel is None:
        with _COMPILE_LOCK:
            kernel = _COMPILED.get(name)
            if kernel is None:
                import numba

                kernel = numba.njit(cache=True, nogil=True)(_PY_KERNELS[name])
                _COMPILED[name] = kernel
    return kernel


def _dct_matrix() -> F32:
    """16x64 DCT matrix exactly as the reference builds it.

    ``matrix_scale_factor`` is a float32 (``sqrt(2/64)`` rounded); each entry is that float
    times a double cosine, evaluated in double and stored as float32.
    """
    scale = float(np.float32(math.sqrt(2.0 / 64.0)))
    out = np.empty((16, 64), dtype=np.float32)
    for i in range(16):
        for j in range(64):
            out[i, j] = np.float32(scale * math.cos((math.pi / 2.0 / 64.0) * (i + 1) * (2 * j + 1)))
    return out


DCT_MATRIX: F32 = _dct_matrix()


@_kernel
def _luma_kernel(rgb: U8, out: F32) -> None:  # pragma: no cover - compiled
    cr = np.float32(0.299)
    cg = np.float32(0.587)
    cb = np.float32(0.114)
    rows, cols = out.shape
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (cr * np.float32(rgb[i, j, 0]) + cg * np.float32(rgb[i, j, 1])) + cb * (
                np.float32(rgb[i, j, 2])
            )


def luma_from_rgb(rgb: U8) -> F32:
    """``fillFloatLumaFromRGB``: float32 ``0.299f*R + 0.587f*G + 0.114f*B`` left to right."""
    out = np.empty(rgb.shape[:2], dtype=np.float32)
    _compiled("_luma_kernel")(rgb, out)
    return out


def jarosz_window_size(old_dimension: int, new_dimension: int) -> int:
    """``computeJaroszFilterWindowSize``: round up ``old / (2 * new)``."""
    return (old_dimension + 2 * new_dimension - 1) // (2 * new_dimension)


@_kernel
def _box_rows(src: F32, dst: F32, window: int) -> None:  # pragma: no cover - compiled
    """``boxAlongRowsFloat``: the reference's 4-phase running-sum box filter along rows."""
    rows, length = src.shape
    half = (window + 2) // 2
    p1 = half - 1
    p2 = window - half + 1
    p3 = length - window
    p4 = half - 1
    for r in range(rows):
        total = np.float32(0.0)
        size = 0
        li = 0
        ri = 0
        oi = 0
        for _ in range(p1):
            total += src[r, ri]
            size += 1
            ri += 1
        for _ in range(p2):
            total += src[r, ri]
            size += 1
            dst[r, oi] = total / np.float32(size)
            ri += 1
            oi += 1
        for _ in range(p3):
            total += src[r, ri]
            total -= src[r, li]
            dst[r, oi] = total / np.float32(size)
            li += 1
            ri += 1
            oi += 1
        for _ in range(p4):
            total -= src[r, li]
            size -= 1
            dst[r, oi] = total / np.float32(size)
            li += 1
            oi += 1


@_kernel
def _box_cols(src: F32, dst: F32, window: int) -> None:  # pragma: no cover - compiled
    """``boxAlongColsFloat``: the same filter down each column (all columns in lockstep)."""
    length, cols = src.shape
    half = (window + 2) // 2
    p1 = half - 1
    p2 = window - half + 1
    p3 = length - window
    p4 = half - 1
    total = np.zeros(cols, dtype=np.float32)
    size = 0
    li = 0
    ri = 0
    oi = 0
    for _ in range(p1):
        for c in range(cols):
            total[c] += src[ri, c]
        size += 1
        ri += 1
    for _ in range(p2):
        size += 1
        fs = np.float32(size)
        for c in range(cols):
            total[c] += src[ri, c]
            dst[oi, c] = total[c] / fs
        ri += 1
        oi += 1
    fs = np.float32(size)
    for _ in range(p3):
        for c in range(cols):
            total[c] += src[ri, c]
            total[c] -= src[li, c]
            dst[oi, c] = total[c] / fs
        li += 1
        ri += 1
        oi += 1
    for _ in range(p4):
        size -= 1
        fs = np.float32(size)
        for c in range(cols):
            total[c] -= src[li, c]
            dst[oi, c] = total[c] / fs
        li += 1
        oi += 1


@_kernel
def _dct64_to_16(a: F32, d: F32) -> F32:  # pragma: no cover - compiled
    """``dct64To16``: B = (D A) D^T with sequential float32 sums over k = 0..63."""
    t = np.empty((16, 64), dtype=np.float32)
    for i in range(16):
        for j in range(64):
            s = np.float32(0.0)
            for k in range(64):
                s += d[i, k] * a[k, j]
            t[i, j] = s
    b = np.empty((16, 16), dtype=np.float32)
    for i in range(16):
        for j in range(16):
            s = np.float32(0.0)
            for k in range(64):
                s += t[i, k] * d[j, k]
            b[i, j] = s
    return b


@_kernel
def _quality(buf: F32) -> int:  # pragma: no cover - compiled
    """``pdqImageDomainQualityMetric``: ``int d = ((u - v) * 100) / 255`` in float32."""
    hundred = np.float32(100.0)
    scale = np.float32(255.0)
    gradient_sum = 0
    for i in range(63):
        for j in range(64):
            d = int(((buf[i, j] - buf[i + 1, j]) * hundred) / scale)
            gradient_sum += abs(d)
    for i in range(64):
        for j in range(63):
            d = int(((buf[i, j] - buf[i, j + 1]) * hundred) / scale)
            gradient_sum += abs(d)
    quality = gradient_sum // 90
    return min(quality, 100)


#: Which image side sets which box-filter window (see docs/pdq.md, "Exactness").
#: "source" (the default): the horizontal (along-row) window from the image width, as Meta's
#: C++ sources and the PyPI ``pdqhash`` binding that pytx and HMA run compute it.
#: "published": the horizontal window from the *height*; it reproduces only the eight bridge
#: vectors printed in the C++ README and is 12-84 bits from pytx on small non-square images.
#: Both agree exactly on square images.
WINDOW_AXES = ("published", "source")


def _filtered(luma: F32, window_axes: str, overwrite: bool = False) -> tuple[F32, int]:
    """The full-size Jarosz-filtered luma (the reference's 2 X,Y box passes) and the window
    used along rows (the horizontal one). With ``overwrite`` a C-contiguous float32 ``luma``
    is filtered in place (no copy: what bounds the memory of hashing a large image)."""
    rows, cols = luma.shape
    if window_axes not in WINDOW_AXES:
        raise ValueError(f"window_axes must be one of {WINDOW_AXES}, got {window_axes!r}")
    reuse = overwrite and luma.dtype == np.float32 and luma.flags.c_contiguous
    buf1 = luma if reuse else np.array(luma, dtype=np.float32, order="C", copy=True)
    buf2 = np.empty_like(buf1)
    if window_axes == "source":
        win_rows = jarosz_window_size(cols, 64)
        win_cols = jarosz_window_size(rows, 64)
    else:
        win_rows = jarosz_window_size(rows, 64)
        win_cols = jarosz_window_size(cols, 64)
    # A window never exceeds the vector it slides along (the C++ assumes so silently).
    win_rows = min(win_rows, cols)
    win_cols = min(win_cols, rows)
    for _ in range(NUM_JAROSZ_XY_PASSES):
        _compiled("_box_rows")(buf1, buf2, win_rows)
        _compiled("_box_cols")(buf2, buf1, win_cols)
    return buf1, win_rows


def _centres(length: int) -> npt.NDArray[np.intp]:
    return np.array([int(((i + 0.5) * length) / 64) for i in range(64)], dtype=np.intp)


def downsample_64(luma: F32, window_axes: str = "source") -> F32:
    """Jarosz tent filter (2 X,Y box passes) then centre decimation to 64x64.

    A 64x64 input is used as is (the reference's ``numRows == 64 && numCols == 64`` path).
    """
    return downsample_64_and_mirror(luma, window_axes)[0]


def downsample_64_and_mirror(
    luma: F32, window_axes: str = "source", overwrite: bool = False
) -> tuple[F32, F32]:
    """The 64x64 block of ``downsample_64`` and that of the left-right mirrored image.

    The mirror's block is sampled from the same filtered buffer, not filtered again: the box
    filter is symmetric for an odd window, and for an even one (the window reaches one pixel
    further right than left) the mirrored image's filtered value at column ``y`` equals the
    stored orientation's at ``cols - 1 - y`` shifted left one pixel per pass. Sampling the
    buffer at those columns gives the mirrored image's block up to float rounding and the
    image's first and last few columns (where the reference's window shrinks): hashes within a
    few bits of hashing the mirrored pixels, for a sixtieth of the cost.
    """
    rows, cols = luma.shape
    if rows == 64 and cols == 64:
        block = np.ascontiguousarray(luma, dtype=np.float32)
        return block, np.ascontiguousarray(block[:, ::-1])
    buf, win_rows = _filtered(luma, window_axes, overwrite)
    ini, inj = _centres(rows), _centres(cols)
    shift = 0 if win_rows % 2 else NUM_JAROSZ_XY_PASSES
    mirrored = np.clip(cols - 1 - inj - shift, 0, cols - 1)
    return buf[np.ix_(ini, inj)], buf[np.ix_(ini, mirrored)]


def lower_median(values: F32) -> np.float32:
    """What the reference's ``torben`` returns for 256 values: the 128th smallest."""
    flat = np.sort(values, axis=None)
    return np.float32(flat[(flat.size + 1) // 2 - 1])


def dct16_from_luma(
    luma: F32, window_axes: str = "source", overwrite: bool = False
) -> tuple[F32, int]:
    """The 16x16 DCT block and quality of a float luma image (at least 5x5); ``overwrite``
    lets the filter work in ``luma`` itself (see ``_filtered``)."""
    block = downsample_64_and_mirror(luma, window_axes, overwrite)[0]
    quality = int(_compiled("_quality")(block))
    dct: F32 = _compiled("_dct64_to_16")(block, DCT_MATRIX)
    return dct, quality


def dct16_and_mirror_from_luma(
    luma: F32, window_axes: str = "source", overwrite: bool = False
) -> tuple[F32, F32, int]:
    """``dct16_from_luma`` and the DCT block of the left-right mirrored image (see
    ``downsample_64_and_mirror``), from one filtering."""
    block, mirror_block = downsample_64_and_mirror(luma, window_axes, overwrite)
    quality = int(_compiled("_quality")(block))
    dct: F32 = _compiled("_dct64_to_16")(block, DCT_MATRIX)
    mirror: F32 = _compiled("_dct64_to_16")(np.ascontiguousarray(mirror_block), DCT_MATRIX)
    return dct, mirror, quality


# Dihedral transforms of the DCT block (dct16OriginalTo*). Sign masks are indexed [i, j] of
# the *source* block A; "transpose" means B[j][i] = sign * A[i][j].
_I, _J = np.indices((16, 16))
_ODD_I = (_I & 1) == 1
_ODD_J = (_J & 1) == 1
_ODD_IJ = ((_I + _J) & 1) == 1
_DIHEDRAL: dict[str, tuple[npt.NDArray[np.bool_] | None, bool]] = {
    # name: (mask of entries to negate, transposed)
    "": (None, False),
    "rotate-90": (~_ODD_J, True),
    "rotate-180": (_ODD_IJ, False),
    "rotate-270": (~_ODD_I, True),
    "flip-x": (~_ODD_I, False),
    "flip-y": (~_ODD_J, False),
    "flip-plus-1": (None, True),
    "flip-minus-1": (_ODD_IJ, True),
}
DIHEDRAL_NAMES: tuple[str, ...] = tuple(_DIHEDRAL)


def dihedral_block(dct: F32, name: str) -> F32:
    """The DCT block of a rotated/flipped image, derived from the original's block."""
    negate, transpose = _DIHEDRAL[name]
    out = dct.copy()
    if negate is not None:
        out[negate] = -out[negate]
    return np.ascontiguousarray(out.T) if transpose else out


def bits_to_hex(dct: F32) -> str:
    """``pdqBuffer16x16ToBits`` + ``Hash256::format``: bit i*16+j set when above the median;
    16-bit words printed from word 15 down to word 0."""
    median = lower_median(dct)
    bits = (dct > median).astype(np.uint32)  # row i is word i, column j is bit j
    words = (bits << np.arange(16, dtype=np.uint32)).sum(axis=1)
    return "".join(f"{int(w):04x}" for w in words[::-1])


def zero_hash() -> str:
    return "0" * 64
