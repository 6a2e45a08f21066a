from __future__ import annotations

from collections import defaultdict

import pytest

from takedown.text import anchors, spin
from takedown.text.langid import identify
from takedown.text.synthetic import FLOOD, LANGUAGES, labelled_set


@pytest.fixture(scope="module")
def items():  # type: ignore[no-untyped-def]
    return labelled_set(seed=21, per_language=3)


def test_wordllama_loads_offline_from_its_wheel() -> None:
    sk = spin.sketch("The river rose. Families left.")
    assert sk.vectors.shape == (2, spin.DIM)


def test_spun_rewrites_align_and_same_topic_statements_do_not(items) -> None:  # type: ignore[no-untyped-def]
    by_id = {i.id: i for i in items}
    spun, same = [], []
    for item in items:
        if item.kind in ("spun", "same_topic"):
            source = spin.sketch(by_id[item.source].text)
            score = spin.align(source, spin.sketch(item.text)).score
            (spun if item.kind == "spun" else same).append(score)
    assert min(spun) > 0.5 > max(same)


def test_alignment_evidence_is_in_order() -> None:
    a = "The river flooded Valdoria on 2026-03-02. Rescue teams evacuated 240 families."
    b = "The stream swamped Valdoria upon 2026-03-02. Emergency crews moved 240 households."
    alignment, sa, sb = spin.compare(a, b)
    pairs = spin.evidence(alignment, sa, sb)
    assert [(p["a"], p["b"]) for p in pairs] == list(zip(sa, sb, strict=True))


def test_sketch_round_trip_and_bad_values() -> None:
    sk = spin.sketch("One sentence here. Another one with 42 apples.")
    back = spin.parse(spin.serialise(sk))
    assert back.facts == sk.facts and spin.align(sk, back).score > 0.95
    for bad in ("sp1:", "sp1:AQ==", "xx", "sp1:@@"):
        with pytest.raises(ValueError, match="sentence sketch"):
            spin.parse(bad)


def test_skeletons_agree_across_scripts() -> None:
    assert anchors.skeleton("Valdoria") == anchors.skeleton("Вальдория") == "fldr"
    assert anchors.skeleton("فالدوريا") == "fldr"
    assert anchors.skeleton("Brekker") == anchors.skeleton("بريكر") == anchors.skeleton("Бреккер")


def test_number_and_date_conventions_meet() -> None:
    keys = [
        set(anchors.extract(t).strong)
        for t in (
            "On 2026-04-12, 1,240 left.",
            "Am 12.04.2026 gingen 1.240.",
            "Le 12/04/2026, 1\u202f240 sont partis.",
            "في ٢٠٢٦-٠٤-١٢ غادر ١٬٢٤٠.",
        )
    ]
    assert all(k == {"date:2026-04-12", "num:1240"} for k in keys)


def test_anchor_extraction_kinds() -> None:
    found = anchors.extract("See https://www.example.org/a/ or @team_x #Tag1 🌊 (Quran 2:255)")
    assert {"url:example.org/a", "handle:team_x", "tag:tag1", "emoji:1f30a", "ref:2:255"} <= set(
        found.strong
    )


def test_translations_link_per_language_pair_and_same_topic_does_not(items) -> None:  # type: ignore[no-untyped-def]
    by_id = {i.id: i for i in items}
    scores: dict[str, list[float]] = defaultdict(list)
    for item in items:
        if item.kind in ("translation", "same_topic", "unrelated"):
            a = anchors.extract(by_id[item.source].text)
            b = anchors.extract(item.text)
            scores[item.kind].append(anchors.similarity(a, b).score)
            # the serialised form scores the same
            pa, pb = anchors.parse(anchors.serialise(a)), anchors.parse(anchors.serialise(b))
            assert anchors.similarity(pa, pb).score == pytest.approx(
                anchors.similarity(a, b).score, abs=0.02
            )
    assert min(scores["translation"]) >= 0.6 > max(scores["same_topic"])
    assert max(scores["unrelated"]) == 0.0


def test_too_few_anchors_never_link() -> None:
    a, b = anchors.extract("Hello 5"), anchors.extract("Bonjour 5")
    assert anchors.similarity(a, b).score == 0.0


def test_langid_on_short_posts_in_nine_languages() -> None:
    correct = 0
    total = 0
    for language in LANGUAGES:
        for template in FLOOD[language][1:7]:
            post = template.format(
                place="X", person="Y", n1=1, n2=2, n3=3, n4=4, k=5, date="", url="", tag=""
            )
            total += 1
            correct += identify(post).code == language
    assert correct / total >= 0.9
    assert identify("🙂🙂 123").code == "und"
    assert identify("\u200b\u200e").code == "und"
