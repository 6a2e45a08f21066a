"""The one decision on how two texts are related, with its evidence (issue #23).

Every face that links texts (``takedown match``, ``takedown text compare``, the API, clusters,
the workspace) calls :func:`decide` on two :class:`TextProfile` values and shows the
:class:`Decision` it returns: a relation, the reason in words, and the evidence (scores,
sentence pairs aligned in order, shared anchors).

Relations:

- ``exact_copy``: identical after normalisation;
- ``edited_copy``: the same wording with edits (character-shingle Jaccard), or a whole
  paragraph quoted;
- ``spun_rewrite``: same language, sentences that align in order, most of them;
- ``translation``: different languages, and either a multilingual model (when an operator
  configured one) or the language-independent anchors say the same text;
- ``same_event``: different texts sharing names, places, dates and numbers. Useful to an
  analyst; never called a copy and never merged into a piece of material;
- ``undecidable``: the evidence that could decide is missing (e.g. "too few anchors to judge a
  translation" when no multilingual model is configured), said instead of saying nothing;
- ``unrelated``.

Only the first four *link* (:data:`LINKING`): they join a cluster and make content "known".

A profile comes from a text (:func:`profile_from_text`) or from the stored signal values of
one (:func:`profile_from_values`): both carry the same evidence, so a decision on stored
content is the decision ``text compare`` shows for the two texts (stored MinHash values give
the sketch estimate, not the exact Jaccard).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from takedown.text import anchors, minhash, spin
from takedown.text.langid import UNDETERMINED, identify
from takedown.text.normalise import analyse

EXACT = "exact_copy"
EDITED = "edited_copy"
SPUN = "spun_rewrite"
TRANSLATION = "translation"
SAME_EVENT = "same_event"
UNDECIDABLE = "undecidable"
UNRELATED = "unrelated"
RELATIONS = (EXACT, EDITED, SPUN, TRANSLATION, SAME_EVENT, UNDECIDABLE, UNRELATED)
#: Relations that tie two texts into one piece of material.
LINKING = frozenset({EXACT, EDITED, SPUN, TRANSLATION})
LABELS = {
    EXACT: "exact copy",
    EDITED: "edited copy",
    SPUN: "spun rewrite",
    TRANSLATION: "translation",
    SAME_EVENT: "same event (not a copy)",
    UNDECIDABLE: "cannot decide",
    UNRELATED: "unrelated",
}

#: Character-shingle Jaccard (estimated from sketches, exact from texts) of an edited copy.
EDITED_JACCARD = 0.6
#: Share of the smaller text's shingles found in the other: a text quoted inside another.
EDITED_CONTAINMENT = 0.85
#: In-order sentence alignment score (both directions) and share of the shorter text's
#: sentences aligned, for a spun rewrite.
SPUN_SCORE = 0.45
SPUN_COVERAGE = 0.5
#: Anchor similarity of a translation (anchors.similarity).
TRANSLATION_ANCHORS = 0.6
#: Cosine of a configured multilingual model's text vectors for a translation.
TRANSLATION_COSINE = 0.8
#: Shared anchor weight (numbers, dates, links, tags, names) that makes two different texts
#: reports of the same event.
SAME_EVENT_WEIGHT = 3.0
MISSING_MODEL = "multilingual model (setting TAKEDOWN_TEXT_ENCODER_PATH)"


@dataclass(frozen=True)
class TextProfile:
    """What a decision needs to know about one text (any field may be missing)."""

    language: str = UNDETERMINED
    sha256: str | None = None
    paragraphs: frozenset[str] = frozenset()
    minhash: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]] | None = None
    #: Exact shingle set (only when the text itself is at hand).
    shingles: npt.NDArray[np.uint32] | None = None
    spin: spin.SentenceSketch | None = None
    anchors: anchors.Anchors | None = None
    #: Unit vector of a configured multilingual model (None without one).
    embedding: npt.NDArray[np.float32] | None = None
    #: Display sentences (only when the text is at hand), to quote aligned pairs.
    sentences: tuple[str, ...] = ()
    #: Where the profile came from ("text", "stored content", "bank entry").
    source: str = "text"


@dataclass
class Decision:
    relation: str
    reason: str
    scores: dict[str, float] = field(default_factory=dict)
    #: Sentence pairs aligned in order: (sentence of a, sentence of b, pair score).
    aligned: list[tuple[int, int, float]] = field(default_factory=list)
    shared_anchors: list[str] = field(default_factory=list)
    #: Evidence that was missing and would have let the decision go further.
    missing: list[str] = field(default_factory=list)

    @property
    def linking(self) -> bool:
        return self.relation in LINKING

    @property
    def label(self) -> str:
        return LABELS[self.relation]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "text",
            "relation": self.relation,
            "label": self.label,
            "links": self.linking,
            "reason": self.reason,
            "scores": {k: round(v, 3) for k, v in self.scores.items()},
            "aligned": [[i, j, round(s, 3)] for i, j, s in self.aligned],
            "shared_anchors": self.shared_anchors[:32],
            "missing": self.missing,
        }


def profile_from_text(
    text: str, *, embedding: npt.NDArray[np.float32] | None = None
) -> TextProfile:
    """Every layer of ``text`` (what the signal types would store, plus exact shingles)."""
    norm = analyse(text)
    sig = minhash.sketch(norm.text)
    facts = np.asarray(minhash.fact_hashes(anchors.facts(text)), dtype=np.uint32)
    try:
        sketch: spin.SentenceSketch | None = spin.sketch(text)
    except spin.EmbeddingUnavailable:
        sketch = None
    return TextProfile(
        language=identify(text).code,
        sha256=norm.sha256,
        paragraphs=frozenset(norm.paragraph_sha256),
        minhash=(sig, facts),
        shingles=minhash.shingle_set(norm.text),
        spin=sketch,
        anchors=anchors.extract(text),
        embedding=embedding,
        sentences=tuple(spin.sentences(text)[: spin.MAX_SENTENCES]),
    )


def profile_from_values(
    values: Mapping[str, str],
    *,
    paragraphs: Sequence[str] = (),
    language: str | None = None,
    embedding_type: str | None = None,
    source: str = "stored content",
) -> TextProfile:
    """A profile from stored signal values (signal type -> primary value); malformed or
    missing values leave their field empty."""
    from takedown.text import encoder

    def parsed(name: str, parse: Any) -> Any:
        value = values.get(name)
        if not value:
            return None
        try:
            return parse(value)
        except ValueError:
            return None

    emb = parsed(embedding_type, encoder.parse) if embedding_type else None
    found = parsed("text_anchors", anchors.parse)
    return TextProfile(
        language=language or (found.language if found is not None else "") or UNDETERMINED,
        sha256=values.get("text_exact") or None,
        paragraphs=frozenset(paragraphs),
        minhash=parsed("text_minhash", minhash.decode),
        spin=parsed("text_spin", spin.parse),
        anchors=found,
        embedding=emb,
        source=source,
    )


def _lexical(a: TextProfile, b: TextProfile, scores: dict[str, float]) -> Decision | None:
    if a.sha256 and a.sha256 == b.sha256:
        scores["jaccard"] = 1.0
        return Decision(EXACT, "identical after normalisation", scores)
    quoted = a.paragraphs & b.paragraphs
    if quoted:
        scores["shared_paragraphs"] = float(len(quoted))
        return Decision(EDITED, f"{len(quoted)} paragraph(s) identical after normalisation", scores)
    if a.minhash is None or b.minhash is None:
        return None
    conflict = minhash.facts_conflict(a.minhash[1], b.minhash[1])
    if a.shingles is not None and b.shingles is not None:
        jac = minhash.jaccard(a.shingles, b.shingles)
        cont = minhash.containment(a.shingles, b.shingles)
        scores["jaccard"], scores["containment"] = jac, cont
    else:
        jac = minhash.estimate(a.minhash[0], b.minhash[0])
        cont = 0.0
        scores["jaccard_estimate"] = jac
    if conflict:
        scores["facts_conflict"] = 1.0
        return None
    if jac >= EDITED_JACCARD:
        return Decision(EDITED, f"same wording with edits (shingle Jaccard {jac:.2f})", scores)
    if cont >= EDITED_CONTAINMENT:
        return Decision(EDITED, f"{cont:.0%} of the shorter text appears in the other", scores)
    return None


def _alignment(a: TextProfile, b: TextProfile, scores: dict[str, float]) -> list[Any]:
    if a.spin is None or b.spin is None or not len(a.spin) or not len(b.spin):
        return []
    forward, backward = spin.align(a.spin, b.spin), spin.align(b.spin, a.spin)
    scores["alignment"] = min(forward.score, backward.score)
    scores["aligned_share"] = len(forward.pairs) / min(len(a.spin), len(b.spin))
    return forward.pairs


def _languages_differ(a: TextProfile, b: TextProfile) -> bool | None:
    """True/False when both languages are known, None when either is not."""
    if UNDETERMINED in (a.language, b.language):
        return None
    return a.language != b.language


def decide(a: TextProfile, b: TextProfile) -> Decision:
    """How ``b`` relates to ``a``: one relation, its reason and the evidence."""
    scores: dict[str, float] = {}
    found = _lexical(a, b, scores)
    if found is not None:
        return found
    pairs = _alignment(a, b, scores)
    anchor = None
    shared: list[str] = []
    if a.anchors is not None and b.anchors is not None:
        anchor = anchors.similarity(a.anchors, b.anchors)
        scores["anchors"] = anchor.score
        shared = anchor.shared
        scores["shared_anchor_weight"] = _shared_weight(a.anchors, b.anchors, anchor.shared)
    differ = _languages_differ(a, b)
    conflict = bool(scores.get("facts_conflict"))

    def made(relation: str, reason: str, missing: list[str] | None = None) -> Decision:
        return Decision(relation, reason, scores, list(pairs), shared, missing or [])

    if differ is not True and "alignment" in scores and not conflict:
        score, share = scores["alignment"], scores["aligned_share"]
        if score >= SPUN_SCORE and share >= SPUN_COVERAGE:
            return made(
                SPUN,
                f"{len(pairs)} sentence pair(s) align in order ({share:.0%} of the shorter "
                f"text; alignment {score:.2f})",
            )
    if differ is not False:
        ea, eb = a.embedding, b.embedding
        if ea is not None and eb is not None and ea.shape == eb.shape:
            cosine = float(ea @ eb)
            scores["model_cosine"] = cosine
            if cosine >= TRANSLATION_COSINE:
                return made(TRANSLATION, f"multilingual model: cosine {cosine:.2f}")
        if anchor is not None and anchor.score >= TRANSLATION_ANCHORS:
            return made(
                TRANSLATION,
                f"same anchors in the same order ({len(shared)} shared; score "
                f"{anchor.score:.2f})"
                + ("" if differ else "; languages not known: judged by anchors alone"),
            )
    if scores.get("shared_anchor_weight", 0.0) >= SAME_EVENT_WEIGHT:
        if differ is not False and "model_cosine" not in scores:
            return made(
                UNDECIDABLE,
                f"shares {len(shared)} name(s), number(s), date(s) or link(s) across "
                "languages: a translation or a report of the same event; anchors alone "
                "cannot tell, and no multilingual model is configured",
                [MISSING_MODEL],
            )
        return made(
            SAME_EVENT,
            f"different texts sharing {len(shared)} name(s), number(s), date(s) or link(s)",
        )
    if differ is not False and "model_cosine" not in scores:
        poor = anchor is None or min(anchor.weight_a, anchor.weight_b) < anchors.MIN_WEIGHT
        if poor:
            return made(
                UNDECIDABLE,
                "too few anchors to judge a translation, and no multilingual model is configured",
                [MISSING_MODEL],
            )
    return made(UNRELATED, _unrelated_reason(scores, differ))


def _shared_weight(a: anchors.Anchors, b: anchors.Anchors, shared: Sequence[str]) -> float:
    total = 0.0
    for key in shared:
        if key.startswith("name:"):
            total += anchors.WEIGHTS["name"]
        else:
            total += min(a.strong.get(key, 0.0), b.strong.get(key, 0.0))
    return total


def _unrelated_reason(scores: Mapping[str, float], differ: bool | None) -> str:
    parts = []
    if "jaccard" in scores or "jaccard_estimate" in scores:
        jac = scores.get("jaccard", scores.get("jaccard_estimate", 0.0))
        parts.append(f"shingle Jaccard {jac:.2f}")
    if "alignment" in scores:
        parts.append(f"alignment {scores['alignment']:.2f}")
    if "anchors" in scores:
        parts.append(f"anchors {scores['anchors']:.2f}")
    if "model_cosine" in scores:
        parts.append(f"model cosine {scores['model_cosine']:.2f}")
    if scores.get("facts_conflict"):
        parts.append("their numbers, dates or links differ")
    where = "different languages; " if differ else ""
    return where + (", ".join(parts) if parts else "no shared evidence")


def quoted_pairs(decision: Decision, a: TextProfile, b: TextProfile) -> list[dict[str, Any]]:
    """The aligned sentence pairs with their text, when both texts are at hand."""
    return [
        {"a": a.sentences[i], "b": b.sentences[j], "score": round(s, 3)}
        for i, j, s in decision.aligned
        if i < len(a.sentences) and j < len(b.sentences)
    ]


def query_notes(profile: TextProfile) -> list[str]:
    """What a lookup of this text cannot find, said rather than left out."""
    notes = []
    if profile.embedding is None and (
        profile.anchors is None or profile.anchors.weight < anchors.MIN_WEIGHT
    ):
        notes.append(
            "translations: undecidable - too few anchors to judge a translation, and no "
            "multilingual model is configured (TAKEDOWN_TEXT_ENCODER_PATH)"
        )
    return notes


def evidence_line(evidence: Mapping[str, Any]) -> str:
    """One line for a decision's stored evidence (``Decision.to_dict``), as every face shows
    it: the relation, why, how many sentences align and which anchors are shared."""
    relation = str(evidence.get("relation", UNRELATED))
    text = f"{LABELS.get(relation, relation)}: {evidence.get('reason', '')}"
    aligned = evidence.get("aligned") or []
    if aligned and relation in (SPUN, SAME_EVENT, UNDECIDABLE, UNRELATED):
        text += f"; {len(aligned)} sentence pair(s) aligned"
    shared = evidence.get("shared_anchors") or []
    if shared and relation != SPUN:
        text += f"; {len(shared)} shared anchor(s)"
    missing = evidence.get("missing") or []
    if missing:
        text += f"; would need: {', '.join(str(m) for m in missing)}"
    if not evidence.get("links", relation in LINKING):
        text += " (not linked)"
    return text
