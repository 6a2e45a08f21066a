"""A labelled set of text pairs and the figures of :func:`takedown.text.relation.decide` on it.

The real-text set lives in ``tests/data/text/real`` (``manifest.json`` + one UTF-8 file per
text, provenance in its README). Pairs come from the manifest's ``pairs``, from its
``translation_groups`` (every two texts of a group are translations; every two texts of
different groups in different languages are unrelated) and from ``derived`` copies made here
from real texts: an exact copy (case, spacing and invisible characters changed) and an edited
copy (a sentence dropped, three words misspelt, punctuation added).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from takedown.text import relation as rel
from takedown.text.spin import sentences


@dataclass(frozen=True)
class LabelledPair:
    a: str  # text ids
    b: str
    truth: str


@dataclass
class LabelledSet:
    texts: dict[str, str]
    languages: dict[str, str]
    pairs: list[LabelledPair]


def exact_variant(text: str) -> str:
    """The same text as it might be re-posted: other case, spacing, a zero-width space."""
    swapped = text.swapcase() if len(text) % 2 else text.upper()
    return "\u200b" + re.sub(r"[ ]", "  ", swapped, count=12) + "\n"


def edited_variant(text: str) -> str:
    """An edited copy: second sentence dropped, three longer words misspelt, '!!' added."""
    parts = sentences(text)
    if len(parts) > 3:
        parts = parts[:1] + parts[2:]
    out = " ".join(parts)
    words = [m for m in re.finditer(r"\w{6,}", out)][1::5][:3]
    for m in reversed(words):
        w = m.group(0)
        out = out[: m.start()] + w[0] + w[2] + w[1] + w[3:] + out[m.end() :]
    return out + " !!"


def load_set(folder: Path) -> LabelledSet:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    texts = {
        name: (folder / f"{name}.txt").read_text(encoding="utf-8") for name in manifest["files"]
    }
    languages = {name: meta["lang"] for name, meta in manifest["files"].items()}
    pairs = [LabelledPair(a, b, truth) for a, b, truth in manifest["pairs"]]
    for kind, make in (("exact_copy", exact_variant), ("edited_copy", edited_variant)):
        for name in manifest["derived"].get(kind, []):
            copy = f"{name}~{kind}"
            texts[copy] = make(texts[name])
            languages[copy] = languages[name]
            pairs.append(LabelledPair(name, copy, kind))
    groups = manifest.get("translation_groups", [])
    for group in groups:
        pairs += [LabelledPair(a, b, rel.TRANSLATION) for a, b in combinations(group, 2)]
    for one, two in combinations(groups, 2):
        pairs += [
            LabelledPair(a, b, rel.UNRELATED)
            for a in one
            for b in two
            if languages[a] != languages[b]
        ]
    return LabelledSet(texts, languages, pairs)


@dataclass
class Figures:
    """Per relation: how often it was the truth, predicted, and both; and the targets."""

    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, pair: LabelledPair, decision: rel.Decision) -> None:
        self.confusion[(pair.truth, decision.relation)] += 1
        self.examples.append(
            {
                "a": pair.a,
                "b": pair.b,
                "truth": pair.truth,
                "decided": decision.relation,
                "reason": decision.reason,
            }
        )

    def precision_recall(self, relation: str) -> tuple[float | None, float | None, int]:
        truth = sum(n for (t, _p), n in self.confusion.items() if t == relation)
        predicted = sum(n for (_t, p), n in self.confusion.items() if p == relation)
        both = self.confusion[(relation, relation)]
        precision = both / predicted if predicted else None
        recall = both / truth if truth else None
        return precision, recall, truth

    def count(self, truths: Iterable[str], predicted: Iterable[str]) -> int:
        ts, ps = set(truths), set(predicted)
        return sum(n for (t, p), n in self.confusion.items() if t in ts and p in ps)

    def summary(self) -> dict[str, Any]:
        per = {}
        for relation in rel.RELATIONS:
            p, r, n = self.precision_recall(relation)
            if n or p is not None:
                per[relation] = {"pairs": n, "precision": p, "recall": r}
        return {
            "relations": per,
            "same_event_called_copies": self.count(
                [rel.SAME_EVENT], [rel.EXACT, rel.EDITED, rel.SPUN, rel.TRANSLATION]
            ),
            "translations_unrelated": self.count([rel.TRANSLATION], [rel.UNRELATED]),
            "translations_undecidable": self.count([rel.TRANSLATION], [rel.UNDECIDABLE]),
            "false_links": self.count([rel.SAME_EVENT, rel.UNRELATED], sorted(rel.LINKING)),
            "confusion": [
                {"truth": t, "decided": p, "pairs": n}
                for (t, p), n in sorted(self.confusion.items())
            ],
        }


def evaluate(
    data: LabelledSet,
    profile: Callable[[str], rel.TextProfile] | None = None,
    pairs: Sequence[LabelledPair] | None = None,
) -> Figures:
    """Decide every labelled pair (profiles from the texts, computed once per text)."""
    make = profile or rel.profile_from_text
    cache: dict[str, rel.TextProfile] = {}
    figures = Figures()
    for pair in pairs if pairs is not None else data.pairs:
        for name in (pair.a, pair.b):
            if name not in cache:
                cache[name] = make(data.texts[name])
        figures.add(pair, rel.decide(cache[pair.a], cache[pair.b]))
    return figures


#: The generated set's kinds (``takedown.text.synthetic``) as relations.
SYNTHETIC_RELATIONS = {
    "exact": rel.EXACT,
    "edit": rel.EDITED,
    "spun": rel.SPUN,
    "translation": rel.TRANSLATION,
    "same_topic": rel.SAME_EVENT,
    "same_topic_translated": rel.SAME_EVENT,
    "unrelated": rel.UNRELATED,
}


def synthetic_set(per_language: int, seed: int = 5) -> LabelledSet:
    """The generated labelled set (nine languages) as relation-labelled pairs."""
    from takedown.text.synthetic import labelled_set

    items = labelled_set(seed=seed, per_language=per_language, all_pairs=True)
    texts = {str(i.id): i.text for i in items}
    languages = {str(i.id): i.language for i in items}
    pairs = [
        LabelledPair(str(i.source), str(i.id), SYNTHETIC_RELATIONS[i.kind])
        for i in items
        if i.source is not None and i.kind in SYNTHETIC_RELATIONS
    ]
    return LabelledSet(texts, languages, pairs)
