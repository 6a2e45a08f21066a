"""Lists both ways with Meta's python-threatexchange (pytx) itself: pytx reads Takedown's exports
and Takedown reads pytx's own files (copied into ``data/pytx-formats``, see its ORIGIN.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from threatexchange.cli.dataset.simple_serialization import (
    CliIndicatorSerialization,
    HMASerialization,
)
from threatexchange.exchanges.impl.file_api import (
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.raw_text import RawTextSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal
from threatexchange.signal_type.trend_query import TrendQuerySignal
from threatexchange.signal_type.url import URLSignal
from threatexchange.signal_type.url_md5 import UrlMD5Signal

from takedown.app import App
from takedown.matching import banks
from takedown.matching.format_pytx import pytx_skipped, write_pytx, write_te_cache
from takedown.matching.formats import BadRow, BankRow, parse
from takedown.signals.video import VideoFrameHash, serialise

DATA = Path(__file__).parent / "data" / "pytx-formats"
PYTX_CORE = {
    "pdq": PdqSignal,
    "video_md5": VideoMD5Signal,
    "video_sha256": VideoSHA256Signal,
    "url": URLSignal,
    "url_md5": UrlMD5Signal,
    "raw_text": RawTextSignal,
    "trend_query": TrendQuerySignal,
}
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def pytx_fetch(path: Path) -> set[tuple[str, str]]:
    """What pytx's local_file exchange fetches from ``path``: (signal type, signal) pairs."""
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(filename=str(path), name="t"))
    (delta,) = list(api.fetch_iter([], None))
    return set(delta.updates)


def export_pytx(app: App, bank: str, path: Path) -> dict[str, int]:
    rows = banks.export_rows(app, bank)
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_pytx(rows, handle)
    return pytx_skipped(rows)


def test_pytx_list_in_takedown_and_back_is_what_pytx_fetched(app: App, tmp_path: Path) -> None:
    """pytx -> Takedown -> pytx: every line of pytx's own list (every pytx signal type, the
    extensions' included) comes back to pytx unchanged."""
    banks.create_bank(app, "from-pytx")
    report = banks.add_entries(
        app, "from-pytx", parse(DATA / "local_file" / "all-signal-types.txt")
    )
    assert report.rejected == []
    # 11 lines, and the raw_text line adds its text_exact and text_minhash values
    assert report.added == 13
    skipped = export_pytx(app, "from-pytx", tmp_path / "out.txt")
    assert skipped == {"text_exact": 1, "text_minhash": 1}
    expected = pytx_fetch(DATA / "dataset-print-signals-only.txt")
    assert pytx_fetch(tmp_path / "out.txt") == expected
    for kind, signal in expected:
        if kind in PYTX_CORE:  # pytx's own validation accepts what Takedown wrote
            assert PYTX_CORE[kind].validate_signal_str(signal) == signal


def test_takedown_bank_to_pytx_and_back_loses_nothing_pytx_carries(
    app: App, tmp_path: Path
) -> None:
    frames = [VideoFrameHash(0, 100, PDQ), VideoFrameHash(1000, 87, "0f" * 32)]
    carried = [
        BankRow("a", "pdq", PDQ),
        BankRow("b", "md5", "749476eb0cd128289f0dec3e062da83c"),
        BankRow("c", "sha256", "621553dfabd5774828d2e845e9b17081dadf9cb9965aa59eee8668369413062f"),
        BankRow("d", "url", "https://example.org/media/12345?ref=share"),
        BankRow("e", "url_md5", "5fc678d515ef3afaf62ce7b35350b50e"),
        BankRow("f", "raw_text", json.dumps('Ünïcode text, with "quotes" and  two spaces')),
        BankRow(
            "g",
            "text_tlsh",
            "T1" + "5AC080DF73D005AD17ECD7529591792066064D3530D28F2030111578371F1D585743F4",
        ),
        BankRow("h", "pdq_ocr", f"{PDQ},CAPTION, with a comma"),
        BankRow("i", "trend_query", '{"and": [{"or": ["a", "b"]}], "not": ["c"]}'),
        BankRow("j", "video", serialise(frames)),
    ]
    banks.create_bank(app, "ours")
    assert banks.add_entries(app, "ours", carried).rejected == []
    assert export_pytx(app, "ours", tmp_path / "ours.txt") == {}
    fetched = pytx_fetch(tmp_path / "ours.txt")
    assert len(fetched) == len(carried)
    # pytx prints what it fetched as `dataset -P -S` does: "<type> <signal>" lines
    back = tmp_path / "back.txt"
    back.write_text("".join(f"{k} {s}\n" for k, s in sorted(fetched)), encoding="utf-8")
    banks.create_bank(app, "again")
    report = banks.add_entries(app, "again", parse(back))
    assert report.rejected == []
    original = {(e.signal_type, e.value) for e in banks.entries(app, "ours")}
    again = {(e.signal_type, e.value) for e in banks.entries(app, "again")}
    assert original <= again  # the raw_text line adds its text signals besides
    assert {k for k, _ in again - original} == {"text_exact", "text_minhash"}


def test_vpdq_timestamps_come_back_at_pytx_precision(tmp_path: Path) -> None:
    """pytx writes vpdq timestamps with 3 significant digits: that is all a pytx list carries."""
    frames = [VideoFrameHash(12345, 100, PDQ), VideoFrameHash(99960, 100, PDQ)]
    out = io.StringIO()
    write_pytx([BankRow("v", "video", serialise(frames))], out)
    assert json.loads(out.getvalue().split(" ", 1)[1]) == [f"{PDQ},100,12.3", f"{PDQ},100,1e+02"]
    path = tmp_path / "v.txt"
    path.write_text(out.getvalue(), encoding="utf-8")
    (row,) = list(parse(path))
    assert isinstance(row, BankRow)
    assert row.value == serialise(
        [VideoFrameHash(12300, 100, PDQ), VideoFrameHash(100000, 100, PDQ)]
    )


def test_pytx_vpdq_sample_is_rewritten_byte_for_byte(tmp_path: Path) -> None:
    source = DATA / "local_file" / "vpdq-timestamp-format.txt"
    rows = [r for r in parse(source) if isinstance(r, BankRow)]
    out = io.StringIO()
    write_pytx(rows, out)
    assert out.getvalue() == source.read_text(encoding="utf-8")


def test_pytx_dataset_exports_import(app: App) -> None:
    banks.create_bank(app, "csv")
    report = banks.add_entries(app, "csv", parse(DATA / "dataset-export.csv"))
    assert report.rejected == []
    # 23 rows and raw_text's two text signals; the same PDQ in two collaborations is one entry
    assert (report.added, report.duplicates) == (24, 1)
    by_type = {e.signal_type for e in banks.entries(app, "csv")}
    assert {"pdq", "md5", "sha256", "video", "url", "url_md5", "raw_text", "pdq_ocr"} <= by_type
    entry = next(e for e in banks.entries(app, "csv") if e.signal_type == "url_md5")
    assert entry.labels == {"source": "all_types", "category": "INVESTIGATION_SEED"}
    banks.create_bank(app, "print")
    report = banks.add_entries(app, "print", parse(DATA / "dataset-print.txt", "pytx-print"))
    assert report.rejected == [] and report.added == 13


@pytest.mark.parametrize("variant", ["cli", "hma1"])
def test_te_cache_both_ways_with_pytx(app: App, tmp_path: Path, variant: str) -> None:
    banks.create_bank(app, "te")
    for path in sorted((DATA / "te-cache" / variant).glob("simple.*.te")):
        assert banks.add_entries(app, "te", parse(path)).rejected == []
    entries = banks.entries(app, "te")
    first = next(e for e in entries if e.value == PDQ)
    assert first.labels is not None and first.labels["added_on"] == "2021-03-03T20:01:18+0000"
    rows = banks.export_rows(app, "te")
    counts = write_te_cache(rows, tmp_path / "out", variant)
    loader = CliIndicatorSerialization if variant == "cli" else HMASerialization
    theirs = {
        (i.indicator_type, i.indicator, frozenset(i.rollup.labels), i.rollup.added_on)
        for i in loader.load(DATA / "te-cache" / variant)
    }
    ours = {
        (i.indicator_type, i.indicator, frozenset(i.rollup.labels), i.rollup.added_on)
        for i in loader.load(tmp_path / "out")
    }
    assert ours == theirs and sum(counts.values()) == len(theirs)


def test_unknown_and_bad_rows_are_reported_one_by_one(app: App, tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(
        b"\xef\xbb\xbfpdq " + PDQ.encode() + b"\r\n"  # BOM, CRLF
        b"pdq " + PDQ[:-2].encode() + b"\n"  # wrong length
        b"video_md5 zz9476eb0cd128289f0dec3e062da83c\r"  # non-hex, lone CR
        b"photo_tmk 00ff\n"  # unknown type
        b"video_md5 749476eb0cd128289f0dec3e062da83c\n"
        b"md5 749476EB0CD128289F0DEC3E062DA83C\n"  # duplicate in another spelling
        b'vpdq ["nope"]\n'
    )
    banks.create_bank(app, "mixed")
    report = banks.add_entries(app, "mixed", parse(path))
    assert (report.added, report.duplicates, report.rejected_count) == (2, 1, 4)
    reasons = {r.ref: r.reason for r in report.rejected}
    assert set(reasons) == {"line 2", "line 3", "line 4", "line 7"}
    assert "unknown signal type 'photo_tmk'" in reasons["line 4"]
    assert "64 hex" in reasons["line 2"] or "pdq" in reasons["line 2"]


def test_a_failing_import_leaves_nothing_behind(app: App) -> None:
    banks.create_bank(app, "atomic")

    def rows():
        for i in range(5000):  # past the first batch
            yield BankRow(str(i), "md5", f"{i:032x}")
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        banks.add_entries(app, "atomic", rows())
    assert banks.entries(app, "atomic") == []
    assert [c.action for c in banks.history(app, "atomic")] == ["create"]


def test_rejections_are_counted_but_only_the_first_are_kept(sqlite_app: App) -> None:
    banks.create_bank(sqlite_app, "bad")
    report = banks.add_entries(
        sqlite_app, "bad", (BadRow(f"line {i}", "nope") for i in range(banks.MAX_REPORTED * 3))
    )
    assert report.rejected_count == banks.MAX_REPORTED * 3
    assert len(report.rejected) == banks.MAX_REPORTED


def test_gifct_style_and_threatexchange_typed_csv(tmp_path: Path) -> None:
    from takedown.matching.format_pytx import write_gifct

    gifct = tmp_path / "gifct.csv"
    gifct.write_text(
        "hash,type,labels,source\n"
        f"{PDQ},pdq,Tier 1;Logo,GIFCT\n"
        "749476eb0cd128289f0dec3e062da83c,video_md5,,GIFCT\n"
        f"{PDQ},HASH_SOMETHING,,GIFCT\n",
        encoding="utf-8",
    )
    rows = list(parse(gifct))
    assert rows[0] == BankRow(
        "line 2", "pdq", PDQ, None, {"tags": "Tier 1;Logo", "source": "GIFCT"}
    )
    assert isinstance(rows[1], BankRow) and rows[1].signal_type == "md5"
    assert isinstance(rows[2], BadRow) and "unknown signal type 'HASH_SOMETHING'" in rows[2].reason
    out = io.StringIO()
    write_gifct([r for r in rows if isinstance(r, BankRow)], out)
    assert out.getvalue().splitlines()[1:] == [
        f"{PDQ},pdq,Tier 1;Logo,GIFCT",
        "749476eb0cd128289f0dec3e062da83c,video_md5,,GIFCT",
    ]
    typed = tmp_path / "te.csv"
    typed.write_text(
        "indicator,type\n"
        f"{PDQ},HASH_PDQ\n749476eb0cd128289f0dec3e062da83c,HASH_MD5\n"
        "https://example.org/x,URI\n00ff00ff,HASH_TMK\nzz,HASH_PDQ\n",
        encoding="utf-8",
    )
    kinds = [(r.signal_type if isinstance(r, BankRow) else "bad") for r in parse(typed)]
    assert kinds == ["pdq", "md5", "url", "tmk", "pdq"]  # "zz" fails when it is banked


def test_takedown_csv_and_te_give_back_video_and_raw_text_values(tmp_path: Path) -> None:
    from takedown.matching.format_pytx import write_te
    from takedown.matching.formats import write_csv

    video = serialise([VideoFrameHash(0, 100, PDQ), VideoFrameHash(1500, 90, "0f" * 32)])
    rows = [
        BankRow("v", "video", video),
        BankRow("t", "raw_text", json.dumps('a "quoted" text')),
    ]
    for name, writer in (("csv", write_csv), ("te", write_te)):
        out = io.StringIO()
        writer(rows, out)
        path = tmp_path / f"back.{name}"
        path.write_text(out.getvalue(), encoding="utf-8")
        back = {r.signal_type: r.value for r in parse(path, name) if isinstance(r, BankRow)}
        assert back["video"] == video, name
        assert back["raw_text"] == rows[1].value, name
