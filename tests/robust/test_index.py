"""The compiled keypoint index agrees with a plain reference of its voting rule."""

from __future__ import annotations

import numpy as np
import pytest

from takedown.robust import index as kpindex
from takedown.robust.features import Signature
from takedown.robust.index import KeypointIndex


def _signature(rng: np.random.Generator, n: int = 40) -> Signature:
    return Signature(
        320,
        240,
        rng.uniform(0, 239, (n, 2)).astype(np.float32),
        rng.integers(0, 256, (n, 32), dtype=np.uint8),
    )


def _noisy(sig: Signature, rng: np.random.Generator, flips: int) -> Signature:
    desc = sig.descriptors.copy()
    bits = np.unpackbits(desc, axis=1)
    for row in bits:
        row[rng.choice(256, flips, replace=False)] ^= 1
    return Signature(sig.width, sig.height, sig.points, np.packbits(bits, axis=1))


def _reference(
    stored: dict[int, Signature], query: Signature, common_limit: int
) -> tuple[dict[int, int], np.ndarray]:
    """Votes by brute force over every stored descriptor that shares a key with the query."""
    qkeys = kpindex.keys(query.descriptors)
    votes: dict[int, int] = {}
    common = np.zeros(len(query), dtype=bool)
    for q in range(len(query)):
        near, voters = set(), set()
        for owner, sig in stored.items():
            skeys = kpindex.keys(sig.descriptors)
            for r in range(len(sig)):
                if not (skeys[:, r] == qkeys[:, q]).any():
                    continue
                d = int(np.unpackbits(sig.descriptors[r] ^ query.descriptors[q]).sum())
                if d <= kpindex.COMMON_BITS:
                    near.add(owner)
                if d <= kpindex.VOTE_BITS:
                    voters.add(owner)
        if len(near) > common_limit:
            common[q] = True
            continue
        for owner in voters:
            votes[owner] = votes.get(owner, 0) + 1
    return votes, common


def test_votes_and_common_descriptors_match_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kpindex, "COMMON_MIN_OWNERS", 3)
    monkeypatch.setattr(kpindex, "MIN_VOTES", 1)
    rng = np.random.default_rng(5)
    base = [_signature(rng) for _ in range(12)]
    shared = base[0].descriptors[:5]  # a "logo": the same 5 descriptors on 6 images
    stored: dict[int, Signature] = {}
    for i, sig in enumerate(base):
        desc = sig.descriptors.copy()
        if i < 6:
            desc[-5:] = shared
        stored[100 + i] = Signature(sig.width, sig.height, sig.points, desc)
    index = KeypointIndex()
    index.add_many(list(stored.items())[:8])  # main part
    for owner, sig in list(stored.items())[8:]:
        index.add(owner, sig)  # tail part
    query = _noisy(stored[103], rng, 6)
    found, common = index.search(query, limit=100)
    votes, ref_common = _reference(stored, query, 3)
    assert dict(found) == votes
    assert common.tolist() == ref_common.tolist()
    assert found[0][0] == 103 and common[-5:].all()

    index.remove(103)  # a tombstone, then a merge that drops its rows
    del stored[103]
    for _ in range(2):
        found, _common = index.search(query, limit=100)
        assert dict(found) == _reference(stored, query, 3)[0]
        index.add_many([])


def test_many_additions_merge_the_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kpindex, "TAIL_MIN", 100)
    monkeypatch.setattr(kpindex, "RECENT_MAX", 70)
    rng = np.random.default_rng(6)
    sigs = {i: _signature(rng) for i in range(30)}
    index = KeypointIndex()
    for owner, sig in sigs.items():
        index.add(owner, sig)
    assert len(index) == 30 and len(index._main) > 0  # the tail was merged on the way
    for owner in (0, 17, 29):
        found = index.candidates(_noisy(sigs[owner], rng, 8))
        assert found[0][0] == owner


def test_long_runs_of_one_key_vote_as_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    # Descriptors drawn from a few templates with light noise: many share keys, so the runs
    # walked are long and directory entries hold several keys, in the main part and the tail.
    monkeypatch.setattr(kpindex, "COMMON_MIN_OWNERS", 4)
    monkeypatch.setattr(kpindex, "MIN_VOTES", 1)
    monkeypatch.setattr(kpindex, "RECENT_MAX", 50)  # 5 additions: some in the tail, one recent
    rng = np.random.default_rng(9)
    templates = rng.integers(0, 256, (6, 32), dtype=np.uint8)
    stored: dict[int, Signature] = {}
    for owner in range(14):
        sig = _signature(rng, 30)
        desc = sig.descriptors.copy()
        desc[:12] = templates[rng.integers(0, 6, 12)]
        stored[owner] = _noisy(Signature(320, 240, sig.points, desc), rng, 2)
    index = KeypointIndex()
    index.add_many(list(stored.items())[:9])
    for owner, sig in list(stored.items())[9:]:
        index.add(owner, sig)
    assert len(index._main) and len(index._tail) and len(index._recent)  # all three searched
    for probe in (2, 11, 13):
        query = _noisy(stored[probe], rng, 3)
        found, common = index.search(query, limit=100)
        votes, ref_common = _reference(stored, query, 4)
        assert dict(found) == votes
        assert common.tolist() == ref_common.tolist()
        assert common[:12].any() and found[0][0] == probe
