"""Bank file formats of the field, parsed and written without a database.

- ``csv``: a header row with a type column (``signal_type``, ``type``, ``hash_type``,
  ``indicator_type`` …) and a value column (``value``, ``signal``, ``signal_str`` — pytx's
  ``dataset --csv`` —, ``hash`` — GIFCT-style ``hash,type,labels,source`` —, ``indicator`` —
  ThreatExchange typed records —, ``pdq_hex``, ``md5``, ``sha256``), optional ``external_id`` and
  label columns (``outlet``, ``entity``, ``taxonomy``, ``source``, ``confidence``, ``tags``
  (``labels``), ``category``, ``collab``; other columns are kept as labels too).
- ``te`` (alias ``pytx``): pytx's ``local_file`` signal list, one ``<signal_type> <value>`` per
  line; ``pytx-print`` is ``threatexchange dataset -P`` output (a trailing category word).
- ``te-cache``: pytx's ``simple.<INDICATOR_TYPE>.te`` cache files, HMA 1.0's data files
  (headerless CSV, 4 or 5 columns; the type comes from the file name).
- ``plain``: one hex value per line; the signal type is given, or inferred from the length
  where that is unambiguous (32 hex = md5); 64 hex (sha256 or pdq) needs ``--signal``.

Type names are pytx's, HMA's, ThreatExchange's or Takedown's (``takedown.matching.exchange_names``);
a row of a type nobody knows is a :class:`BadRow`, never dropped silently. Every reader streams:
memory stays flat however long the file is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from takedown.matching import exchange_names as names
from takedown.signals.base import SignalError

LABEL_FIELDS = ("outlet", "entity", "taxonomy", "source", "confidence")
#: Labels that hash-sharing formats carry (pytx tags and category, ThreatExchange ids and dates).
EXCHANGE_LABELS = ("tags", "category", "descriptor_id", "added_on", "indicator_type")
#: Feedback on a bank entry (``bank feedback``), exported back to its source.
VERDICTS = ("agree", "disagree", "false_positive")
VALUE_ALIASES = (
    "value",
    "signal",
    "signal_value",
    "signal_str",
    "hash",
    "indicator",
    "pdq_hex",
    "pdq",
    "md5",
    "sha256",
)
TYPE_ALIASES = ("signal_type", "type", "hash_type", "indicator_type", "algorithm")
LABEL_ALIASES = {"labels": "tags", "collab": "source"}
#: ThreatExchange's ``raw_text`` lines carry the text itself; it is kept (``raw_text``) and
#: hashed on import into the text signal types named here, which Takedown matches.
RAW_TEXT = "raw_text"
RAW_TEXT_TYPES = ("text_exact", "text_minhash")
MAX_LINE = 1_000_000
MAX_LABEL = 500
FORMATS = ("csv", "te", "pytx", "pytx-print", "te-cache", "plain")
TE_CACHE_NAME = re.compile(r"simple\.([A-Za-z0-9_]+)\.te")


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


def _known_types() -> frozenset[str]:
    from takedown.plugins import signal_types  # registered types, third-party ones included

    return frozenset(signal_types())


def detect(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if TE_CACHE_NAME.fullmatch(path.name):
        return "te-cache"
    known = _known_types()
    with path.open("rb") as handle:
        first = handle.readline(4096).decode("utf-8-sig", "replace").strip()
    kind, space, _ = first.partition(" ")
    if space and names.takedown_name(kind, known) is not None:
        return "te"
    return "plain"


def _lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """Numbered lines, stripped (``\\n``, ``\\r\\n`` and a lone ``\\r`` each end a line);
    None for a line that is not UTF-8 or is over :data:`MAX_LINE` bytes. A BOM goes."""
    with path.open("rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE:
                while raw and not raw.endswith(b"\n"):
                    raw = handle.readline(MAX_LINE)
                number += 1
                yield number, None
                continue
            for part in raw.rstrip(b"\r\n").split(b"\r"):
                number += 1
                try:
                    yield number, part.decode("utf-8").lstrip("\ufeff").strip()
                except UnicodeDecodeError:
                    yield number, None


def parse(path: Path, fmt: str = "auto", signal: str | None = None) -> Iterator[BankRow | BadRow]:
    """Rows of a bank file; bad rows come back as :class:`BadRow` with the reason."""
    if not path.is_file():
        raise BankFormatError(f"{path} is not a file")
    fmt = detect(path) if fmt == "auto" else fmt
    if fmt == "csv":
        yield from _parse_csv(path, signal)
    elif fmt in ("te", "pytx", "pytx-print", "plain"):
        yield from _parse_lines(path, fmt, signal)
    elif fmt == "te-cache":
        from takedown.matching.format_pytx import parse_te_cache

        yield from parse_te_cache(path, _lines(path), _known_types())
    else:
        raise BankFormatError(f"unknown bank format {fmt!r} ({', '.join(FORMATS)})")


def _parse_lines(path: Path, fmt: str, signal: str | None) -> Iterator[BankRow | BadRow]:
    known = _known_types() if fmt != "plain" else frozenset()
    for number, line in _lines(path):
        ref = f"line {number}"
        if line is None:
            yield BadRow(ref, "line is not UTF-8 or is over the size limit")
            continue
        if not line or (fmt == "plain" and line.startswith("#")):
            continue
        if fmt != "plain":
            kind, _, value = line.partition(" ")
            labels: dict[str, str] = {}
            if fmt == "pytx-print":
                rest, _, category = value.rstrip().rpartition(" ")
                if category in names.PYTX_CATEGORIES:
                    value, labels = rest, {"category": category}
            yield from typed_rows(ref, kind, value.strip(), known, labels=labels)
            continue
        inferred = signal or ("md5" if len(line) == 32 else None)
        if inferred is None:
            yield BadRow(
                ref, f"cannot tell the signal type of a {len(line)}-character value; give --signal"
            )
            continue
        yield BankRow(ref, inferred, line)


def typed_rows(
    ref: str,
    kind: str,
    value: str,
    known: frozenset[str],
    external_id: str | None = None,
    labels: dict[str, str] | None = None,
) -> Iterator[BankRow | BadRow]:
    """The bank rows of one value given under a field type name (pytx, ThreatExchange, HMA or
    Takedown), converted to the form Takedown stores; a ``raw_text`` also yields its text
    signals. An unknown name or an unconvertible value is a :class:`BadRow`."""
    name = names.takedown_name(kind, known)
    if name is None:
        yield BadRow(ref, f"unknown signal type {kind[:40]!r}")
        return
    if not value:
        yield BadRow(ref, "empty value")
        return
    try:
        stored = names.from_pytx(name, value, kind)
    except SignalError as exc:
        yield BadRow(ref, str(exc))
        return
    yield BankRow(ref, name, stored, external_id, dict(labels or {}))
    if name == RAW_TEXT:
        yield from _raw_text_rows(ref, names.unquote_text(stored), external_id, labels)


def _raw_text_rows(
    ref: str, text: str, external_id: str | None, labels: dict[str, str] | None
) -> Iterator[BankRow | BadRow]:
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
                yield BankRow(ref, name, value.value, external_id, dict(labels or {}))


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
    known = _known_types()
    skip = {value_col, type_col, "external_id", "id"}
    for ref, fields in csv_rows(lines):
        if isinstance(fields, BadRow):
            yield fields
            continue
        if len(fields) > len(header):
            yield BadRow(ref, f"{len(fields)} fields where the header has {len(header)}")
            continue
        row = dict(zip(header, fields, strict=False))
        value = (row.get(value_col) or "").strip()
        kind = (row.get(type_col) or "").strip() if type_col else ""
        kind = kind or signal or _type_from_column(value_col, value)
        if not value:
            yield BadRow(ref, "empty value")
            continue
        if not kind:
            yield BadRow(ref, "no signal type in the row; give --signal")
            continue
        labels: dict[str, str] = {}
        for key, text in row.items():
            key = LABEL_ALIASES.get(key, key)
            if key and key not in skip and text.strip() and key not in labels:
                labels[key] = text.strip()[:MAX_LABEL]
        ext = (row.get("external_id") or row.get("id") or "").strip() or None
        yield from typed_rows(ref, kind, value, known, ext[:200] if ext else None, labels)


def csv_rows(
    lines: Iterable[tuple[int, str | None]],
) -> Iterator[tuple[str, list[str] | BadRow]]:
    """(ref, fields) of each non-empty CSV line, or (ref, BadRow) for an unreadable one."""
    # the csv module refuses fields over 128 KiB by default; a line may hold up to MAX_LINE
    # (a TMK hash is ~512 KiB of hex). The limit is process-wide: only ever raise it.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE))
    for number, line in lines:
        ref = f"line {number}"
        if line is None:
            yield ref, BadRow(ref, "line is not UTF-8 or is over the size limit")
            continue
        if not line:
            continue
        try:
            yield ref, _split(line)
        except csv.Error as exc:
            yield ref, BadRow(ref, f"malformed CSV: {exc}")


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
    extra = [k for k in EXCHANGE_LABELS if k not in ("category", "indicator_type")]
    writer.writerow(["signal_type", "value", "external_id", *LABEL_FIELDS, *extra, "feedback"])
    count = 0
    for row in rows:
        value = names.unquote_text(row.value) if row.signal_type == RAW_TEXT else row.value
        writer.writerow(
            [row.signal_type, value, row.external_id or ""]
            + [row.labels.get(k, "") for k in (*LABEL_FIELDS, *extra)]
            + [row.labels.get("feedback", "")]
        )
        count += 1
    return count


def write_plain(rows: Iterable[BankRow], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(f"{row.value}\n")
        count += 1
    return count


def writers() -> dict[str, Callable[[Iterable[BankRow], TextIO], int]]:
    from takedown.matching import format_pytx

    return {
        "csv": write_csv,
        "te": format_pytx.write_te,
        "pytx": format_pytx.write_pytx,
        "gifct": format_pytx.write_gifct,
        "plain": write_plain,
    }


def write_te(rows: Iterable[BankRow], out: TextIO) -> int:
    """pytx ``local_file`` lines for every entry (see :mod:`takedown.matching.format_pytx`)."""
    from takedown.matching.format_pytx import write_te as write

    return write(rows, out)


WRITER_NAMES = ("csv", "te", "pytx", "gifct", "plain", "te-cache")
