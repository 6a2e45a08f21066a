"""Bank file formats of the field, parsed and written without a database.

- ``csv``: a header row with ``signal_type`` and ``value`` (aliases: ``signal``, ``hash``,
  ``pdq_hex``, ``md5``, ``sha256``), optional ``external_id`` and label columns
  (``outlet``, ``entity``, ``taxonomy``, ``source``, ``confidence``; other columns are kept as
  labels too). ThreatExchange/HMA hash-list CSVs fit this shape.
- ``te``: python-threatexchange's signal file, one ``<signal_type> <value>`` per line
  (``pdq``, ``photo_md5``, ``video_md5``, ``url`` … mapped to our names; ``raw_text`` lines
  are hashed on import into ``text_exact`` and ``text_minhash`` values).
- ``plain``: one hex value per line; the signal type is given, or inferred from the length
  where that is unambiguous (32 hex = md5); 64 hex (sha256 or pdq) needs ``--signal``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from takedown.signals.base import SignalError

LABEL_FIELDS = ("outlet", "entity", "taxonomy", "source", "confidence")
VALUE_ALIASES = ("value", "signal", "signal_value", "hash", "pdq_hex", "pdq", "md5", "sha256")
TYPE_ALIASES = ("signal_type", "type", "hash_type", "algorithm")
#: ThreatExchange's ``raw_text`` lines carry the text itself; it is hashed on import into the
#: text signal types named here (the text is not kept).
RAW_TEXT = "raw_text"
RAW_TEXT_TYPES = ("text_exact", "text_minhash")
TE_NAMES = {
    "pdq": "pdq",
    "photo_pdq": "pdq",
    "md5": "md5",
    "photo_md5": "md5",
    "video_md5": "md5",
    "sha256": "sha256",
    "url": "url",
    "raw_text": RAW_TEXT,
    "text_exact": "text_exact",  # takedown.text (issue #9)
    "text_minhash": "text_minhash",
    "text_spin": "text_spin",
    "text_anchors": "text_anchors",
    "vpdq": "video",
    "video": "video",
    "keypoints": "keypoints",  # takedown.robust (issue #8)
    "video_keyframe": "video_keyframe",  # takedown.robust.video_signal (issue #8)
}
MAX_LINE = 1_000_000
MAX_LABEL = 500


class BankFormatError(ValueError):
    """A bank file that cannot be read at all."""


@dataclass(frozen=True)
class BankRow:
    ref: str
    signal_type: str
    value: str
    external_id: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BadRow:
    ref: str
    reason: str


def detect(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    with path.open("rb") as handle:
        first = handle.readline(4096).decode("utf-8", "replace").strip()
    if " " in first and first.split(" ", 1)[0].lower() in TE_NAMES:
        return "te"
    return "plain"


def _lines(path: Path) -> Iterator[tuple[int, str | None]]:
    with path.open("rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE:
                while raw and not raw.endswith(b"\n"):
                    raw = handle.readline(MAX_LINE)
                yield number, None
                continue
            try:
                yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                yield number, None


def parse(path: Path, fmt: str = "auto", signal: str | None = None) -> Iterator[BankRow | BadRow]:
    """Rows of a bank file; bad rows come back as :class:`BadRow` with the reason."""
    if not path.is_file():
        raise BankFormatError(f"{path} is not a file")
    fmt = detect(path) if fmt == "auto" else fmt
    if fmt == "csv":
        yield from _parse_csv(path, signal)
    elif fmt in ("te", "plain"):
        yield from _parse_lines(path, fmt, signal)
    else:
        raise BankFormatError(f"unknown bank format {fmt!r} (csv, te, plain)")


def _parse_lines(path: Path, fmt: str, signal: str | None) -> Iterator[BankRow | BadRow]:
    for number, line in _lines(path):
        ref = f"line {number}"
        if line is None:
            yield BadRow(ref, "line is not UTF-8 or is over the size limit")
            continue
        if not line or line.startswith("#"):
            continue
        if fmt == "te":
            kind, _, value = line.partition(" ")
            name = TE_NAMES.get(kind.lower())
            if name is None:
                yield BadRow(ref, f"unknown signal type {kind[:40]!r}")
                continue
            if name == RAW_TEXT:
                yield from _raw_text_rows(ref, value.strip())
                continue
            yield BankRow(ref, name, value.strip())
            continue
        inferred = signal or ("md5" if len(line) == 32 else None)
        if inferred is None:
            yield BadRow(
                ref, f"cannot tell the signal type of a {len(line)}-character value; give --signal"
            )
            continue
        yield BankRow(ref, inferred, line)


def _raw_text_rows(ref: str, text: str) -> Iterator[BankRow | BadRow]:
    """The text signals of a ``raw_text`` line (its primary values), or why there are none."""
    from takedown.plugins import signal_types  # the text types register through the plugins

    types = signal_types()
    for name in RAW_TEXT_TYPES:
        signal = types.get(name)
        if signal is None:
            yield BadRow(ref, f"raw_text needs the {name} signal type, which is not installed")
            continue
        try:
            values = signal.hash_stream(io.BytesIO(text.encode("utf-8")))
        except SignalError as exc:
            yield BadRow(ref, f"raw_text cannot be hashed as {name}: {exc}")
            continue
        for value in values:
            if value.variant == "":
                yield BankRow(ref, name, value.value)


def _parse_csv(path: Path, signal: str | None) -> Iterator[BankRow | BadRow]:
    """Line by line, so that one undecodable or malformed line costs only itself."""
    lines = _lines(path)
    header: list[str] | None = None
    for number, line in lines:
        if line is None:
            raise BankFormatError(f"unreadable CSV header on line {number}")
        if line:
            header = [h.strip().lower() for h in _split(line)]
            break
    if header is None:
        raise BankFormatError("empty CSV file")
    value_col = next((h for h in VALUE_ALIASES if h in header), None)
    type_col = next((h for h in TYPE_ALIASES if h in header), None)
    if value_col is None:
        raise BankFormatError(f"CSV needs a value column (one of {', '.join(VALUE_ALIASES)})")
    for number, line in lines:
        ref = f"line {number}"
        if line is None:
            yield BadRow(ref, "line is not UTF-8 or is over the size limit")
            continue
        if not line:
            continue
        try:
            fields = _split(line)
        except csv.Error as exc:
            yield BadRow(ref, f"malformed CSV: {exc}")
            continue
        if len(fields) > len(header):
            yield BadRow(ref, f"{len(fields)} fields where the header has {len(header)}")
            continue
        row = dict(zip(header, fields, strict=False))
        value = (row.get(value_col) or "").strip()
        kind = (row.get(type_col) or "").strip().lower() if type_col else ""
        kind = TE_NAMES.get(kind, kind) or signal or _type_from_column(value_col, value)
        if not value:
            yield BadRow(ref, "empty value")
            continue
        if not kind:
            yield BadRow(ref, "no signal type in the row; give --signal")
            continue
        skip = {value_col, type_col, "external_id", "id"}
        labels = {
            k: v.strip()[:MAX_LABEL] for k, v in row.items() if k and k not in skip and v.strip()
        }
        ext = (row.get("external_id") or row.get("id") or "").strip() or None
        yield BankRow(ref, kind, value, ext[:200] if ext else None, labels)


def _split(line: str) -> list[str]:
    return next(csv.reader([line]), [])


def _type_from_column(column: str, value: str) -> str:
    if column in ("pdq", "pdq_hex"):
        return "pdq"
    if column in ("md5", "sha256"):
        return column
    return "md5" if len(value) == 32 else ""


def write_csv(rows: Iterable[BankRow], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["signal_type", "value", "external_id", *LABEL_FIELDS, "feedback"])
    count = 0
    for row in rows:
        writer.writerow(
            [row.signal_type, row.value, row.external_id or ""]
            + [row.labels.get(k, "") for k in LABEL_FIELDS]
            + [row.labels.get("feedback", "")]
        )
        count += 1
    return count


def write_te(rows: Iterable[BankRow], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(f"{row.signal_type} {row.value}\n")
        count += 1
    return count


def write_plain(rows: Iterable[BankRow], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(f"{row.value}\n")
        count += 1
    return count


WRITERS = {"csv": write_csv, "te": write_te, "plain": write_plain}
