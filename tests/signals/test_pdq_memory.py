"""Hostile images under a memory budget (issue #20 item 8): the peak RSS of exact PDQ on the
worst image the limits let through, measured in a subprocess (a memory assertion, not a
timing one)."""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from takedown.signals.imageio import PDQ_MAX_PIXELS

#: The budget of docs/pdq.md ("Memory budget").
BUDGET_MIB = 512

# VmHWM (the peak RSS of this process's memory since exec) rather than ru_maxrss, which
# Linux carries over from the forking parent (a large test process) across execve.
_MEASURE = """
import sys
from takedown.signals.base import UnhashableContent
from takedown.signals.pdq import PdqSignal
with open(sys.argv[1], "rb") as stream:
    try:
        PdqSignal().hash_stream(stream)
        print("hashed")
    except UnhashableContent as exc:
        print("refused:", exc)
with open("/proc/self/status", encoding="ascii") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(peak_kib // 1024)
"""


def _peak_mib(path: Path) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    outcome, peak = done.stdout.strip().splitlines()
    return outcome, int(peak)


def _flat_png(path: Path, width: int, height: int) -> None:
    """A tiny file declaring a large RGBA image (zlib of zero rows): what a hostile upload is."""
    row = b"\x00" + b"\x00" * (4 * width)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def worst(tmp_path_factory: pytest.TempPathFactory) -> Path:
    side = int(PDQ_MAX_PIXELS**0.5)
    path = tmp_path_factory.mktemp("mem") / "worst.png"
    _flat_png(path, side, PDQ_MAX_PIXELS // side)  # at the limit, 4 bytes a pixel
    return path


def test_worst_image_under_the_limit_hashes_within_the_budget(worst: Path) -> None:
    with Image.open(worst) as image:
        assert image.mode == "RGBA" and image.width * image.height <= PDQ_MAX_PIXELS
    outcome, peak = _peak_mib(worst)
    assert outcome == "hashed"
    assert peak < BUDGET_MIB, f"peak RSS {peak} MiB"


def test_larger_image_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    _flat_png(path, 9999, 9999)  # the report's 9999 x 9999 PNG: 100 M pixels
    assert path.stat().st_size < 1_000_000
    outcome, peak = _peak_mib(path)
    assert outcome.startswith("refused: image too large")
    assert peak < 200


def test_pixel_budget_is_what_the_docs_say() -> None:
    assert PDQ_MAX_PIXELS == 30_000_000
    assert np.float32(0).nbytes * PDQ_MAX_PIXELS * 2 < BUDGET_MIB * 2**20
