"""Text signals join banks, matching and clusters like image signals (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from takedown.app import App
from takedown.cli import main
from takedown.matching import banks
from takedown.matching.formats import BankRow
from takedown.matching.hashing import compute_signals
from takedown.matching.matcher import match_contents
from takedown.store.models import Content, Match
from takedown.text.signals import TextSpinSignal

SOURCE = (
    "Heavy rain caused the river to flood Valdoria on 2026-04-12. Rescue teams evacuated "
    "1,240 families from the lower districts. Mayor Lena Varga said that 300 volunteers are "
    "helping at the shelters. Updates are posted at https://flood.example.org/12 and under "
    "#FloodValdoria12."
)
SPUN = (
    "Torrential downpour led the stream to swamp Valdoria upon 2026-04-12. Emergency crews "
    "relocated 1,240 households out of the low-lying neighbourhoods. Town leader Lena Varga "
    "stated that 300 helpers are assisting at the refuges. News are published at "
    "https://flood.example.org/12 and with #FloodValdoria12."
)
RUSSIAN = (
    "Сильный дождь вызвал разлив реки в городе Вальдория 12.04.2026. Спасатели эвакуировали "
    "1 240 семей из нижних районов. Мэр Лена Варга сообщил, что 300 добровольцев помогают в "
    "убежищах. Новости публикуются на https://flood.example.org/12 и под тегом #FloodValdoria12."
)
OTHER_REPORT = (
    "Intense rainfall made the waterway inundate Valdoria upon 2026-04-12. Town leader Lena "
    "Varga announced that 85 aides are working at the relief centres. The floodwater climbed "
    "120 cm beyond the usual mark. Bulletins are shared at https://news.example.org/7 with "
    "#ValdoriaNews7."
)


def store_text(app: App, text: str) -> int:
    blob = app.blobs.put_bytes(text.encode("utf-8"))
    with app.db.session() as session:
        content = Content(
            sha256=blob.sha256, md5=blob.md5, size=blob.size, kind="text", media_type="text/plain"
        )
        session.add(content)
        session.flush()
        return content.id


def test_rewrites_and_translations_cluster_and_other_reports_do_not(app: App) -> None:
    ids = [store_text(app, t) for t in (SOURCE, SPUN, RUSSIAN, OTHER_REPORT)]
    compute_signals(app, ids)
    match_contents(app, ids)
    with app.db.session() as session:
        clusters = {r[0]: r[1] for r in session.execute(select(Content.id, Content.cluster_id))}
        matched = {
            (r[0], r[1]) for r in session.execute(select(Match.content_id, Match.signal_type))
        }
    source, spun, russian, other = ids
    assert clusters[source] is not None
    assert clusters[spun] == clusters[source] == clusters[russian]
    assert clusters[other] != clusters[source]
    assert (spun, "text_spin") in matched and (russian, "text_anchors") in matched
    with app.db.session() as session:
        judged = {
            (r.content_id, r.other_content_id): r.evidence["relation"]
            for r in session.scalars(select(Match))
        }
    assert judged[(spun, source)] == "spun_rewrite"
    assert judged[(russian, source)] == "translation"


def test_a_bank_of_known_statements_matches_a_spun_copy(app: App) -> None:
    import io

    signal = TextSpinSignal()
    (value,) = signal.hash_stream(io.BytesIO(SOURCE.encode()))
    banks.create_bank(app, "statements", labels={"source": "synthetic"})
    report = banks.add_entries(app, "statements", [BankRow("r1", "text_spin", value.value)])
    assert report.added == 1
    (content,) = [store_text(app, SPUN)]
    compute_signals(app, [content])
    result = match_contents(app, [content])
    assert result.known == 1


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def run(tmp: Path, *args: str) -> Done:
    """The command line in-process (a subprocess per call would cost seconds of imports)."""
    result = CliRunner().invoke(main, ["--data", str(tmp / "data"), *args])
    return Done(result.exit_code, result.stdout, result.stderr)


def test_cli_text_commands_and_match_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(SOURCE, encoding="utf-8")
    done = run(tmp_path, "text", "compare", "--json", "--file", str(tmp_path / "a.txt"), SPUN)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["relation"] == "spun_rewrite" and result["links"]
    assert result["layers"]["minhash"]["jaccard"] < 0.6 and result["layers"]["spin"]["score"] > 0.45
    assert len(result["aligned"]) == 4
    done = run(tmp_path, "text", "langid", "--json", "کراچی میں سیلاب آیا ہے")
    assert json.loads(done.stdout)["texts"][0]["language"] == "ur"
    done = run(tmp_path, "text", "normalise", "--json", "Ａ\u200bB")
    assert json.loads(done.stdout)["texts"][0]["normalised"] == "ab"
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01" * 100)
    done = run(tmp_path, "text", "normalise", "--file", str(tmp_path / "bin.txt"))
    assert done.returncode != 0 and "binary" in done.stderr
    done = run(tmp_path, "text", "compare", "only one")
    assert done.returncode != 0 and "exactly two" in done.stderr
    # a .txt file is hashed with the text signals; --text looks a text up
    done = run(tmp_path, "hash", "--json", str(tmp_path / "a.txt"))
    types = {s["signal_type"] for s in json.loads(done.stdout)["files"][0]["signals"]}
    assert {"text_exact", "text_minhash", "text_spin", "text_anchors"} <= types
    done = run(tmp_path, "match", "--json", "--text", RUSSIAN)
    assert done.returncode == 0, done.stderr
    kinds = {r["signal_type"] for r in json.loads(done.stdout)["lookups"][0]["results"]}
    assert "text_anchors" in kinds
    done = run(tmp_path, "match", "--text", "x", str(tmp_path / "a.txt"))
    assert done.returncode != 0


def test_match_text_reports_aligned_sentences_of_earlier_copies(app: App) -> None:
    from takedown.cli.text import aligned_evidence, lookup_text

    source = store_text(app, SOURCE)
    compute_signals(app, [source])
    match_contents(app, [source])
    results, errors = lookup_text(app, SPUN)
    assert not errors
    spin_hits = [h for r in results if r.signal_type == "text_spin" for h in r.content_hits]
    assert [h.content_id for h in spin_hits] == [source]
    evidence = aligned_evidence(app, SPUN, results)
    (pairs,) = evidence.values()
    assert len(pairs) == 4 and pairs[0]["a"].startswith("Torrential")
    assert pairs[0]["b"].startswith("Heavy rain")


def test_detected_language_fills_sightings_that_carry_none(app: App, tmp_path: Path) -> None:
    import json

    from sqlalchemy import select

    from takedown.evidence.ingest import Ingestor
    from takedown.matching.pipeline import process_new_content
    from takedown.store.models import Sighting

    rows = [
        {"url": "https://t.me/s/chan/1", "text": "Сегодня вечером в городе прошёл сильный дождь."},
        {
            "url": "https://t.me/s/chan/2",
            "text": "Aujourd'hui, une forte pluie est tombée sur la ville ce soir.",
            "language": "de",  # what the reporter said is kept
        },
    ]
    source = tmp_path / "posts.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = Ingestor(app).ingest(source)
    process_new_content(app, report.new_content_ids)
    with app.db.session() as session:
        found = {u: lang for u, lang in session.execute(select(Sighting.url, Sighting.language))}
    assert found == {"https://t.me/s/chan/1": "ru", "https://t.me/s/chan/2": "de"}
