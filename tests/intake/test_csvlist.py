from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown.intake.csvlist import CsvImporter
from takedown.intake.records import IntakeError, Item, Limits, Record, Rejection

LIMITS = Limits(max_file_bytes=1000, max_url_chars=200, max_text_chars=500, max_field_chars=100)


def parse(path: Path, limits: Limits = LIMITS) -> list[Item]:
    return list(CsvImporter().parse(path, limits, {}))


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    return path


def test_rows_become_records_with_utc_dates_and_aliases(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        b"\xef\xbb\xbfURL,Seen-At,Reported_By,Lang,Notes,Text\r\n"
        b"https://example.test/a,2024-05-01T12:00:00+02:00,unit-1,ar,first,hello\r\n"
        b"https://example.test/b,1714564800,,,,\r\n"
        b'https://example.test/c,2024-05-01 10:00,,,,"multi\nline, text"\r\n',
    )
    items = parse(path)
    assert [type(i) for i in items] == [Record, Record, Record]
    first, second, third = items
    assert isinstance(first, Record) and isinstance(second, Record) and isinstance(third, Record)
    assert first.ref == "line 2"
    assert first.url == "https://example.test/a"
    assert first.seen_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert (first.reporter, first.language, first.notes, first.text) == (
        "unit-1",
        "ar",
        "first",
        "hello",
    )
    assert second.seen_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert second.reporter is None
    assert third.seen_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert third.text == "multi\nline, text"


def test_each_bad_row_is_rejected_and_the_next_good_row_still_arrives(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        b"url,seen_at,notes\n"
        b"https://example.test/1,not a date,x\n"
        b"https://example.test/2,2024-01-01,ok\n"
        b"https://example.test/3,2024-01-01\n"
        b"https://example.test/4,2024-01-01,ok\n"
        b"https://example.test/5,2024-01-01,caf\xe9\n"
        b"https://example.test/6,2024-01-01,ok\n"
        b"https://example.test/7,2024-01-01," + b"n" * 101 + b"\n"
        b"https://example.test/8,2024-01-01,ok\n"
        b",,only notes\n"
        b"https://example.test/9,2024-01-01,ok\n",
    )
    items = parse(path)
    rejected = {i.ref: i.reason for i in items if isinstance(i, Rejection)}
    accepted = [i.url for i in items if isinstance(i, Record)]
    assert accepted == [f"https://example.test/{n}" for n in (2, 4, 6, 8, 9)]
    assert set(rejected) == {"line 2", "line 4", "line 6", "line 8", "line 10"}
    assert "not an ISO 8601 date" in rejected["line 2"]
    assert "2 fields, but the header has 3" in rejected["line 4"]
    assert "not UTF-8" in rejected["line 6"]
    assert "over the limit of 100" in rejected["line 8"]
    assert "no url, text or content" in rejected["line 10"]


def test_rejection_keeps_the_offending_bytes_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, b"url,notes\nhttps://example.test/\xff," + b"z" * 10_000 + b"\n")
    (item,) = parse(path, Limits(max_field_chars=20_000))
    assert isinstance(item, Rejection)
    assert item.raw is not None
    assert item.raw.startswith(b"https://example.test/\xff")
    assert len(item.raw) <= 4096


def test_overlong_row_is_rejected_without_losing_the_next(tmp_path: Path) -> None:
    limits = Limits(max_url_chars=10, max_text_chars=10, max_field_chars=10)
    path = write(tmp_path, b"url\n" + b"h" * 100_000 + b"\nhttps://x\n")
    items = parse(path, limits)
    assert isinstance(items[0], Rejection)
    assert "row over" in items[0].reason
    assert isinstance(items[1], Record)
    assert items[1].url == "https://x"


def test_unclosed_quote_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, b'url,text\nhttps://a,ok\nhttps://b,"never closed\n')
    items = parse(path)
    assert isinstance(items[0], Record)
    assert isinstance(items[1], Rejection)
    assert "never closed" in items[1].reason


def test_content_paths_resolve_inside_the_csv_folder(tmp_path: Path) -> None:
    folder = tmp_path / "list"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "ok.bin").write_bytes(b"abc")
    (folder / "media" / "big.bin").write_bytes(b"x" * 1001)
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", folder / "media" / "sneaky.txt")
    rows = [
        "media/ok.bin",
        "../secret.txt",
        "/etc/passwd",
        "media/sneaky.txt",
        "media/missing.bin",
        "media/big.bin",
    ]
    path = folder / "list.csv"
    path.write_text("file\n" + "\n".join(rows) + "\n")
    items = parse(path)
    good = items[0]
    assert isinstance(good, Record) and good.content is not None
    with good.content.open() as handle:
        assert handle.read() == b"abc"
    assert good.content.size == 3
    reasons = [i.reason for i in items[1:] if isinstance(i, Rejection)]
    assert len(reasons) == 5
    assert "climbs out" in reasons[0]
    assert "absolute" in reasons[1]
    assert "outside" in reasons[2]
    assert "does not exist" in reasons[3]
    assert "over the limit of 1000" in reasons[4]


def test_semicolon_lists_are_understood(tmp_path: Path) -> None:
    path = write(tmp_path, b"url;notes\nhttps://example.test/a;x,y\n")
    (item,) = parse(path)
    assert isinstance(item, Record)
    assert item.notes == "x,y"


@pytest.mark.parametrize("data", [b"", b"\xff\xfe\xff,\n", b"seen_at,notes\n2024-01-01,x\n"])
def test_unreadable_sources_raise_intake_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(IntakeError):
        parse(write(tmp_path, data))


def test_unknown_columns_go_to_extra(tmp_path: Path) -> None:
    (item,) = parse(write(tmp_path, b"url,Platform Hint\nhttps://a.test,video\n"))
    assert isinstance(item, Record)
    assert item.extra == {"platform_hint": "video"}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=600))
def test_arbitrary_bytes_never_escape_as_other_errors(tmp_path: Path, body: bytes) -> None:
    path = write(tmp_path, b"url,seen_at,text,file\n" + body)
    for item in parse(path):
        assert isinstance(item, Record | Rejection)
        if isinstance(item, Rejection):
            assert item.raw is None or len(item.raw) <= 4096


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=300))
def test_arbitrary_files_only_raise_intake_error(tmp_path: Path, body: bytes) -> None:
    try:
        items = parse(write(tmp_path, body))
    except IntakeError:
        return
    assert all(isinstance(item, Record | Rejection) for item in items)
