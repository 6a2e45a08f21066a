"""Synthetic, neutral labelled texts in nine languages for tests and benchmarks.

Invented statements about a fictional flood (places, people, numbers, dates, tags and URLs
are made up) in ar, en, fr, de, ru, tr, ur, id, ps, with the kinds of copies text matching
must link or keep apart: exact copies, small edits, spun rewrites (synonym swaps, order and
facts kept), translations (parallel templates, each language's own date and number style),
different statements about the same event (same place, date and mayor, other figures and
sentences) and unrelated bulletins. Deterministic from a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from takedown.text.synthetic_vocab import BULLETIN, FLOOD, OUTLETS, PEOPLE, PLACES, SYNONYMS

LANGUAGES = ("ar", "en", "fr", "de", "ru", "tr", "ur", "id", "ps")
_ARABIC_SCRIPT = ("ar", "ur", "ps")

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_EXTENDED_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х"}


@dataclass(frozen=True)
class Facts:
    """One statement's content: which sentence types in which order, and slot values."""

    sentences: tuple[int, ...]
    place: int
    person: int
    date: tuple[int, int, int]
    numbers: dict[str, int] = field(default_factory=dict)
    url: str = ""
    tag: str = ""


def random_facts(
    rng: random.Random,
    *,
    place: int | None = None,
    person: int | None = None,
    date: tuple[int, int, int] | None = None,
) -> Facts:
    types = [0, *sorted(rng.sample(range(1, 8), rng.randint(4, 6)))]
    slug = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
    return Facts(
        tuple(types),
        rng.randrange(len(PLACES)) if place is None else place,
        rng.randrange(len(PEOPLE)) if person is None else person,
        date or (2026, rng.randint(1, 12), rng.randint(1, 28)),
        {
            "n1": rng.randint(120, 4800),
            "n2": rng.randint(30, 900),
            "n3": rng.randint(40, 260),
            "k": rng.randint(2, 14),
            "n4": rng.randint(200, 9000),
        },
        f"https://{slug}.example.org/flood/{rng.randint(10, 999)}",
        f"#Flood{slug.capitalize()}{rng.randint(1, 99)}",
    )


def _name(table: tuple[tuple[str, str, str], ...], index: int, language: str) -> str:
    latin, cyrillic, arabic = table[index]
    return arabic if language in _ARABIC_SCRIPT else cyrillic if language == "ru" else latin


def _number(value: int, language: str) -> str:
    if value < 1000:
        text = str(value)
    elif language in ("en", "id") or language in _ARABIC_SCRIPT:
        text = f"{value:,}"
    elif language in ("de", "tr"):
        text = f"{value:,}".replace(",", ".")
    else:
        text = f"{value:,}".replace(",", "\u202f" if language == "fr" else " ")
    if language == "ar" or language == "ps":
        return text.replace(",", "٬").translate(_ARABIC_INDIC)
    if language == "ur":
        return text.translate(_EXTENDED_INDIC)
    return text


def _date(date: tuple[int, int, int], language: str) -> str:
    y, m, d = date
    if language in ("de", "ru", "tr"):
        return f"{d:02d}.{m:02d}.{y}"
    if language == "fr":
        return f"{d:02d}/{m:02d}/{y}"
    iso = f"{y}-{m:02d}-{d:02d}"
    if language in ("ar", "ps"):
        return iso.translate(_ARABIC_INDIC)
    return iso.translate(_EXTENDED_INDIC) if language == "ur" else iso


def render(facts: Facts, language: str) -> str:
    """The statement of ``facts`` in ``language``."""
    slots = {
        "place": _name(PLACES, facts.place, language),
        "person": _name(PEOPLE, facts.person, language),
        "date": _date(facts.date, language),
        "url": facts.url,
        "tag": facts.tag,
        **{k: _number(v, language) for k, v in facts.numbers.items()},
    }
    return " ".join(FLOOD[language][i].format(**slots) for i in facts.sentences)


def spin(rng: random.Random, text: str, language: str, rate: float = 0.85) -> str:
    """An article-spinner rewrite: most words with a synonym swapped in."""
    table = SYNONYMS[language]
    out = []
    for token in text.split(" "):
        core = token.strip(".,;:!?،۔")
        lower = core.lower()
        if lower in table and rng.random() < rate:
            choice = rng.choice(table[lower])
            if core[:1].isupper():
                choice = choice[:1].upper() + choice[1:]
            token = token.replace(core, choice, 1)
        out.append(token)
    return " ".join(out)


def small_edit(rng: random.Random, text: str) -> tuple[str, str]:
    """A light or adversarial edit: typos, a dropped sentence, homoglyphs, zero-width
    characters, a repost prefix or an appended emoji line. Returns (text, kind)."""
    kind = rng.choice(("typos", "dropped_sentence", "homoglyphs", "zero_width", "repost"))
    chars = list(text)
    if kind == "typos":
        for _ in range(3):
            i = rng.randrange(1, max(2, len(chars) - 2))
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        return "".join(chars), kind
    if kind == "dropped_sentence":
        parts = text.replace("۔ ", "۔|").replace(". ", ".|").split("|")
        if len(parts) > 2:
            parts.pop(rng.randrange(1, len(parts)))
        return " ".join(parts), kind
    if kind == "homoglyphs":
        return "".join(_HOMOGLYPHS.get(c, c) if rng.random() < 0.3 else c for c in text), kind
    if kind == "zero_width":
        return "".join(c + ("\u200b" if rng.random() < 0.2 else "") for c in text), kind
    return "Repost 🔁 " + text + " 🙏", kind


def bulletin(rng: random.Random, language: str) -> str:
    return BULLETIN[language].format(
        outlet=rng.choice(OUTLETS), n=_number(rng.randint(1, 400), language)
    )


@dataclass(frozen=True)
class Item:
    id: int
    language: str
    kind: str  # original, exact, edit, spun, translation, same_topic, unrelated
    text: str
    source: int | None  # the original this is a copy / rewrite / translation of


def labelled_set(seed: int = 7, per_language: int = 20, *, all_pairs: bool = False) -> list[Item]:
    """Originals with every kind of copy and the hard negatives, in all nine languages.

    With ``all_pairs`` every original is translated into all eight other languages and a
    different statement about the same event is written in each of them too
    ("same_topic_translated"), so that translation can be measured per language pair.
    """
    rng = random.Random(seed)
    items: list[Item] = []

    def add(language: str, kind: str, text: str, source: int | None) -> int:
        items.append(Item(len(items), language, kind, text, source))
        return len(items) - 1

    for language in LANGUAGES:
        for _ in range(per_language):
            facts = random_facts(rng)
            text = render(facts, language)
            original = add(language, "original", text, None)
            add(language, "exact", text, original)
            edited, _kind = small_edit(rng, text)
            add(language, "edit", edited, original)
            add(language, "spun", spin(rng, text, language), original)
            others = [x for x in LANGUAGES if x != language]
            targets = others if all_pairs else [rng.choice(others)]
            for other in targets:
                add(other, "translation", render(facts, other), original)
            # a different statement about the same event: same place, date and mayor, written
            # in other words too, so its vocabulary is as close as the spun copy's
            different = random_facts(rng, place=facts.place, person=facts.person, date=facts.date)
            add(language, "same_topic", spin(rng, render(different, language), language), original)
            if all_pairs:
                for other in others:
                    add(other, "same_topic_translated", render(different, other), original)
            add(language, "unrelated", bulletin(rng, language), original)
    return items
