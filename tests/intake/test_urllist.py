from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown.intake.records import Item, Limits, Record, Rejection
from takedown.intake.urllist import UrlListImporter

LIMITS = Limits(max_url_chars=100)


def parse(tmp_path: Path, data: bytes, limits: Limits = LIMITS) -> list[Item]:
    path = tmp_path / "urls.txt"
    path.write_bytes(data)
    return list(UrlListImporter().parse(path, limits, {}))


def test_urls_are_kept_as_written_and_comments_skipped(tmp_path: Path) -> None:
    items = parse(
        tmp_path,
        b"\xef\xbb\xbf# seized list\n\nhttps://example.test/a\r\n  hxxps://bad[.]example/p  \n",
    )
    assert [(i.ref, i.url) for i in items if isinstance(i, Record)] == [
        ("line 3", "https://example.test/a"),
        ("line 4", "hxxps://bad[.]example/p"),
    ]
    assert len(items) == 2


def test_bad_lines_are_rejected_and_good_ones_still_arrive(tmp_path: Path) -> None:
    data = (
        b"https://example.test/" + b"a" * 200 + b"\n"
        b"https://example.test/1\n" + b"b" * 1_000_000 + b"\n"
        b"https://example.test/2\n"
        b"https://example.test/\xc3\x28\n"
        b"https://example.test/3\n"
        b"https://example.test/x and more\n"
        b"https://example.test/4\n"
    )
    items = parse(tmp_path, data)
    assert [type(i) for i in items] == [Rejection, Record] * 4
    reasons = [i.reason for i in items if isinstance(i, Rejection)]
    assert "over the URL limit of 100" in reasons[0]
    assert "not a URL" in reasons[1]
    assert "not UTF-8" in reasons[2]
    assert "one URL per line" in reasons[3]
    assert all(i.raw is not None and len(i.raw) <= 4096 for i in items if isinstance(i, Rejection))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=800))
def test_arbitrary_bytes_yield_only_records_or_rejections(tmp_path: Path, body: bytes) -> None:
    for item in parse(tmp_path, body):
        assert isinstance(item, Record | Rejection)
        if isinstance(item, Record):
            assert item.url is not None and 0 < len(item.url) <= 100
