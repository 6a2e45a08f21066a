from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown.matching.formats import BadRow, BankFormatError, BankRow, parse, write_csv, write_te

PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def test_csv_with_labels_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(
        f"pdq_hex,quality,outlet,taxonomy,confidence\n{PDQ},100,Crimson Dawn Media,logo,0.9\n",
        encoding="utf-8",
    )
    (row,) = list(parse(path))
    assert isinstance(row, BankRow)
    assert row.signal_type == "pdq" and row.value == PDQ
    assert row.labels == {
        "quality": "100",
        "outlet": "Crimson Dawn Media",
        "taxonomy": "logo",
        "confidence": "0.9",
    }


def test_threatexchange_signal_file_maps_type_names(tmp_path: Path) -> None:
    path = tmp_path / "signals.txt"
    path.write_text(f"pdq {PDQ}\nphoto_md5 {MD5}\nvideo_tmk_pdqx 00\n", encoding="utf-8")
    rows = list(parse(path))
    assert [(r.signal_type, r.value) for r in rows if isinstance(r, BankRow)] == [
        ("pdq", PDQ),
        ("md5", MD5),
    ]
    assert isinstance(rows[2], BadRow) and "unknown signal type" in rows[2].reason


def test_plain_list_needs_a_type_for_ambiguous_lengths(tmp_path: Path) -> None:
    path = tmp_path / "hashes.txt"
    path.write_text(f"# comment\n{MD5}\n{PDQ}\n", encoding="utf-8")
    rows = list(parse(path, "plain"))
    assert isinstance(rows[0], BankRow) and rows[0].signal_type == "md5"
    assert isinstance(rows[1], BadRow) and "--signal" in rows[1].reason
    rows = list(parse(path, "plain", signal="pdq"))
    assert all(isinstance(r, BankRow) and r.signal_type == "pdq" for r in rows)


def test_csv_without_a_value_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(BankFormatError, match="value column"):
        list(parse(path))


def test_bad_csv_rows_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_bytes(b"signal_type,value\nmd5," + MD5.encode() + b"\nmd5,,\nmd5,\xff\xfe\n")
    rows = list(parse(path))
    assert isinstance(rows[0], BankRow)
    assert any(isinstance(r, BadRow) for r in rows[1:])


def test_export_writers_round_trip(tmp_path: Path) -> None:
    rows = [
        BankRow(
            "entry 1", "pdq", PDQ, "ext-1", {"outlet": "Northern Lantern", "feedback": "agree:1"}
        )
    ]
    buffer = io.StringIO()
    write_csv(rows, buffer)
    path = tmp_path / "out.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    (back,) = list(parse(path))
    assert isinstance(back, BankRow)
    assert (back.signal_type, back.value, back.external_id) == ("pdq", PDQ, "ext-1")
    assert back.labels["outlet"] == "Northern Lantern"
    te = io.StringIO()
    write_te(rows, te)
    assert te.getvalue() == f"pdq {PDQ}\n"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000), fmt=st.sampled_from(["auto", "csv", "te", "plain"]))
def test_parsers_never_crash_on_arbitrary_bytes(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    try:
        for row in parse(path, fmt, signal="md5"):
            assert isinstance(row, BankRow | BadRow)
    except BankFormatError:
        pass


def test_threatexchange_raw_text_is_hashed_into_text_signals(tmp_path: Path) -> None:
    from takedown.text.signals import TextExactSignal, TextMinHashSignal

    text = "Join the convoy at dawn; the river crossing is held by our brothers."
    path = tmp_path / "signals.txt"
    path.write_text(f"raw_text {text}\ntext_exact {'ab' * 32}\n", encoding="utf-8")
    rows = [r for r in parse(path) if isinstance(r, BankRow)]
    by_type = {r.signal_type: r.value for r in rows[:3]}
    assert by_type["raw_text"] == json.dumps(text)  # kept, so that an export hands it back
    content = io.BytesIO(
        b"  JOIN the convoy at dawn;\nthe river crossing is held by our brothers. "
    )
    assert by_type["text_exact"] == TextExactSignal().hash_stream(content)[0].value
    content.seek(0)
    assert by_type["text_minhash"] == TextMinHashSignal().hash_stream(content)[0].value
    assert (rows[3].signal_type, rows[3].value) == ("text_exact", "ab" * 32)
