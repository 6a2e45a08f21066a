"""Plain URL lists: one URL per line, blank lines and ``#`` comments skipped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from takedown.intake.reading import bounded_lines, raw_head, too_many
from takedown.intake.records import IntakeError, Item, Limits, Record, Rejection


class UrlListImporter:
    """Keeps each URL as written (defanged ``hxxp://x[.]y`` too); canonicalising is later."""

    name = "urls"

    def sniff(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() in (".txt", ".urls", ".lst")

    def parse(self, path: Path, limits: Limits, options: Mapping[str, str]) -> Iterator[Item]:
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise IntakeError(f"cannot open {path.name!r}: {exc.strerror or exc}") from exc
        # Bytes per line: a URL at its limit in worst-case UTF-8, plus surrounding blanks.
        limit = 4 * limits.max_url_chars + 1024
        count = 0
        with stream:
            for line in bounded_lines(stream, limit):
                item = _line(line.number, line.data, line.overlong, limits)
                if item is None:
                    continue
                count += 1
                if too_many(count, limits.max_records):
                    yield Rejection("source", f"over the limit of {limits.max_records} records")
                    return
                yield item


def _line(number: int, data: bytes, overlong: bool, limits: Limits) -> Item | None:
    ref = f"line {number}"
    if overlong:
        return Rejection(
            ref, f"{ref}: over {limits.max_url_chars} characters; not a URL", raw_head(data)
        )
    try:
        text = data.decode("utf-8-sig" if number == 1 else "utf-8").strip()
    except UnicodeDecodeError as exc:
        return Rejection(
            ref, f"{ref}: not UTF-8 (invalid byte at column {exc.start + 1})", raw_head(data)
        )
    if not text or text.startswith("#"):
        return None
    if len(text) > limits.max_url_chars:
        return Rejection(
            ref,
            f"{ref}: {len(text)} characters, over the URL limit of {limits.max_url_chars}",
            raw_head(data),
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return Rejection(
            ref,
            f"{ref}: contains spaces or control characters; put one URL per line",
            raw_head(data),
        )
    return Record(ref=ref, url=text)
