from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.match import (
    BruteForceIndex,
    HammingIndex,
    IndexHolder,
    array_to_hex,
    hamming,
    hex_to_array,
)


def clustered(rng: np.random.Generator, bases: int, copies: int, flips: int) -> np.ndarray:
    base = rng.integers(0, 256, (bases, 32), dtype=np.uint8)
    out = np.repeat(base, copies, axis=0)
    bits = np.unpackbits(out, axis=1)
    for row in range(out.shape[0]):
        k = rng.integers(0, flips + 1)
        idx = rng.choice(256, size=k, replace=False)
        bits[row, idx] ^= 1
    return np.packbits(bits, axis=1)


def same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    return bool(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("radius", [0, 1, 15, 22, 31, 32, 47, 63])
def test_results_equal_brute_force_on_clustered_data(
    radius: int, large: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hamming, "SCAN_BELOW", 0)  # force the multi-index path on a small set
    if large:
        monkeypatch.setattr(hamming, "LARGE_FROM", 0)  # and the 11-substring layout
    rng = np.random.default_rng(radius)
    data = clustered(rng, 300, 8, 20)
    ids = np.arange(len(data), dtype=np.int64) * 3
    index, brute = HammingIndex.build(ids, data), BruteForceIndex.build(ids, data)
    queries = np.concatenate([clustered(rng, 20, 1, 30), data[:20]])
    for query in queries:
        assert same(index.search(query, radius), brute.search(query, radius))


def test_add_and_remove_without_rebuild_match_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hamming, "SCAN_BELOW", 0)
    rng = np.random.default_rng(7)
    data = clustered(rng, 200, 5, 12)
    index = HammingIndex.build(np.arange(500), data[:500])
    brute = BruteForceIndex.build(np.arange(500), data[:500])
    index.add(np.arange(500, 1000), data[500:])
    brute.add(np.arange(500, 1000), data[500:])
    index.remove(np.arange(0, 1000, 7))
    brute.remove(np.arange(0, 1000, 7))
    assert len(index) == len(brute)
    for query in data[::37]:
        assert same(index.search(query, 31), brute.search(query, 31))


def test_duplicates_one_entry_and_empty_indexes() -> None:
    value = hex_to_array(["f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"])
    single = HammingIndex.build(np.array([42]), value)
    assert single.search(value[0], 0)[0].tolist() == [42]
    dup = HammingIndex.build(np.array([1, 2]), np.repeat(value, 2, axis=0))
    assert dup.search(value[0], 0)[0].tolist() == [1, 2]
    assert HammingIndex().search(value[0], 31)[0].size == 0
    assert array_to_hex(value) == [
        "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    ]
    with pytest.raises(ValueError, match="not hex"):
        hex_to_array(["zz" * 32])


def test_save_and_load_round_trip_and_refuse_corruption(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    index = HammingIndex.build(np.arange(300), data)
    index.remove([5])
    path = tmp_path / "bank.idx"
    index.save(path)
    loaded = HammingIndex.load(path)
    assert same(loaded.search(data[9], 40), index.search(data[9], 40))
    assert loaded.search(data[5], 0)[0].size == 0
    blob = path.read_bytes()
    path.write_bytes(blob[:-10])
    with pytest.raises(ValueError, match="truncated"):
        HammingIndex.load(path)
    path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(ValueError, match="checksum"):
        HammingIndex.load(path)
    path.write_bytes(b"\x80\x04pickle")
    with pytest.raises(ValueError, match="not a Hamming index"):
        HammingIndex.load(path)


def test_holder_answers_while_loading_and_reports_failures(tmp_path: Path) -> None:
    path = tmp_path / "i.idx"
    HammingIndex.build(np.arange(10), np.zeros((10, 32), dtype=np.uint8)).save(path)
    holder = IndexHolder()
    assert holder.status()["state"] == "empty"
    holder.start_loading(path)
    assert holder.status()["state"] in ("loading", "ready")
    holder.wait(10)
    assert holder.status() == {"state": "ready", "entries": 10, "error": None}
    holder.start_loading(tmp_path / "missing.idx")
    holder.wait(10)
    assert holder.status()["state"] == "failed" and holder.index() is not None


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 80), st.integers(0, 2**32 - 1))
def test_property_equal_to_brute_force(n: int, radius: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    data = clustered(rng, n, 2, 40)
    index = HammingIndex.build(np.arange(len(data)), data)
    brute = BruteForceIndex.build(np.arange(len(data)), data)
    query = clustered(rng, 1, 1, 40)[0]
    assert same(index.search(query, radius), brute.search(query, radius))
