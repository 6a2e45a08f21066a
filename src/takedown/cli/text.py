"""Commands of the text feature: normalise, langid, compare (nothing is stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from takedown.cli.output import console, fail, json_option, print_json
from takedown.text.decode import DecodedText, NotText, decode_bytes

# The text modules (normalise, anchors, minhash, relation, spin, langid) import numba and
# NumPy: each command imports what it uses, so ``takedown text --help`` starts fast.


def _load(source: str, is_file: bool) -> DecodedText:
    if not is_file:
        return DecodedText(source, "argument")
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"{source}: {exc.strerror or exc}") from exc
    try:
        return decode_bytes(data)
    except NotText as exc:
        raise fail(f"{source}: {exc}") from exc


def _inputs(texts: tuple[str, ...], files: tuple[str, ...]) -> list[tuple[str, DecodedText]]:
    out = [(f"text {i + 1}", _load(t, False)) for i, t in enumerate(texts)]
    out += [(f, _load(f, True)) for f in files]
    if not out:
        raise fail("give TEXT arguments or --file PATH")
    return out


_file_option = click.option(
    "--file", "files", multiple=True, type=click.Path(dir_okay=False), help="Read a text file."
)


@click.group("text")
def text_group() -> None:
    """Text matching tools: normalisation, language, comparison (nothing is stored)."""


@text_group.command("normalise")
@click.argument("texts", nargs=-1)
@_file_option
@json_option
def normalise_cmd(texts: tuple[str, ...], files: tuple[str, ...], as_json: bool) -> None:
    """The matching form of texts, with whole-text and per-paragraph SHA-256."""
    from takedown.text.normalise import analyse

    out: list[dict[str, Any]] = []
    for name, decoded in _inputs(texts, files):
        norm = analyse(decoded.text)
        out.append(
            {
                "input": name,
                "encoding": decoded.encoding,
                "normalised": norm.text,
                "sha256": norm.sha256,
                "paragraph_sha256": norm.paragraph_sha256,
                "words": norm.words,
                "marks": [*decoded.marks, *norm.marks],
            }
        )
    if as_json:
        print_json({"texts": out})
        return
    for item in out:
        console.print(f"[bold]{item['input']}[/bold]  sha256 {item['sha256']}", highlight=False)
        console.print(item["normalised"], markup=False)
        for mark in item["marks"]:
            console.print(f"  mark: {mark}", markup=False)


@text_group.command("langid")
@click.argument("texts", nargs=-1)
@_file_option
@json_option
def langid_cmd(texts: tuple[str, ...], files: tuple[str, ...], as_json: bool) -> None:
    """Language of texts (offline, py3langid); "und" when undetermined."""
    from takedown.text.langid import identify

    out = []
    for name, decoded in _inputs(texts, files):
        found = identify(decoded.text)
        out.append({"input": name, "language": found.code, "confidence": found.confidence})
    if as_json:
        print_json({"texts": out})
        return
    for item in out:
        console.print(f"{item['input']}: {item['language']} ({item['confidence']:.2f})")


def _embedding(text: str) -> Any:
    """The configured multilingual model's vector of ``text`` (None without a model)."""
    from takedown.plugins import signal_types
    from takedown.signals.base import UnhashableContent
    from takedown.text.encoder import EncoderSignal

    for kind in sorted(signal_types().values(), key=lambda k: k.name):
        if isinstance(kind, EncoderSignal):
            try:
                return kind.embed(text)
            except UnhashableContent:
                return None
    return None


def compare_texts(a: str, b: str) -> dict[str, Any]:
    """How ``b`` relates to ``a``: the one decision every face shows (``text.relation``), with
    its evidence quoted (aligned sentences, shared anchors) and each layer's own score."""
    from takedown.text import anchors, minhash, relation
    from takedown.text.normalise import analyse

    pa = relation.profile_from_text(a, embedding=_embedding(a))
    pb = relation.profile_from_text(b, embedding=_embedding(b))
    decision = relation.decide(pa, pb)
    anchor = anchors.similarity(anchors.extract(a), anchors.extract(b))
    sketches = (minhash.sketch(analyse(a).text), minhash.sketch(analyse(b).text))
    out = decision.to_dict()
    out.pop("method")
    out["aligned"] = relation.quoted_pairs(decision, pa, pb)
    out["shared_anchors"] = anchor.shared
    out["languages"] = [pa.language, pb.language]
    out["layers"] = {
        "minhash": {
            "estimate": round(minhash.estimate(*sketches), 3),
            "jaccard": round(decision.scores.get("jaccard", 0.0), 3),
            "containment": round(decision.scores.get("containment", 0.0), 3),
        },
        "spin": {"score": round(decision.scores.get("alignment", 0.0), 3)},
        "anchors": {
            "score": round(anchor.score, 3),
            "weights": [round(anchor.weight_a, 2), round(anchor.weight_b, 2)],
            "too_few": min(anchor.weight_a, anchor.weight_b) < anchors.MIN_WEIGHT,
        },
    }
    if "model_cosine" in decision.scores:
        out["layers"]["model"] = {"cosine": round(decision.scores["model_cosine"], 3)}
    return out


@text_group.command("compare")
@click.argument("texts", nargs=-1)
@_file_option
@json_option
def compare_cmd(texts: tuple[str, ...], files: tuple[str, ...], as_json: bool) -> None:
    """How two texts relate (arguments or --file): exact or edited copy, spun rewrite,
    translation, same event, unrelated, or why it cannot be decided; with the evidence."""
    inputs = _inputs(texts, files)
    if len(inputs) != 2:
        raise fail(f"compare needs exactly two texts, got {len(inputs)}")
    result = compare_texts(inputs[0][1].text, inputs[1][1].text)
    result["inputs"] = [name for name, _ in inputs]
    if as_json:
        print_json(result)
        return
    layers = result["layers"]
    console.print(f"languages: {result['languages'][0]} / {result['languages'][1]}")
    console.print(f"relation: {result['label']} - {result['reason']}", markup=False)
    if result["missing"]:
        console.print(f"  would need: {', '.join(result['missing'])}", markup=False)
    console.print(
        f"  shingles: Jaccard {layers['minhash']['jaccard']:.2f}, estimate "
        f"{layers['minhash']['estimate']:.2f}, containment {layers['minhash']['containment']:.2f}"
        f"; sentence alignment {layers['spin']['score']:.2f}; anchors "
        f"{layers['anchors']['score']:.2f}"
        + (" (too few anchors)" if layers["anchors"]["too_few"] else ""),
        markup=False,
    )
    for pair in result["aligned"]:
        console.print(f"    {pair['score']:.2f}  {pair['a']}  <->  {pair['b']}", markup=False)
    if result["shared_anchors"]:
        console.print(f"  shared anchors: {', '.join(result['shared_anchors'])}", markup=False)


def file_notes(path: Path) -> list[str]:
    """:func:`text_notes` of a text file (none when it cannot be read as text)."""
    try:
        return text_notes(decode_bytes(path.read_bytes()).text)
    except (OSError, NotText):
        return []


def text_notes(text: str) -> list[str]:
    """What a lookup of ``text`` cannot judge (e.g. translations of an anchor-poor text)."""
    from takedown.text import anchors, relation

    return relation.query_notes(
        relation.TextProfile(anchors=anchors.extract(text), embedding=_embedding(text))
    )


COMMANDS: list[click.Command] = [text_group]


def lookup_text(
    app: Any, text: str, *, banks: list[str] | None = None
) -> tuple[list[Any], dict[str, str]]:
    """Known material and earlier copies of a text given on the command line (``match
    --text``): the text signals of its UTF-8 bytes, looked up like a file's."""
    import io

    from takedown.matching.hashing import detected_language, hash_stream
    from takedown.matching.lookup import lookup
    from takedown.matching.matcher import Matcher
    from takedown.matching.text_relations import judge_results

    values, errors = hash_stream(io.BytesIO(text.encode("utf-8", "surrogatepass")), "text")
    grouped: dict[str, list[str]] = {}
    for value in sorted(values, key=lambda v: v.variant != ""):
        grouped.setdefault(value.signal_type, []).append(value.value)
    matcher = Matcher(app)
    results = [
        lookup(app, kind, vals, banks=banks, matcher=matcher) for kind, vals in grouped.items()
    ]
    judge_results(app, grouped, results, language=detected_language(values))
    return results, errors


def aligned_evidence(app: Any, text: str, results: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """For each earlier text a text hit found: the sentence pairs its decision aligned, quoted
    from ``text`` and from the stored text (read from the evidence store; unreadable ones are
    skipped)."""
    from takedown.store.blobs import BlobError
    from takedown.text import spin
    from takedown.text.decode import read_text

    out: dict[str, list[dict[str, Any]]] = {}
    mine = spin.sentences(text)[: spin.MAX_SENTENCES]
    for result in results:
        for hit in result.content_hits:
            evidence = hit.evidence or {}
            if evidence.get("method") != "text" or not evidence.get("aligned"):
                continue
            if hit.sha256 in out:
                continue
            try:
                with app.blobs.open_verified(hit.sha256) as stream:
                    other = spin.sentences(read_text(stream).text)[: spin.MAX_SENTENCES]
            except (BlobError, NotText, OSError):
                continue
            out[hit.sha256] = [
                {"a": mine[i], "b": other[j], "score": s}
                for i, j, s in evidence["aligned"]
                if i < len(mine) and j < len(other)
            ]
    return out


def print_evidence(evidence: dict[str, list[dict[str, Any]]]) -> None:
    for sha256, pairs in evidence.items():
        console.print(f"  aligned sentences with content {sha256[:16]}…", markup=False)
        for pair in pairs:
            console.print(f"    {pair['score']:.2f}  {pair['a']}  <->  {pair['b']}", markup=False)
