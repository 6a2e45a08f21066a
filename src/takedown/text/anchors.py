"""Language-independent anchors: what survives translation.

Numbers (thousands separators of every convention removed), dates (numeric forms read as
ISO dates), URLs, handles, hashtags, emoji, scripture-style references ("2:255"), and names
reduced to a consonant skeleton of their Latin transliteration (Cyrillic and Arabic-script
names transliterated first), so that "Valdoria", "Вальдория" and "فالدوريا" agree.

Latin and Cyrillic names are capitalised words; Arabic script has no capitals, so every
Arabic-script word is a *weak* name that counts only when it meets a name of another text.

``similarity`` weighs shared anchors (a long number or a URL says more than a one-digit
number) and compares structure (sentence counts). Texts with too little anchor weight never
score: a short post without numbers or names cannot be linked to a translation this way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from takedown.text.normalise import normalise

# -- transliteration --------------------------------------------------------------------------
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "-",
            "y",
            "-",
            "e",
            "yu",
            "ya",
            "i",
            "yi",
            "ye",
            "g",
        ],
        strict=True,
    )
)
_ARABIC = {
    "ا": "a",
    "ب": "b",
    "پ": "p",
    "ت": "t",
    "ٹ": "t",
    "ث": "th",
    "ج": "j",
    "چ": "ch",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ڈ": "d",
    "ذ": "z",
    "ر": "r",
    "ڑ": "r",
    "ز": "z",
    "ژ": "zh",
    "س": "s",
    "ش": "sh",
    "ص": "s",
    "ض": "z",
    "ط": "t",
    "ظ": "z",
    "ع": "",
    "غ": "gh",
    "ف": "f",
    "ق": "q",
    "ك": "k",
    "گ": "g",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ں": "n",
    "و": "w",
    "ه": "h",
    "ي": "y",
    "ے": "e",
    "ء": "",
    "ټ": "t",
    "ډ": "d",
    "ړ": "r",
    "ږ": "zh",
    "ښ": "sh",
    "ځ": "dz",
    "څ": "ts",
    "ڼ": "n",
    "ګ": "g",
    "ڤ": "v",
}
_DIGRAPHS = (
    ("shch", "s"),
    ("kh", "k"),
    ("gh", "g"),
    ("sh", "s"),
    ("ch", "s"),
    ("zh", "s"),
    ("ts", "s"),
    ("dz", "s"),
    ("ph", "f"),
    ("th", "t"),
    ("ck", "k"),
)
_SKELETON = str.maketrans(
    {"v": "f", "p": "b", "q": "k", "c": "k", "x": "ks", "j": "g", "z": "s", "ß": "s"}
)
_DROP = set("aeiouywh-'")


def transliterate(word: str) -> str:
    """A rough Latin transliteration (Cyrillic, Arabic script), accents removed."""
    out = []
    for ch in word.lower():
        if ch in _CYRILLIC:
            out.append(_CYRILLIC[ch])
        elif ch in _ARABIC:
            out.append(_ARABIC[ch])
        else:
            out.append(ch)
    flat = unicodedata.normalize("NFKD", "".join(out))
    return "".join(ch for ch in flat if not unicodedata.combining(ch) and ch.isascii())


def skeleton(word: str) -> str:
    """Consonant skeleton of a name: transliterated, vowels and doubled letters dropped."""
    text = transliterate(word)
    for digraph, single in _DIGRAPHS:
        text = text.replace(digraph, single)
    text = text.translate(_SKELETON)
    out: list[str] = []
    for ch in text:
        if ch in _DROP or not ch.isalpha():
            continue
        if out and out[-1] == ch:
            continue
        out.append(ch)
    return "".join(out)


# -- extraction -------------------------------------------------------------------------------
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|info|io|me|ru|tr|de|fr|id|pk|af)"
    r"(?:/[^\s<>\"']*)?",
    re.I,
)
_HANDLE = re.compile(r"(?<![\w@])@[\w.]{2,}")
_TAG = re.compile(r"(?<![\w#])#\w{2,}")
_DATE_YMD = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_DATE_DMY = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4})\b")
_REF = re.compile(r"\b(\d{1,3}):(\d{1,3})\b")
_NUMBER = re.compile(r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?!\d)|\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.!?؟۔]+(?:\s|$)|\n+")

WEIGHTS = {
    "url": 3.0,
    "handle": 2.0,
    "tag": 2.0,
    "date": 2.0,
    "ref": 2.0,
    "emoji": 0.5,
    "name": 1.0,
    "num": 1.0,
}
#: Below this total anchor weight on either side, two texts are never linked by anchors.
MIN_WEIGHT = 4.0


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return unicodedata.category(ch) == "So" and (
        0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF
    )


def _number_weight(digits: str) -> float:
    if len(digits) >= 3:
        return 1.5
    return 0.75 if len(digits) == 2 else 0.25


def _valid_date(y: int, m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= 31 and 1000 <= y <= 2999


@dataclass(frozen=True)
class Anchors:
    """Anchors of one text: ``strong`` (kind:value -> weight), ``names`` and ``weak_names``
    (consonant skeletons), ``order`` (strong anchors in order of appearance), ``sentences``."""

    strong: dict[str, float] = field(default_factory=dict)
    names: frozenset[str] = frozenset()
    weak_names: frozenset[str] = frozenset()
    order: tuple[str, ...] = ()
    sentences: int = 0
    #: True when read from a serialised value: values are then 8-hex-digit hashes.
    hashed: bool = False
    #: The text's language code when known (stored with the value: a decision on stored
    #: texts needs to know whether two texts share a language), "" otherwise.
    language: str = ""

    @property
    def weight(self) -> float:
        return sum(self.strong.values()) + WEIGHTS["name"] * len(self.names)

    def keys(self) -> list[str]:
        """Every anchor as a string (strong anchors, then "name:" and "wname:" skeletons)."""
        return [
            *self.order,
            *(f"name:{n}" for n in sorted(self.names)),
            *(f"wname:{n}" for n in sorted(self.weak_names)),
        ]


def extract(text: str) -> Anchors:
    """The anchors of ``text`` (normalised here; pass display or normalised text)."""
    norm = normalise(text)
    strong: dict[str, float] = {}
    order: list[str] = []

    def add(kind: str, value: str, weight: float | None = None) -> None:
        key = f"{kind}:{value}"
        if key not in strong:
            order.append(key)
        strong[key] = max(strong.get(key, 0.0), WEIGHTS[kind] if weight is None else weight)

    rest = norm
    for match in _URL.finditer(rest):
        url = match.group(0).rstrip(".,;:!?)").lower()
        url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url).rstrip("/")
        add("url", url)
    rest = _URL.sub(" ", rest)
    for match in _HANDLE.finditer(rest):
        add("handle", match.group(0)[1:].rstrip("."))
    for match in _TAG.finditer(rest):
        add("tag", match.group(0)[1:])
    rest = _TAG.sub(" ", _HANDLE.sub(" ", rest))
    for match in _DATE_YMD.finditer(rest):
        y, m, d = (int(g) for g in match.groups())
        if _valid_date(y, m, d):
            add("date", f"{y:04d}-{m:02d}-{d:02d}")
    rest = _DATE_YMD.sub(" ", rest)
    for match in _DATE_DMY.finditer(rest):
        d, m, y = (int(g) for g in match.groups())
        if _valid_date(y, m, d):
            add("date", f"{y:04d}-{m:02d}-{d:02d}")
    rest = _DATE_DMY.sub(" ", rest)
    for match in _REF.finditer(rest):
        add("ref", f"{int(match.group(1))}:{int(match.group(2))}")
    rest = _REF.sub(" ", rest)
    for match in _NUMBER.finditer(rest):
        digits = re.sub(r"[.,\u00a0\u202f ](?=\d{3}(?!\d))", "", match.group(0))
        add("num", digits, _number_weight(digits.split(".")[0].split(",")[0]))
    for ch in norm:
        if _is_emoji(ch):
            add("emoji", f"{ord(ch):x}")
    names, weak = _names(text)
    sentences = len([s for s in _SENTENCE_END.split(norm) if s.strip()])
    return Anchors(strong, frozenset(names), frozenset(weak), tuple(order), sentences)


def facts(text: str) -> set[str]:
    """The dates, numbers, URLs, handles and hashtags of a text as anchor keys (cheap)."""
    norm = normalise(text)
    out: set[str] = set()
    if "/" in norm or "." in norm:
        for match in _URL.finditer(norm):
            url = match.group(0).rstrip(".,;:!?)").lower()
            out.add("url:" + re.sub(r"^(?:https?://)?(?:www\.)?", "", url).rstrip("/"))
    out.update("handle:" + m.group(0)[1:].rstrip(".") for m in _HANDLE.finditer(norm))
    out.update("tag:" + m.group(0)[1:] for m in _TAG.finditer(norm))
    rest = _TAG.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", norm)))
    if not any(ch.isdigit() for ch in rest):
        return out
    for pattern, order in ((_DATE_YMD, (0, 1, 2)), (_DATE_DMY, (2, 1, 0))):
        for match in pattern.finditer(rest):
            y, m, d = (int(match.group(i + 1)) for i in order)
            if _valid_date(y, m, d):
                out.add(f"date:{y:04d}-{m:02d}-{d:02d}")
        rest = pattern.sub(" ", rest)
    rest = _REF.sub(" ", rest)
    for match in _NUMBER.finditer(rest):
        out.add("num:" + re.sub(r"[.,\u00a0\u202f ](?=\d{3}(?!\d))", "", match.group(0)))
    return out


def _names(text: str) -> tuple[set[str], set[str]]:
    """(names, weak names): capitalised Latin/Cyrillic words not starting a sentence, and
    every Arabic-script word, as consonant skeletons of 3+ letters."""
    names: set[str] = set()
    weak: set[str] = set()
    display = unicodedata.normalize("NFKC", text)
    display = _TAG.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", display)))
    for sentence in _SENTENCE_END.split(display):
        for index, match in enumerate(_WORD.finditer(sentence)):
            word = match.group(0)
            if len(word) < 4:
                continue
            first = word[0]
            if "\u0600" <= first <= "\u06ff" or "\u0750" <= first <= "\u077f":
                folded = normalise(word)
                sk = skeleton(folded)
                if len(sk) >= 3:
                    weak.add(sk)
                    if folded.startswith("ال") and len(skeleton(folded[2:])) >= 3:
                        weak.add(skeleton(folded[2:]))
            elif first.isupper() and index > 0:
                sk = skeleton(word)
                if len(sk) >= 3:
                    names.add(sk)
    return names, weak


# -- comparison -------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnchorScore:
    score: float
    shared: list[str]
    weight_a: float
    weight_b: float


def similarity(a: Anchors, b: Anchors) -> AnchorScore:
    """Weighted overlap of two texts' anchors (0..1) times a structure factor.

    Strong anchors count in a weighted Jaccard. Names only ever add: a name of one text that
    meets a name (or an Arabic-script word) of the other adds to both the shared and the
    total weight, while unmatched "names" are ignored, because capitalised words are not
    always names (German capitalises every noun).
    """
    shared_strong = a.strong.keys() & b.strong.keys()
    shared_w = sum(min(a.strong[k], b.strong[k]) for k in shared_strong)
    union_w = sum(a.strong.values()) + sum(b.strong.values()) - shared_w
    name_hits = (a.names & (b.names | b.weak_names)) | (b.names & a.weak_names)
    bonus = WEIGHTS["name"] * len(name_hits)
    weight_a = sum(a.strong.values()) + bonus
    weight_b = sum(b.strong.values()) + bonus
    shared = sorted(shared_strong) + [f"name:{n}" for n in sorted(name_hits)]
    if min(weight_a, weight_b) < MIN_WEIGHT or union_w + bonus <= 0:
        return AnchorScore(0.0, shared, weight_a, weight_b)
    overlap = (shared_w + bonus) / (union_w + bonus)
    if a.sentences and b.sentences:
        structure = min(a.sentences, b.sentences) / max(a.sentences, b.sentences)
    else:
        structure = 0.0
    order = _order_agreement(a.order, b.order)
    return AnchorScore(overlap * (0.8 + 0.1 * structure + 0.1 * order), shared, weight_a, weight_b)


def _order_agreement(a: Iterable[str], b: Iterable[str]) -> float:
    """Share of shared strong anchors that appear in the same relative order (LCS)."""
    common = set(a) & set(b)
    seq_a = [x for x in a if x in common]
    seq_b = [x for x in b if x in common]
    if not seq_a:
        return 0.0
    prev = [0] * (len(seq_b) + 1)
    for x in seq_a:
        cur = [0]
        for j, y in enumerate(seq_b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1] / len(seq_a)


# -- serialised form --------------------------------------------------------------------------
PREFIX = "an1:"
MAX_RECORDS = 256
_KINDS = ("url", "handle", "tag", "date", "ref", "emoji", "num", "name", "wname", "lang")
_HEADER = struct.Struct("<H")
_REC = struct.Struct("<BBI")


def _h32(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "little")


def _digest(anchors: Anchors, value: str) -> int:
    return int(value, 16) if anchors.hashed else _h32(value)


def serialise(anchors: Anchors) -> str:
    """``"an1:"`` + URL-safe base64 of a uint16 sentence count and up to ``MAX_RECORDS``
    records (uint8 kind, uint8 weight x 4, uint32 hash of the value), strong anchors in order
    of appearance first, then names and weak names (sorted)."""
    records = []
    code = anchors.language.encode("ascii", "ignore")[:4]
    if code.isalpha() and anchors.language != "und":  # first: truncation never drops it
        records.append(
            _REC.pack(_KINDS.index("lang"), 0, int.from_bytes(code.ljust(4, b"\0"), "little"))
        )
    for key in anchors.order:
        kind, _, value = key.partition(":")
        records.append(
            _REC.pack(_KINDS.index(kind), round(anchors.strong[key] * 4), _digest(anchors, value))
        )
    # wrong weights are clipped to the uint8 range; names are sorted for a canonical form
    for kind, names in (("name", anchors.names), ("wname", anchors.weak_names)):
        for name in sorted(names):
            records.append(_REC.pack(_KINDS.index(kind), 4, _digest(anchors, name)))
    payload = _HEADER.pack(min(anchors.sentences, 65535)) + b"".join(records[:MAX_RECORDS])
    return PREFIX + base64.urlsafe_b64encode(payload).decode("ascii")


def parse(value: str) -> Anchors:
    """Anchors from their serialised form (values hashed; ``ValueError`` when malformed)."""
    text = value.strip()
    if not text.startswith(PREFIX):
        raise ValueError(f"anchor value must start with {PREFIX!r}")
    try:
        raw = base64.urlsafe_b64decode(text[len(PREFIX) :].encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"anchor value is not valid base64: {exc}") from exc
    body = raw[_HEADER.size :]
    if len(raw) < _HEADER.size or len(body) % _REC.size or len(body) // _REC.size > MAX_RECORDS:
        raise ValueError("anchor value has the wrong length")
    (sentences,) = _HEADER.unpack(raw[: _HEADER.size])
    strong: dict[str, float] = {}
    order: list[str] = []
    names: set[str] = set()
    weak: set[str] = set()
    language = ""
    for kind_code, weight, digest in _REC.iter_unpack(body):
        if kind_code >= len(_KINDS):
            raise ValueError(f"unknown anchor kind {kind_code}")
        kind = _KINDS[kind_code]
        if kind == "lang":
            code = digest.to_bytes(4, "little").rstrip(b"\0")
            if not code.isascii() or not code.isalpha():
                raise ValueError("anchor value has a malformed language record")
            language = code.decode("ascii")
        elif kind == "name":
            names.add(f"{digest:08x}")
        elif kind == "wname":
            weak.add(f"{digest:08x}")
        else:
            key = f"{kind}:{digest:08x}"
            if key not in strong:
                order.append(key)
            strong[key] = weight / 4
    return Anchors(
        strong, frozenset(names), frozenset(weak), tuple(order), sentences, True, language
    )
