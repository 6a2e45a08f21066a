"""Text hits judged by the one text decision (``takedown.text.relation.decide``).

The text signal types find candidates (MinHash, sentence alignment, anchors, a configured
multilingual model); each candidate is then judged on *all* the text evidence of both sides:
the query's values and the stored values of the earlier content (or the bank entry's one
value). The decision goes into the hit's evidence (stored in ``match.evidence``, returned by
lookups and the API, shown in the workspace), and a hit on earlier content whose relation
does not link (same event, undecidable, unrelated), or a bank hit judged a report of the same
event, gets the state ``related``: recorded and shown, never merged into a cluster and never
making content "known".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.signals.base import SignalType
from takedown.store.models import BankEntry, Sighting, Signal
from takedown.text import relation as rel
from takedown.text.encoder import EncoderSignal

if TYPE_CHECKING:
    from takedown.matching.matcher import Hit

#: State of a match whose relation does not link (kept for the analyst, never acted on).
RELATED = "related"


def text_types(types: Mapping[str, SignalType]) -> set[str]:
    return {name for name, kind in types.items() if kind.content_kinds == frozenset({"text"})}


def _embedding_type(types: Mapping[str, SignalType]) -> str | None:
    names = sorted(n for n, kind in types.items() if isinstance(kind, EncoderSignal))
    return names[0] if names else None


def profile_of_values(
    values: Mapping[str, Sequence[str]],
    types: Mapping[str, SignalType],
    *,
    language: str | None,
    paragraphs: Sequence[str] = (),
    source: str = "text",
) -> rel.TextProfile:
    """A profile from values grouped by signal type (the primary value first)."""
    primary = {name: vals[0] for name, vals in values.items() if vals}
    return rel.profile_from_values(
        primary,
        paragraphs=paragraphs,
        language=language,
        embedding_type=_embedding_type(types),
        source=source,
    )


def content_profiles(
    session: Session, content_ids: Iterable[int], types: Mapping[str, SignalType]
) -> dict[int, rel.TextProfile]:
    """Profiles of stored content from its text signals and its sightings' language."""
    ids = sorted(set(content_ids))
    if not ids:
        return {}
    values: dict[int, dict[str, list[str]]] = defaultdict(dict)
    paragraphs: dict[int, list[str]] = defaultdict(list)
    for cid, kind, variant, value in session.execute(
        select(Signal.content_id, Signal.signal_type, Signal.variant, Signal.value)
        .where(Signal.content_id.in_(ids), Signal.signal_type.in_(sorted(text_types(types))))
        .order_by(Signal.id)
    ):
        if variant == "":
            values[cid].setdefault(kind, []).insert(0, value)
        elif kind == "text_exact":
            paragraphs[cid].append(value)
    languages: dict[int, str] = {}
    for owner, language in session.execute(
        select(Sighting.content_id, Sighting.language).where(
            Sighting.content_id.in_(ids), Sighting.language.is_not(None)
        )
    ):
        if owner is not None and language:
            languages.setdefault(owner, language)
    return {
        cid: profile_of_values(
            values.get(cid, {}),
            types,
            language=_own_language(values.get(cid, {})) or languages.get(cid),
            paragraphs=paragraphs.get(cid, []),
            source="stored content",
        )
        for cid in ids
    }


def _own_language(values: Mapping[str, Sequence[str]]) -> str | None:
    """The language stored in a text's anchors value (detected when it was hashed)."""
    from takedown.text import anchors

    for value in values.get("text_anchors", [])[:1]:
        try:
            return anchors.parse(value).language or None
        except ValueError:
            return None
    return None


def entry_profiles(
    session: Session, entry_ids: Iterable[int], types: Mapping[str, SignalType]
) -> dict[int, rel.TextProfile]:
    """Profiles of bank entries: one value each, and a language when the labels give one."""
    ids = sorted(set(entry_ids))
    out: dict[int, rel.TextProfile] = {}
    if not ids:
        return out
    for eid, kind, value, labels in session.execute(
        select(BankEntry.id, BankEntry.signal_type, BankEntry.value, BankEntry.labels).where(
            BankEntry.id.in_(ids)
        )
    ):
        found = labels or {}
        language = found.get("language") or found.get("lang")
        out[eid] = profile_of_values(
            {kind: [value]},
            types,
            language=str(language) if isinstance(language, str) else None,
            source="bank entry",
        )
    return out


def hit_evidence(
    decision: rel.Decision, *, bank: bool, signal_type: str
) -> tuple[dict[str, Any], bool]:
    """(evidence to store, whether the hit is demoted to ``related``). Stored content has
    all its text values: a decision that does not link demotes the hit. A bank entry holds
    one value: its bank's threshold stands unless the decision found positive evidence of a
    different text (a report of the same event)."""
    evidence = decision.to_dict()
    demote = not decision.linking and (not bank or decision.relation == rel.SAME_EVENT)
    if not decision.linking and not demote:
        evidence["links"] = True
        evidence["reason"] += (
            f"; the bank entry holds only a {signal_type} value: it matched within the "
            "bank's threshold"
        )
    return evidence, demote


def judge(
    session: Session,
    query: rel.TextProfile,
    hits: Sequence[Hit],
    types: Mapping[str, SignalType],
) -> list[Hit]:
    """The hits with each text hit's decision in its evidence; non-linking ones ``related``."""
    names = text_types(types)
    mine = [h for h in hits if h.signal_type in names]
    if not mine:
        return list(hits)
    contents = content_profiles(
        session, [h.other_content_id for h in mine if h.other_content_id is not None], types
    )
    entries = entry_profiles(
        session, [h.bank_entry_id for h in mine if h.bank_entry_id is not None], types
    )
    decided: dict[tuple[str, int], rel.Decision] = {}
    out: list[Hit] = []
    for hit in hits:
        if hit.signal_type not in names:
            out.append(hit)
            continue
        if hit.other_content_id is not None:
            key, target = ("c", hit.other_content_id), contents.get(hit.other_content_id)
        elif hit.bank_entry_id is not None:
            key, target = ("e", hit.bank_entry_id), entries.get(hit.bank_entry_id)
        else:
            out.append(hit)
            continue
        if target is None:
            out.append(hit)
            continue
        if key not in decided:
            decided[key] = rel.decide(query, target)
        evidence, demote = hit_evidence(
            decided[key], bank=hit.other_content_id is None, signal_type=hit.signal_type
        )
        state = RELATED if demote and hit.state == "active" else hit.state
        out.append(replace(hit, evidence=evidence, state=state))
    return out


def judge_content_hits(
    session: Session, content_id: int, hits: Sequence[Hit], types: Mapping[str, SignalType]
) -> list[Hit]:
    """:func:`judge` for stored content (its own stored values are the query)."""
    if not any(h.signal_type in text_types(types) for h in hits):
        return list(hits)
    query = content_profiles(session, [content_id], types)[content_id]
    return judge(session, query, hits, types)


def relation_of(evidence: Any) -> str | None:
    """The relation a stored match's evidence names (None for non-text evidence)."""
    if isinstance(evidence, dict) and evidence.get("method") == "text":
        found = evidence.get("relation")
        return found if isinstance(found, str) else None
    return None


def judge_results(
    app: Any,
    grouped: Mapping[str, Sequence[str]],
    results: Sequence[Any],
    *,
    language: str | None,
) -> list[str]:
    """Lookups (``takedown match``, the API): each text hit of ``results`` gets the decision
    in its evidence (as :func:`judge` stores it for matches). Returns what this text cannot
    be judged on (e.g. translations of an anchor-poor text without a model)."""
    from takedown.plugins import signal_types

    types = signal_types()
    names = text_types(types)
    exact = list(grouped.get("text_exact", []))
    query = profile_of_values(
        {k: v for k, v in grouped.items() if k in names},
        types,
        language=language,
        paragraphs=exact[1:],
        source="query",
    )
    mine = [r for r in results if r.signal_type in names]
    content_ids = {h.content_id for r in mine for h in r.content_hits}
    entry_ids = {h.entry_id for r in mine for h in r.bank_hits}
    with app.db.session() as session:
        contents = content_profiles(session, content_ids, types)
        entries = entry_profiles(session, entry_ids, types)
    decided: dict[tuple[str, int], rel.Decision] = {}
    for result in mine:
        for ch in result.content_hits:
            key = ("content", ch.content_id)
            if key not in decided:
                decided[key] = rel.decide(query, contents[ch.content_id])
            ch.evidence = hit_evidence(decided[key], bank=False, signal_type=result.signal_type)[0]
        for bh in result.bank_hits:
            key = ("entry", bh.entry_id)
            if key not in decided:
                decided[key] = rel.decide(query, entries[bh.entry_id])
            bh.evidence = hit_evidence(decided[key], bank=True, signal_type=result.signal_type)[0]
    return rel.query_notes(query)
