from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown.intake.jsonl import JsonLinesImporter
from takedown.intake.reading import bounded_lines
from takedown.intake.records import IntakeError, Item, Limits, Record, Rejection

LIMITS = Limits(max_url_chars=200, max_text_chars=500, max_field_chars=100)


def parse(tmp_path: Path, data: bytes, limits: Limits = LIMITS) -> list[Item]:
    path = tmp_path / "items.jsonl"
    path.write_bytes(data)
    return list(JsonLinesImporter().parse(path, limits, {}))


def test_objects_become_records_with_extra_fields(tmp_path: Path) -> None:
    items = parse(
        tmp_path,
        b'\xef\xbb\xbf{"url": "https://example.test/a", "seen_at": 1714564800, "lang": "fr",'
        b' "campaign": "op-x", "count": 3, "extra": {"channel": "news"}}\n'
        b"\n"
        b'{"text": "only text", "seen_at": "2024-05-01T12:00:00Z"}\n',
    )
    first, second = items
    assert isinstance(first, Record) and isinstance(second, Record)
    assert first.ref == "line 1"
    assert first.seen_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert first.language == "fr"
    assert first.extra == {"campaign": "op-x", "channel": "news"}
    assert second.ref == "line 3"
    assert second.text == "only text"


def test_each_bad_line_is_rejected_and_the_next_still_arrives(tmp_path: Path) -> None:
    good = b'{"url": "https://example.test/ok"}\n'
    bad_lines = [
        b'{"url": "https://example.test/x"\n',
        b'["not", "an", "object"]\n',
        b'{"url": 42}\n',
        b'{"url": "https://example.test/\xff"}\n',
        b'{"url": "https://a", "seen_at": true}\n',
        b'{"url": "https://a", "extra": {"k": 1}}\n',
        b'{"url": "https://a", "seen_at": 1' + b"0" * 400 + b"}\n",
        b'{"url": "https://a", "seen_at": NaN}\n',
        b"[" * 100_000 + b"\n",
        b'{"n": 1' + b"0" * 5000 + b', "url": "https://a"}\n',
    ]
    data = b"".join(line + good for line in bad_lines)
    items = parse(tmp_path, data, Limits(max_url_chars=200, max_text_chars=100_000))
    assert [type(i) for i in items] == [Rejection, Record] * len(bad_lines)
    reasons = [i.reason for i in items if isinstance(i, Rejection)]
    assert "not valid JSON" in reasons[0]
    assert "expected a JSON object, got list" in reasons[1]
    assert "url must be text, not int" in reasons[2]
    assert "not UTF-8" in reasons[3]
    assert "is not a date" in reasons[4]
    assert "extra.k must be text" in reasons[5]
    assert "out of range" in reasons[6]
    assert "is not a date" in reasons[7]
    assert "JSON" in reasons[8]
    assert "line 19" in reasons[9]


def test_overlong_line_is_rejected_without_being_loaded(tmp_path: Path) -> None:
    limits = Limits(max_url_chars=10, max_text_chars=10, max_field_chars=10)
    data = b'{"text": "' + b"a" * 300_000 + b'"}\n{"url": "https://x"}\n'
    items = parse(tmp_path, data, limits)
    assert isinstance(items[0], Rejection)
    assert "over" in items[0].reason
    assert items[0].raw is not None and len(items[0].raw) <= 4096
    assert isinstance(items[1], Record)


def test_bounded_lines_never_return_more_than_the_limit() -> None:
    stream = io.BytesIO(b"x" * 1_000_000 + b"\nshort\n")
    lines = list(bounded_lines(stream, 100))
    assert lines[0].overlong
    assert len(lines[0].data) <= 4096
    assert lines[0].size == 1_000_001
    assert lines[1].data == b"short"
    assert lines[1].number == 2


def test_unopenable_source_raises_intake_error(tmp_path: Path) -> None:
    with pytest.raises(IntakeError):
        list(JsonLinesImporter().parse(tmp_path / "missing.jsonl", LIMITS, {}))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=500),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda value: repr(value).encode()),
    )
)
def test_arbitrary_bytes_yield_only_records_or_rejections(tmp_path: Path, body: bytes) -> None:
    for item in parse(tmp_path, body):
        assert isinstance(item, Record | Rejection)


def test_memory_stays_bounded_on_a_huge_single_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:
        handle.write(b'{"text": "')
        for _ in range(40):
            handle.write(b"a" * 1024 * 1024)
        handle.write(b'"}\n{"url": "https://after"}\n')
    limits = Limits(max_url_chars=100, max_text_chars=100_000, max_field_chars=100)
    tracemalloc.start()
    try:
        items = list(JsonLinesImporter().parse(path, limits, {}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [type(i) for i in items] == [Rejection, Record]
    assert peak < 8 * 1024 * 1024  # a 40 MiB line never sits in memory
