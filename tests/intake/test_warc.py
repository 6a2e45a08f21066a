from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from takedown.intake.records import IntakeError, Item, Limits, Record, Rejection
from takedown.intake.warc import WarcImporter

LIMITS = Limits(max_file_bytes=3 * 1024 * 1024)


def warc_bytes(payloads: list[bytes], *, gzip: bool) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip)
    for number, body in enumerate(payloads):
        headers = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            f"https://example.test/{number}.png",
            "response",
            payload=io.BytesIO(body),
            length=len(body),  # with a length warcio needs no temporary file
            http_headers=headers,
            warc_headers_dict={"WARC-Date": "2024-05-01T12:00:00Z"},
        )
        writer.write_record(record)
    resource = writer.create_warc_record(
        "https://example.test/notes.txt",
        "resource",
        payload=io.BytesIO(b"resource body"),
        length=len(b"resource body"),
        warc_content_type="text/plain",
    )
    writer.write_record(resource)
    return buffer.getvalue()


def parse(tmp_path: Path, data: bytes, name: str = "crawl.warc.gz") -> list[Item]:
    path = tmp_path / name
    path.write_bytes(data)
    return list(WarcImporter().parse(path, LIMITS, {}))


def read(record: Item) -> bytes:
    assert isinstance(record, Record) and record.content is not None
    with record.content.open() as handle:
        return handle.read()


@pytest.mark.parametrize("gzip", [True, False])
def test_response_and_resource_records_carry_their_payloads(tmp_path: Path, gzip: bool) -> None:
    big = bytes(range(256)) * 8192  # 2 MiB: spooled to a temporary file
    items = parse(tmp_path, warc_bytes([b"first", big], gzip=gzip))
    first, second, resource = items
    assert isinstance(first, Record) and isinstance(second, Record)
    assert first.url == "https://example.test/0.png"
    assert first.seen_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert first.content is not None and first.content.media_type == "image/png"
    assert first.extra["http_status"] == "200"
    assert read(first) == b"first"
    assert second.content is not None and second.content.size == len(big)
    assert read(second) == big
    assert read(second) == big  # every open is a fresh stream
    assert isinstance(resource, Record) and resource.content is not None
    assert resource.content.media_type == "text/plain"
    assert read(resource) == b"resource body"


def test_payload_over_the_limit_is_rejected_and_the_next_record_arrives(tmp_path: Path) -> None:
    over = b"z" * (LIMITS.max_file_bytes + 1)
    items = parse(tmp_path, warc_bytes([over, b"after"], gzip=True))
    assert isinstance(items[0], Rejection)
    assert "over the limit" in items[0].reason
    assert read(items[1]) == b"after"


def test_truncated_plain_warc_rejects_the_cut_record(tmp_path: Path) -> None:
    data = warc_bytes([b"a" * 5000, b"b" * 5000, b"c" * 5000], gzip=False)
    cut = data.index(b"c" * 100) + 1000
    items = parse(tmp_path, data[:cut], "crawl.warc")
    assert read(items[0]) == b"a" * 5000
    assert read(items[1]) == b"b" * 5000
    assert isinstance(items[2], Rejection)
    assert items[2].ref == "record 3"
    assert "truncated" in items[2].reason
    assert len(items) == 3


def test_truncated_gzip_warc_ends_with_one_unreadable_rejection(tmp_path: Path) -> None:
    data = warc_bytes([b"a" * 5000, b"b" * 5000], gzip=True)
    items = parse(tmp_path, data[: len(data) - 150])
    assert read(items[0]) == b"a" * 5000
    assert read(items[1]) == b"b" * 5000
    final = items[-1]
    assert isinstance(final, Rejection)
    assert final.reason == "WARC unreadable after record 3: the gzip stream is truncated"
    assert sum("WARC unreadable" in i.reason for i in items if isinstance(i, Rejection)) == 1


def test_gzip_warc_cut_inside_the_first_record_is_unreadable(tmp_path: Path) -> None:
    data = warc_bytes([b"a" * 5000], gzip=True)
    with pytest.raises(IntakeError, match="not a readable WARC"):
        parse(tmp_path, data[:200])


def test_garbage_after_good_records_stops_with_one_rejection(tmp_path: Path) -> None:
    data = warc_bytes([b"good"], gzip=False) + b"NOT A WARC HEADER\r\n\r\n" + b"\x00" * 100
    items = parse(tmp_path, data, "crawl.warc")
    assert read(items[0]) == b"good"
    assert isinstance(items[-1], Rejection)
    assert items[-1].reason.startswith("WARC unreadable after record 2")


def test_a_file_that_is_not_a_warc_raises_intake_error(tmp_path: Path) -> None:
    with pytest.raises(IntakeError):
        parse(tmp_path, b"hello, this is not a warc\r\n\r\n", "x.warc")


def test_sniff_recognises_warc_by_content(tmp_path: Path) -> None:
    path = tmp_path / "download.bin"
    path.write_bytes(warc_bytes([b"x"], gzip=True))
    assert WarcImporter().sniff(path)
    other = tmp_path / "other.bin"
    other.write_bytes(b"\x1f\x8bnot really")
    assert not WarcImporter().sniff(other)


def test_a_last_record_cut_anywhere_in_its_headers_is_a_rejection(tmp_path: Path) -> None:
    """Issue #20: a WARC whose last record was cut inside its header block lost that record
    without a word (warcio takes the partial header block for the end of the file)."""
    data = warc_bytes([b"a" * 3000, b"b" * 3000], gzip=False)
    name = "crawl.warc"  # a cut gzip member is caught by the gzip check (test above)
    whole = parse(tmp_path, data, name)
    assert [type(i) for i in whole] == [Record, Record, Record]
    last = data.rindex(b"WARC/1.0\r\n")
    for cut in range(last + 1, data.index(b"\r\n\r\n", last) + 2):
        items = parse(tmp_path, data[:cut], name)
        rejected = [i for i in items if isinstance(i, Rejection)]
        assert len(items) == 3 and len(rejected) == 1, (cut, items)
        assert rejected[0].ref == "record 3"
