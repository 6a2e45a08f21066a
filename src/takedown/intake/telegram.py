"""Telegram Desktop exports: ``result.json`` plus media folders, one Record per message."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from takedown.intake.fields import FieldError, parse_seen_at
from takedown.intake.reading import raw_head, too_many
from takedown.intake.records import ContentRef, IntakeError, Item, Limits, Record, Rejection
from takedown.intake.safepath import regular_file_size, resolve_inside

NOT_INCLUDED = "(File not included."
_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]+", re.I)
_TRAILING = ".,;:!?)]}»”’'\""
_PUBLIC_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_EXTRA_KEYS = ("from", "from_id", "author", "forwarded_from", "saved_from", "via_bot")


class TelegramImporter:
    """Option ``channel``: the public name, for ``https://t.me/<name>/<id>`` URLs.

    The option applies to single-chat exports only; a full export (many chats) always uses
    ``https://t.me/c/<chat id>/<message id>`` and prefixes refs with ``chat <id>``.
    """

    name = "telegram"

    def sniff(self, path: Path) -> bool:
        return path.is_dir() and (path / "result.json").is_file()

    def parse(self, path: Path, limits: Limits, options: Mapping[str, str]) -> Iterator[Item]:
        export = _load(path, limits)
        chats = _chats(export)
        channel = options.get("channel", "").strip().lstrip("@") or None
        if channel is not None and not _PUBLIC_NAME.match(channel):
            raise IntakeError(f"channel {channel[:64]!r} is not a Telegram public name")
        count = 0
        for chat in chats:
            for item in _chat_items(chat, path, limits, channel if len(chats) == 1 else None):
                count += 1
                if too_many(count, limits.max_records):
                    yield Rejection("source", f"over the limit of {limits.max_records} records")
                    return
                yield item


def _load(folder: Path, limits: Limits) -> dict[str, Any]:
    result = folder / "result.json"
    try:
        regular_file_size(result, "result.json", limits.max_file_bytes)
        with result.open("rb") as handle:
            data = json.load(handle, parse_int=_int_or_huge)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntakeError(f"result.json is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise IntakeError(f"result.json cannot be read: {type(exc).__name__}") from None
    except OSError as exc:
        raise IntakeError(f"result.json cannot be read: {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise IntakeError("result.json is not a Telegram export (not a JSON object)")
    return data


def _chats(export: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(export.get("messages"), list):
        return [export]
    found: list[dict[str, Any]] = []
    for key in ("chats", "left_chats"):
        section = export.get(key)
        listed = section.get("list") if isinstance(section, dict) else None
        if isinstance(listed, list):
            found.extend(c for c in listed if isinstance(c, dict))
    if not found and not isinstance(export.get("chats"), dict):
        raise IntakeError("result.json holds neither 'messages' nor 'chats': not a Telegram export")
    return found


def _chat_id(chat: dict[str, Any]) -> str:
    raw = chat.get("id")
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else ""
    if text.startswith("-100"):
        text = text[4:]
    text = text.lstrip("-")
    if not text.isdigit():
        raise IntakeError(f"chat {chat.get('name')!r}: its id {str(raw)[:40]!r} is not a number")
    return text


def _chat_items(
    chat: dict[str, Any], root: Path, limits: Limits, channel: str | None
) -> Iterator[Item]:
    try:
        chat_id = _chat_id(chat)
    except IntakeError as exc:
        yield Rejection(f"chat {str(chat.get('name'))[:80]}", str(exc))
        return
    base = f"https://t.me/{channel}" if channel else f"https://t.me/c/{chat_id}"
    prefix = "" if channel else f"chat {chat_id} "
    messages = chat.get("messages")
    if not isinstance(messages, list):
        return
    name = chat.get("name")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not _is_int(message.get("id")):
            yield Rejection(
                f"{prefix}message #{index + 1}",
                f"{prefix}message #{index + 1}: not an object with a numeric id",
                _raw(message),
            )
            continue
        if message.get("type", "message") != "message":
            continue
        ref = f"{prefix}message {message['id']}"
        huge = _huge_inside(message)
        if huge is not None:
            yield Rejection(
                ref,
                f"{ref}: holds a number of {len(huge)} digits (over {_MAX_DIGITS})",
                raw_head(huge.encode()),
            )
            continue
        yield from _message_items(message, ref, f"{base}/{message['id']}", root, limits, name)


#: Python refuses to turn more digits than this into an int (sys.int_info); JSON allows any.
_MAX_DIGITS = 4300


class HugeNumber(str):
    """A JSON number too long to be an int: kept as its digits, so only the message that holds
    it is rejected, not the whole export (one 100,000-digit number made it unreadable)."""


def _int_or_huge(digits: str) -> int | HugeNumber:
    if len(digits.lstrip("-")) > _MAX_DIGITS:
        return HugeNumber(digits)
    return int(digits)


def _huge_inside(value: object, depth: int = 0) -> HugeNumber | None:
    if isinstance(value, HugeNumber):
        return value
    if depth > 64:
        return None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        found = _huge_inside(item, depth + 1)
        if found is not None:
            return found
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _message_items(
    message: dict[str, Any], ref: str, url: str, root: Path, limits: Limits, chat: object
) -> Iterator[Item]:
    try:
        seen_at = _seen_at(message)
    except FieldError as exc:
        yield Rejection(ref, f"{ref}: {exc}", _raw(message))
        return
    text, links = _flatten(message.get("text"))
    links.extend(x for x in _flatten(message.get("text_entities"))[1] if x not in links)
    notes: list[str] = []
    if len(text) > limits.max_text_chars:
        yield Rejection(
            f"{ref} text",
            f"{ref}: text of {len(text)} characters, over the limit of {limits.max_text_chars}",
            text[:4096].encode("utf-8", "replace")[:4096],
        )
        text, links = "", []
        notes.append("text over the size limit not kept")
    content, media_notes, media_rejections = _media(message, ref, root, limits)
    notes.extend(media_notes)
    yield from media_rejections
    has_media = any(isinstance(message.get(k), str) for k in ("photo", "file"))
    if not (text.strip() or content is not None or has_media or notes):
        return
    extra = {k: _short(message[k], limits) for k in _EXTRA_KEYS if message.get(k) is not None}
    if isinstance(chat, str):
        extra["chat"] = _short(chat, limits)
    yield Record(
        ref=ref,
        url=url,
        seen_at=seen_at,
        text=text or None,
        content=content,
        notes="; ".join(notes) or None,
        extra=extra,
    )
    for number, link in enumerate(links, start=1):
        link_ref = f"{ref} link {number}"
        if len(link) > limits.max_url_chars:
            yield Rejection(link_ref, f"{link_ref}: URL over {limits.max_url_chars} characters")
            continue
        yield Record(ref=link_ref, url=link, seen_at=seen_at, notes=f"linked from {url}")


def _raw(message: object) -> bytes:
    return raw_head(json.dumps(message, ensure_ascii=False).encode("utf-8", "replace"))


def _short(value: object, limits: Limits) -> str:
    return str(value)[: limits.max_field_chars]


def _seen_at(message: dict[str, Any]) -> datetime | None:
    unix = message.get("date_unixtime")
    if isinstance(unix, str | int) and not isinstance(unix, bool) and str(unix).isdigit():
        return parse_seen_at(str(unix)).astimezone(UTC)
    date = message.get("date")
    if date is None:
        return None
    return parse_seen_at(date)  # Telegram writes exporter-local time; read as UTC


def _flatten(text: object) -> tuple[str, list[str]]:
    """Plain text and the links it carries (entities ``link``/``text_link`` and bare URLs)."""
    parts: list[str] = []
    links: list[str] = []
    pieces = text if isinstance(text, list) else [text]
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
            continue
        if not isinstance(piece, dict) or not isinstance(piece.get("text"), str):
            continue
        parts.append(piece["text"])
        if piece.get("type") == "link":
            links.append(piece["text"].strip())
        elif piece.get("type") == "text_link" and isinstance(piece.get("href"), str):
            links.append(piece["href"].strip())
    flat = "".join(parts)
    for match in _URL_IN_TEXT.finditer(flat):
        links.append(match.group(0).rstrip(_TRAILING))
    unique: list[str] = []
    for link in links:
        if link and link not in unique:
            unique.append(link)
    return flat, unique


def _media(
    message: dict[str, Any], ref: str, root: Path, limits: Limits
) -> tuple[ContentRef | None, list[str], list[Rejection]]:
    notes: list[str] = []
    rejections: list[Rejection] = []
    for key in ("photo", "file"):
        value = message.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            rejections.append(Rejection(f"{ref} {key}", f"{ref}: {key} is not a file path"))
            continue
        if value.startswith(NOT_INCLUDED):
            notes.append(f"{key} not included in the export")
            continue
        try:
            path = resolve_inside(root, value)
            size = regular_file_size(path, value, limits.max_file_bytes)
        except IntakeError as exc:
            notes.append(f"{key} rejected")
            rejections.append(Rejection(f"{ref} {key}", f"{ref} {key}: {exc}"))
            continue
        mime = message.get("mime_type")
        return (
            ContentRef(
                open=lambda p=path: p.open("rb"),  # type: ignore[misc]
                name=path.name,
                size=size,
                media_type=mime if isinstance(mime, str) and len(mime) < 128 else None,
            ),
            notes,
            rejections,
        )
    return None, notes, rejections
