from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown.intake.records import IntakeError, Item, Limits, Record, Rejection
from takedown.intake.telegram import TelegramImporter

LIMITS = Limits(max_file_bytes=4000)
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"


def export(tmp_path: Path, result: Any) -> Path:
    folder = tmp_path / "ChatExport_2024-05-01"
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return folder


def message(mid: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "type": "message",
        "date": "2024-05-01T12:00:00",
        "date_unixtime": "1714564800",
        "from": "Synthetic Channel",
        "from_id": "channel1234",
        **fields,
    }


def parse(folder: Path, **options: str) -> list[Item]:
    return list(TelegramImporter().parse(folder, LIMITS, options))


def test_messages_become_records_at_their_public_url(tmp_path: Path) -> None:
    folder = export(
        tmp_path,
        {
            "name": "Synthetic",
            "type": "public_channel",
            "id": 1234,
            "messages": [
                message(1, text="plain words"),
                {"id": 2, "type": "service", "action": "pin_message"},
                message(3, text="", forwarded_from="Other"),
            ],
        },
    )
    items = parse(folder, channel="@synthetic_news")
    assert len(items) == 1
    record = items[0]
    assert isinstance(record, Record)
    assert record.url == "https://t.me/synthetic_news/1"
    assert record.ref == "message 1"
    assert record.text == "plain words"
    assert record.seen_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert record.extra["from"] == "Synthetic Channel"
    assert record.extra["chat"] == "Synthetic"


def test_without_a_channel_name_the_numeric_id_is_used(tmp_path: Path) -> None:
    folder = export(
        tmp_path,
        {
            "name": "P",
            "type": "private_channel",
            "id": -1001234567890,
            "messages": [message(7, text="x")],
        },
    )
    (record,) = parse(folder)
    assert isinstance(record, Record)
    assert record.url == "https://t.me/c/1234567890/7"


def test_links_in_text_become_their_own_records(tmp_path: Path) -> None:
    text = [
        "see ",
        {"type": "link", "text": "https://files.example/a"},
        " and ",
        {"type": "text_link", "text": "here", "href": "https://mirror.example/b"},
        " or https://third.example/c.",
        {"type": "bold", "text": "!"},
    ]
    folder = export(
        tmp_path,
        {"name": "S", "type": "public_channel", "id": 5, "messages": [message(9, text=text)]},
    )
    items = parse(folder, channel="synthetic")
    post, *links = items
    assert isinstance(post, Record)
    assert post.text == "see https://files.example/a and here or https://third.example/c.!"
    assert [(i.ref, i.url, i.notes) for i in links if isinstance(i, Record)] == [
        ("message 9 link 1", "https://files.example/a", "linked from https://t.me/synthetic/9"),
        ("message 9 link 2", "https://mirror.example/b", "linked from https://t.me/synthetic/9"),
        ("message 9 link 3", "https://third.example/c", "linked from https://t.me/synthetic/9"),
    ]
    assert all(isinstance(i, Record) and i.seen_at == post.seen_at for i in links)


def test_media_is_attached_and_missing_media_is_noted(tmp_path: Path) -> None:
    folder = export(tmp_path, {})
    (folder / "photos" / "photo_1.jpg").write_bytes(b"\xff\xd8\xffsynthetic")
    result = {
        "name": "S",
        "type": "public_channel",
        "id": 5,
        "messages": [
            message(1, photo="photos/photo_1.jpg", text=""),
            message(2, file=NOT_INCLUDED, mime_type="video/mp4", text=""),
        ],
    }
    (folder / "result.json").write_text(json.dumps(result))
    first, second = parse(folder)
    assert isinstance(first, Record) and first.content is not None
    with first.content.open() as handle:
        assert handle.read() == b"\xff\xd8\xffsynthetic"
    assert isinstance(second, Record)
    assert second.content is None
    assert second.notes == "file not included in the export"


def test_media_paths_that_climb_out_are_rejected_and_the_next_message_arrives(
    tmp_path: Path,
) -> None:
    (tmp_path / "secret.jpg").write_bytes(b"secret")
    folder = export(tmp_path, {})
    os.symlink(tmp_path / "secret.jpg", folder / "photos" / "link.jpg")
    (folder / "photos" / "big.jpg").write_bytes(b"x" * 4001)
    result = {
        "name": "S",
        "type": "public_channel",
        "id": 5,
        "messages": [
            message(1, photo="../secret.jpg"),
            message(2, photo="/etc/passwd"),
            message(3, photo="photos/link.jpg"),
            message(4, photo="photos/big.jpg"),
            message(5, file="files/missing.pdf"),
            message(6, text="still here"),
        ],
    }
    (folder / "result.json").write_text(json.dumps(result))
    items = parse(folder)
    rejections = [i for i in items if isinstance(i, Rejection)]
    records = [i for i in items if isinstance(i, Record)]
    assert [r.ref for r in rejections] == [
        "chat 5 message 1 photo",
        "chat 5 message 2 photo",
        "chat 5 message 3 photo",
        "chat 5 message 4 photo",
        "chat 5 message 5 file",
    ]
    assert "climbs out" in rejections[0].reason
    assert "absolute" in rejections[1].reason
    assert "outside" in rejections[2].reason
    assert "over the limit" in rejections[3].reason
    assert "does not exist" in rejections[4].reason
    assert all(r.content is None for r in records)
    assert records[-1].text == "still here"
    assert [r.url for r in records][-1] == "https://t.me/c/5/6"


def test_full_export_reads_every_chat(tmp_path: Path) -> None:
    folder = export(
        tmp_path,
        {
            "chats": {
                "list": [
                    {
                        "name": "A",
                        "type": "public_channel",
                        "id": 1,
                        "messages": [message(1, text="a")],
                    },
                    {
                        "name": "B",
                        "type": "private_group",
                        "id": 2,
                        "messages": [message(1, text="b")],
                    },
                ]
            }
        },
    )
    assert [i.url for i in parse(folder) if isinstance(i, Record)] == [
        "https://t.me/c/1/1",
        "https://t.me/c/2/1",
    ]


def test_hostile_message_shapes_are_rejected_not_raised(tmp_path: Path) -> None:
    folder = export(
        tmp_path,
        {
            "name": "S",
            "type": "public_channel",
            "id": 5,
            "messages": [
                "not an object",
                {"id": "x"},
                message(2, text="ok", date_unixtime="nope", date="garbage"),
                message(3, text=["a", 5, {"type": "link"}], photo=7),
                message(4, text="fine"),
            ],
        },
    )
    items = parse(folder)
    kinds = [(type(i).__name__, i.ref) for i in items]
    assert kinds[:3] == [
        ("Rejection", "chat 5 message #1"),
        ("Rejection", "chat 5 message #2"),
        ("Rejection", "chat 5 message 2"),
    ]
    assert ("Rejection", "chat 5 message 3 photo") in kinds
    assert kinds[-1] == ("Record", "chat 5 message 4")


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"name": "x"}', b"\xff\xfe"])
def test_unreadable_result_json_raises_intake_error(tmp_path: Path, content: bytes) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "result.json").write_bytes(content)
    with pytest.raises(IntakeError):
        parse(folder)


def test_result_json_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    folder = export(tmp_path, {"name": "S", "id": 1, "messages": [message(1, text="x" * 5000)]})
    with pytest.raises(IntakeError, match="over the limit"):
        parse(folder)


def test_bad_channel_option_is_refused(tmp_path: Path) -> None:
    folder = export(tmp_path, {"name": "S", "id": 1, "messages": []})
    with pytest.raises(IntakeError, match="public name"):
        parse(folder, channel="../evil")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=15,
)
MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers(-5, 10**12) | JSON,
        "type": st.sampled_from(["message", "service"]) | JSON,
        "date": st.text(max_size=25) | JSON,
        "date_unixtime": st.integers(-(10**20), 10**20).map(str) | JSON,
        "text": st.lists(
            st.text(max_size=20)
            | st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["link", "text_link", "bold"]),
                    "text": st.text(max_size=20),
                },
                optional={"href": JSON | st.text(max_size=20)},
            ),
            max_size=4,
        )
        | JSON,
        "photo": st.sampled_from(["../x", "/etc/passwd", "photos/none.jpg", NOT_INCLUDED, ""])
        | JSON,
        "file": st.text(max_size=20) | JSON,
        "from": JSON,
    },
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    chat_id=st.integers(-(10**15), 10**15) | JSON,
    messages=st.lists(MESSAGE | JSON, max_size=5),
)
def test_arbitrary_exports_yield_only_records_or_rejections(
    tmp_path: Path, chat_id: object, messages: list[object]
) -> None:
    folder = export(
        tmp_path, {"name": "S", "type": "public_channel", "id": chat_id, "messages": messages}
    )
    for item in parse(folder):
        assert isinstance(item, Record | Rejection)
        if isinstance(item, Record):
            assert item.url is not None


def test_text_over_the_limit_is_rejected_but_the_message_url_is_kept(tmp_path: Path) -> None:
    folder = export(tmp_path, {"name": "S", "id": 5, "messages": [message(1, text="y" * 300)]})
    items = list(TelegramImporter().parse(folder, Limits(max_text_chars=100), {}))
    rejection, record = items
    assert isinstance(rejection, Rejection) and rejection.ref == "chat 5 message 1 text"
    assert "over the limit of 100" in rejection.reason
    assert isinstance(record, Record)
    assert record.url == "https://t.me/c/5/1"
    assert record.text is None
    assert record.notes == "text over the size limit not kept"


def test_one_huge_number_rejects_its_message_not_the_export(tmp_path: Path) -> None:
    """Issue #20: a 100,000-digit number (valid JSON; over Python's int-from-str limit) made
    the whole export unreadable."""
    messages = [
        message(1, text="first"),
        message(2, text="huge", forwarded_from_id=12345),
        message(3, text="third"),
    ]
    folder = export(
        tmp_path, {"name": "c", "type": "public_channel", "id": 5, "messages": messages}
    )
    raw = (folder / "result.json").read_text(encoding="utf-8")
    (folder / "result.json").write_text(raw.replace("12345", "9" * 100_000), encoding="utf-8")
    items = TelegramImporter().parse(folder, Limits(), {"channel": "synthetic"})
    kinds = [(type(i).__name__, i.ref) for i in items]
    assert kinds == [
        ("Record", "message 1"),
        ("Rejection", "message 2"),
        ("Record", "message 3"),
    ]
