from __future__ import annotations

import random

import numpy as np
import pytest

from takedown.signals.base import UnhashableContent
from takedown.text import minhash
from takedown.text.lsh import MinHashIndex
from takedown.text.normalise import normalise
from takedown.text.synthetic import labelled_set, random_facts, render, small_edit


def _prep(text: str) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    norm = normalise(text)
    return minhash.sketch(norm), minhash.shingle_set(norm)


def test_sketch_estimates_exact_jaccard() -> None:
    rng = random.Random(3)
    errors = []
    for _ in range(40):
        text = render(random_facts(rng), "en")
        edited, _kind = small_edit(rng, text)
        (sa, xa), (sb, xb) = _prep(text), _prep(edited)
        errors.append(abs(minhash.estimate(sa, sb) - minhash.jaccard(xa, xb)))
    assert float(np.mean(errors)) < 0.05
    assert max(errors) < 0.2


def test_punctuation_and_invisible_edits_do_not_change_shingles() -> None:
    a = minhash.shingle_set(normalise("Rescue teams evacuated 240 families."))
    b = minhash.shingle_set(normalise("Rescue... teams\u200b evacuated -- 240 families!!"))
    assert minhash.jaccard(a, b) == 1.0


def test_short_posts_still_get_a_sketch() -> None:
    sig = minhash.sketch(normalise("ok"))
    assert not (sig == minhash.EMPTY_BIN).all()
    assert (minhash.sketch(normalise("🙂 !!")) == minhash.EMPTY_BIN).all()


def test_serialisation_round_trip_and_bad_values() -> None:
    sig = minhash.sketch(normalise("The river flooded Valdoria."))
    assert (minhash.parse(minhash.serialise(sig)) == sig).all()
    for bad in ("", "mh1:", "mh1:!!!!", "mh2:" + minhash.serialise(sig)[4:], "mh1:AAAA"):
        with pytest.raises(ValueError, match="MinHash value"):
            minhash.parse(bad)


def test_lsh_finds_edited_copies_and_verifies_exactly() -> None:
    items = labelled_set(seed=11, per_language=4)
    originals = [i for i in items if i.kind == "original"]
    index = MinHashIndex()
    prepared = [_prep(i.text) for i in originals]
    index.add(
        [i.id for i in originals], np.stack([p[0] for p in prepared]), [p[1] for p in prepared]
    )
    found = missed = false = 0
    for item in items:
        if item.kind not in ("exact", "edit", "unrelated", "translation"):
            continue
        sketch, shingles = _prep(item.text)
        hits = index.query(sketch, shingles, min_jaccard=0.6)
        linked = any(h.id == item.source for h in hits)
        if item.kind in ("exact", "edit"):
            found += linked
            missed += not linked
        else:
            false += linked
        for hit in hits:  # verification is exact, never the estimate
            assert hit.jaccard == minhash.jaccard(
                shingles, prepared[originals.index(next(o for o in originals if o.id == hit.id))][1]
            )
    assert missed == 0 and found == 2 * len(originals)
    assert false == 0


def test_incremental_add_remove_and_merge() -> None:
    index = MinHashIndex(keep_sets=False)
    rng = random.Random(5)
    texts = [render(random_facts(rng), "fr") for _ in range(1500)]
    sketches = np.stack([minhash.sketch(normalise(t)) for t in texts])
    index.add(np.arange(1000), sketches[:1000])  # merged into the sorted arrays
    index.add(np.arange(1000, 1500), sketches[1000:])  # stays in the tail until it grows
    assert len(index) == 1500
    assert 1200 in index.candidates(sketches[1200])
    assert 10 in index.candidates(sketches[10])
    index.remove(10)
    assert 10 not in index.candidates(sketches[10])
    index.add(np.arange(1500, 3000), np.repeat(sketches[:1], 1500, axis=0))  # forces a merge
    assert 10 not in index.candidates(sketches[10]) and 11 in index.candidates(sketches[11])
    with pytest.raises(ValueError, match="already"):
        index.add([11], sketches[11:12])
    with pytest.raises(ValueError, match="keeps shingle sets"):
        MinHashIndex().add([1], sketches[:1])


def test_template_reuse_with_other_facts_is_not_an_edited_copy() -> None:
    from takedown.text.signals import TextMinHashSignal

    signal = TextMinHashSignal()

    def value(text: str) -> str:
        import io

        return signal.hash_stream(io.BytesIO(text.encode()))[0].value

    one = value("Harbor Ledger released bulletin 273 on 2026-04-19. Follow #Harbor273 @hl.")
    typo = value("Harbor Ledger released bulletni 273 on 2026-04-19. Follow #Harbor273 @hl.")
    other = value("Harbor Ledger released bulletin 228 on 2026-04-18. Follow #Harbor228 @hl.")
    assert signal.matches(one, typo)
    assert signal.distance(one, other) == 100  # close wording, other facts


def test_candidate_sets_agree_with_pairwise_distances() -> None:
    import io

    from takedown.text.signals import TextAnchorsSignal, TextMinHashSignal, TextSpinSignal

    items = labelled_set(seed=4, per_language=2)
    for signal in (TextMinHashSignal(), TextAnchorsSignal(), TextSpinSignal()):
        values = {}
        for item in items:
            try:
                values[item.id] = signal.hash_stream(io.BytesIO(item.text.encode()))[0].value
            except UnhashableContent:
                continue  # texts a type cannot hash are skipped
        stored = [i for i in items if i.kind == "original" and i.id in values]
        cset = signal.candidate_set(  # type: ignore[attr-defined]
            [i.id for i in stored], [values[i.id] for i in stored], [i.id * 10 for i in stored]
        )
        radius = signal.default_threshold
        for item in items:
            if item.id not in values:
                continue
            pairwise = {
                s.id * 10: signal.distance(values[item.id], values[s.id])
                for s in stored
                if signal.distance(values[item.id], values[s.id]) <= radius
            }
            assert cset.search([values[item.id]], radius) == pairwise, signal.name
        cset.remove(stored[0].id)
        assert stored[0].id * 10 not in cset.search([values[stored[0].id]], radius)
