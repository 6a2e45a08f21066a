from __future__ import annotations

import json
import threading
from pathlib import Path
from unittest import mock

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


def force_multi_index(monkeypatch: pytest.MonkeyPatch, substrings: int) -> None:
    """Use the multi-index path on a small set, with the layout of ``substrings``."""
    monkeypatch.setattr(hamming, "SCAN_BELOW", 0)
    widths = hamming.even_widths(substrings)
    monkeypatch.setattr(hamming, "choose_layout", lambda n: widths)


@pytest.mark.parametrize("substrings", [11, 13, 16])
def test_results_equal_brute_force_on_clustered_data(
    substrings: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    force_multi_index(monkeypatch, substrings)
    rng = np.random.default_rng(substrings)
    data = clustered(rng, 300, 8, 20)
    ids = np.arange(len(data), dtype=np.int64) * 3
    index, brute = HammingIndex.build(ids, data), BruteForceIndex.build(ids, data)
    queries = np.concatenate([clustered(rng, 20, 1, 30), data[:20]])
    for radius in (0, 1, 15, 22, 31, 32, 47, 63):
        for query in queries:
            assert same(index.search(query, radius), brute.search(query, radius))


@pytest.mark.parametrize(("substrings", "radius"), [(11, 31), (11, 20), (13, 31), (16, 40)])
def test_rows_found_only_through_one_probe_are_found(
    substrings: int, radius: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tight pigeonhole case: each row is exactly ``t_s + 1`` bits away from the query in
    every substring but one, where it is exactly ``t_s`` away; at total distance ``radius``
    only that substring's probes can find it, whichever bits differ."""
    force_multi_index(monkeypatch, substrings)
    widths = hamming.even_widths(substrings)
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    count = 3000
    limits = hamming.limits_for(widths, count, radius)
    assert limits is not None
    rng = np.random.default_rng(radius * substrings)
    query = rng.integers(0, 256, 32, dtype=np.uint8)
    probed = np.nonzero(limits >= 0)[0]
    data = np.repeat(query[None, :], count, axis=0)
    for row in range(count):
        tight = rng.choice(probed)
        for s, (start, width) in enumerate(zip(starts, widths, strict=True)):
            flips = int(limits[s]) + (s != tight)
            for bit in start + rng.choice(width, size=flips, replace=False):
                data[row, bit // 8] ^= 1 << (7 - bit % 8)
    index = HammingIndex.build(np.arange(count), data)
    found, dists = index.search(query, radius)
    assert found.tolist() == list(range(count)) and set(dists.tolist()) == {radius}
    assert index.search(query, radius - 1)[0].size == 0


def test_limits_cover_every_radius_by_pigeonhole() -> None:
    for m in range(11, 17):
        widths = hamming.even_widths(m)
        assert sum(widths) == 256 and max(widths) - min(widths) <= 1
        for n in (10**4, 10**6, 10**7):
            for radius in range(0, 3 * m + 5):
                limits = hamming.limits_for(widths, n, radius)
                if radius + 1 > 3 * m:
                    assert limits is None
                    continue
                assert limits is not None
                assert int((limits + 1).sum()) == radius + 1
                assert limits.min() >= -1 and limits.max() <= hamming.MAX_LIMIT


def test_layout_follows_index_size() -> None:
    assert len(hamming.choose_layout(10_000_000)) == 11
    assert len(hamming.choose_layout(1_000_000)) == 13
    assert hamming.choose_layout(50_000) == (16,) * 16
    for n in (10**5, 10**6, 3 * 10**6, 10**7):
        widths = hamming.choose_layout(n)
        assert widths == (16,) * 16 or sum(1 << w for w in widths) <= 12 * n


def test_add_and_remove_without_rebuild_match_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    force_multi_index(monkeypatch, 16)
    rng = np.random.default_rng(7)
    data = clustered(rng, 200, 5, 12)
    index = HammingIndex.build(np.arange(500), data[:500])
    brute = BruteForceIndex.build(np.arange(500), data[:500])
    index.add(np.arange(500, 1000), data[500:])
    brute.add(np.arange(500, 1000), data[500:])
    index.remove(np.arange(0, 1000, 7))
    brute.remove(np.arange(0, 1000, 7))
    # an id removed and added again with another hash: only the new hash may match
    index.add(np.array([14, 507]), data[[3, 4]])
    brute.add(np.array([14, 507]), data[[3, 4]])
    # a second row under a live id, then both removed
    index.add(np.array([1]), data[[900]])
    brute.add(np.array([1]), data[[900]])
    assert len(index) == len(brute)
    for query in data[::37]:
        assert same(index.search(query, 31), brute.search(query, 31))
    index.remove([1])
    brute.remove([1])
    assert len(index) == len(brute)
    for query in data[::37]:
        assert same(index.search(query, 31), brute.search(query, 31))


def test_tail_recent_and_main_segments_with_unsorted_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    force_multi_index(monkeypatch, 13)
    monkeypatch.setattr(hamming, "TAIL_ROWS", 100)
    monkeypatch.setattr(hamming, "RECENT_ROWS", 600)
    rng = np.random.default_rng(11)
    data = clustered(rng, 600, 5, 16)
    ids = rng.permutation(10 * len(data))[: len(data)].astype(np.int64)  # not in order
    index = HammingIndex.build(ids[:1000], data[:1000])
    brute = BruteForceIndex.build(ids[:1000], data[:1000])
    index.remove(ids[:1000:3])
    brute.remove(ids[:1000:3])
    seen_recent = False
    for start in range(1000, 3000, 50):
        index.add(ids[start : start + 50], data[start : start + 50])
        brute.add(ids[start : start + 50], data[start : start + 50])
        seen_recent = seen_recent or len(index._recent) > 0
        assert index._delta.size <= 100 and len(index) == len(brute)
        if start % 250 == 0:
            index.remove(ids[start - 400 : start : 7])
            brute.remove(ids[start - 400 : start : 7])
            for query in data[start - 300 : start : 29]:
                assert same(index.search(query, 31), brute.search(query, 31))
    assert seen_recent and len(index._main) > 1000  # both the recent and main merges ran
    for query in data[::41]:
        assert same(index.search(query, 31), brute.search(query, 31))


def test_concurrent_searches_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    force_multi_index(monkeypatch, 16)
    rng = np.random.default_rng(5)
    data = clustered(rng, 400, 5, 20)
    index = HammingIndex.build(np.arange(len(data)), data)
    queries = data[::13]
    expected = [index.search(q, 31) for q in queries]
    failures: list[int] = []

    def work() -> None:
        for _ in range(5):
            for i, q in enumerate(queries):
                if not same(index.search(q, 31), expected[i]):
                    failures.append(i)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


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


def test_bad_queries_and_rows_are_refused() -> None:
    index = HammingIndex.build(np.arange(3), np.zeros((3, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="32 bytes"):
        index.search(np.zeros(31, dtype=np.uint8), 3)
    with pytest.raises(ValueError, match="radius"):
        index.search(np.zeros(32, dtype=np.uint8), -1)
    with pytest.raises(ValueError, match="one id per row"):
        index.add(np.arange(2), np.zeros((3, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="32 bytes"):
        BruteForceIndex().search(np.zeros(33, dtype=np.uint8), 3)


def test_save_and_load_round_trip_and_refuse_corruption(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    index = HammingIndex.build(np.arange(300), data)
    index.remove([5])
    index.add(np.array([300]), data[[9]])  # pending in the delta segment: saved too
    path = tmp_path / "bank.idx"
    index.save(path)
    assert len(index) == 300 and index._delta.size == 1  # saving does not rebuild
    loaded = HammingIndex.load(path)
    assert len(loaded) == 300
    assert same(loaded.search(data[9], 40), index.search(data[9], 40))
    assert loaded.search(data[5], 0)[0].size == 0
    blob = path.read_bytes()
    path.write_bytes(blob[:-10])
    with pytest.raises(ValueError, match="truncated"):
        HammingIndex.load(path)
    path.write_bytes(blob + b"\0")
    with pytest.raises(ValueError, match="oversized"):
        HammingIndex.load(path)
    path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(ValueError, match="checksum"):
        HammingIndex.load(path)
    path.write_bytes(b"\x80\x04pickle")
    with pytest.raises(ValueError, match="not a Hamming index"):
        HammingIndex.load(path)
    header, body = blob.split(b"\n", 1)
    for field, value, message in (
        ("version", 2, "unsupported index version"),
        ("count", -1, "count"),
    ):
        changed = json.loads(header)
        changed[field] = value
        path.write_bytes(json.dumps(changed).encode() + b"\n" + body)
        with pytest.raises(ValueError, match=message):
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


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "remove", "search"]), st.integers(0, 2**32 - 1)),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 40),
)
def test_property_add_remove_search_equal_brute_force(
    ops: list[tuple[str, int]], radius: int
) -> None:
    with (
        mock.patch.object(hamming, "SCAN_BELOW", 0),
        mock.patch.object(hamming, "TAIL_ROWS", 8),
        mock.patch.object(hamming, "RECENT_ROWS", 30),
    ):
        index, brute = HammingIndex(), BruteForceIndex()
        pool = clustered(np.random.default_rng(len(ops)), 40, 3, 30)
        for op, seed in ops:
            rng = np.random.default_rng(seed)
            if op == "add":
                count = int(rng.integers(1, 20))
                rows = rng.integers(0, len(pool), count)
                ids = rng.integers(0, 60, count).astype(np.int64)  # ids repeat on purpose
                index.add(ids, pool[rows])
                brute.add(ids, pool[rows])
            elif op == "remove":
                gone = rng.integers(0, 60, int(rng.integers(1, 10)))
                index.remove(gone)
                brute.remove(gone)
            else:
                query = pool[int(rng.integers(0, len(pool)))]
                assert same(index.search(query, radius), brute.search(query, radius))
            assert len(index) == len(brute)
        for query in pool[::17]:
            assert same(index.search(query, radius), brute.search(query, radius))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 60),
    st.integers(0, 80),
    st.integers(0, 2**32 - 1),
    st.sampled_from([13, 14, 15, 16]),
)
def test_property_equal_to_brute_force(n: int, radius: int, seed: int, substrings: int) -> None:
    rng = np.random.default_rng(seed)
    data = clustered(rng, n, 2, 40)
    query = clustered(rng, 1, 1, 40)[0]
    brute = BruteForceIndex.build(np.arange(len(data)), data)
    scanned = HammingIndex.build(np.arange(len(data)), data)  # small: a full scan
    assert same(scanned.search(query, radius), brute.search(query, radius))
    widths = hamming.even_widths(substrings)
    with (
        mock.patch.object(hamming, "SCAN_BELOW", 0),
        mock.patch.object(hamming, "choose_layout", return_value=widths),
    ):
        index = HammingIndex.build(np.arange(len(data)), data)  # the multi-index path
        near = data[rng.integers(0, len(data))]
        for q in (query, near):
            assert same(index.search(q, radius), brute.search(q, radius))
