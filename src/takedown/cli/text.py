"""Commands of the text feature: normalise, langid, compare (nothing is stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from takedown.cli.output import console, fail, json_option, print_json
from takedown.text import anchors, minhash, spin
from takedown.text.decode import DecodedText, NotText, decode_bytes
from takedown.text.langid import identify
from takedown.text.normalise import analyse
from takedown.text.signals import TextAnchorsSignal, TextMinHashSignal, TextSpinSignal


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
    out = []
    for name, decoded in _inputs(texts, files):
        found = identify(decoded.text)
        out.append({"input": name, "language": found.code, "confidence": found.confidence})
    if as_json:
        print_json({"texts": out})
        return
    for item in out:
        console.print(f"{item['input']}: {item['language']} ({item['confidence']:.2f})")


def compare_texts(a: str, b: str) -> dict[str, Any]:
    """Every text layer on two texts, with evidence (aligned sentences, shared anchors)."""
    na, nb = analyse(a), analyse(b)
    sa, sb = minhash.shingle_set(na.text), minhash.shingle_set(nb.text)
    va = (minhash.sketch(na.text), np.asarray(minhash.fact_hashes(anchors.facts(a)), np.uint32))
    vb = (minhash.sketch(nb.text), np.asarray(minhash.fact_hashes(anchors.facts(b)), np.uint32))
    estimate = minhash.estimate(va[0], vb[0])
    alignment, sents_a, sents_b = spin.compare(a, b)
    reverse = spin.align(spin.sketch(b), spin.sketch(a))
    spin_score = min(alignment.score, reverse.score)
    anchor = anchors.similarity(anchors.extract(a), anchors.extract(b))
    lexical_distance = minhash.value_distance(va, vb)
    return {
        "languages": [identify(a).code, identify(b).code],
        "exact": na.sha256 == nb.sha256,
        "shared_paragraphs": len(set(na.paragraph_sha256) & set(nb.paragraph_sha256)),
        "minhash": {
            "estimate": round(estimate, 3),
            "jaccard": round(minhash.jaccard(sa, sb), 3),
            "containment": round(minhash.containment(sa, sb), 3),
            "facts_conflict": minhash.facts_conflict(va[1], vb[1]),
            "match": lexical_distance <= TextMinHashSignal.default_threshold,
        },
        "spin": {
            "score": round(spin_score, 3),
            "match": round(100 * (1 - spin_score)) <= TextSpinSignal.default_threshold,
            "aligned": spin.evidence(alignment, sents_a, sents_b),
        },
        "anchors": {
            "score": round(anchor.score, 3),
            "match": round(100 * (1 - anchor.score)) <= TextAnchorsSignal.default_threshold,
            "shared": anchor.shared,
        },
    }


@text_group.command("compare")
@click.argument("texts", nargs=-1)
@_file_option
@json_option
def compare_cmd(texts: tuple[str, ...], files: tuple[str, ...], as_json: bool) -> None:
    """Compare two texts (arguments or --file): copies, edits, spun rewrites, translations."""
    inputs = _inputs(texts, files)
    if len(inputs) != 2:
        raise fail(f"compare needs exactly two texts, got {len(inputs)}")
    try:
        result = compare_texts(inputs[0][1].text, inputs[1][1].text)
    except spin.EmbeddingUnavailable as exc:
        raise fail(str(exc)) from exc
    result["inputs"] = [name for name, _ in inputs]
    if as_json:
        print_json(result)
        return
    mh, sp, an = result["minhash"], result["spin"], result["anchors"]
    console.print(f"languages: {result['languages'][0]} / {result['languages'][1]}")
    console.print(f"exact after normalisation: {result['exact']}")
    console.print(
        f"edited copy (MinHash): estimate {mh['estimate']:.2f}, Jaccard {mh['jaccard']:.2f}, "
        f"containment {mh['containment']:.2f} -> {'match' if mh['match'] else 'no match'}"
    )
    console.print(
        f"spun rewrite (aligned sentences): {sp['score']:.2f} -> "
        f"{'match' if sp['match'] else 'no match'}"
    )
    for pair in sp["aligned"]:
        console.print(f"    {pair['score']:.2f}  {pair['a']}  <->  {pair['b']}", markup=False)
    console.print(
        f"translation (anchors): {an['score']:.2f} -> {'match' if an['match'] else 'no match'}"
        f"; shared: {', '.join(an['shared'])}",
        markup=False,
    )


COMMANDS: list[click.Command] = [text_group]


def lookup_text(
    app: Any, text: str, *, banks: list[str] | None = None
) -> tuple[list[Any], dict[str, str]]:
    """Known material and earlier copies of a text given on the command line (``match
    --text``): the text signals of its UTF-8 bytes, looked up like a file's."""
    import io

    from takedown.matching.hashing import hash_stream
    from takedown.matching.lookup import lookup
    from takedown.matching.matcher import Matcher

    values, errors = hash_stream(io.BytesIO(text.encode("utf-8", "surrogatepass")), "text")
    grouped: dict[str, list[str]] = {}
    for value in sorted(values, key=lambda v: v.variant != ""):
        grouped.setdefault(value.signal_type, []).append(value.value)
    matcher = Matcher(app)
    results = [
        lookup(app, kind, vals, banks=banks, matcher=matcher) for kind, vals in grouped.items()
    ]
    return results, errors


def aligned_evidence(app: Any, text: str, results: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """For each earlier text that ``text_spin`` matched: the aligned sentence pairs (the
    stored text is read from the evidence store; unreadable ones are skipped)."""
    from takedown.store.blobs import BlobError
    from takedown.text.decode import read_text

    out: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        if result.signal_type != "text_spin":
            continue
        for hit in result.content_hits:
            try:
                with app.blobs.open_verified(hit.sha256) as stream:
                    other = read_text(stream).text
            except (BlobError, NotText, OSError):
                continue
            alignment, sa, sb = spin.compare(text, other)
            out[hit.sha256] = spin.evidence(alignment, sa, sb)
    return out


def print_evidence(evidence: dict[str, list[dict[str, Any]]]) -> None:
    for sha256, pairs in evidence.items():
        console.print(f"  aligned sentences with content {sha256[:16]}…", markup=False)
        for pair in pairs:
            console.print(f"    {pair['score']:.2f}  {pair['a']}  <->  {pair['b']}", markup=False)
