"""Writers (and the ``.te`` cache reader) of the field's list formats.

- :func:`write_te`: pytx's ``local_file`` lines for every entry — pytx names where pytx has the
  type, Takedown's own name otherwise (Takedown reads both back; pytx ignores the latter).
- :func:`write_pytx`: the same lines, only for the types pytx carries (what a partner's pytx or
  HMA should be given); :func:`pytx_skipped` counts what it leaves out.
- :func:`write_gifct`: GIFCT-style CSV ``hash,type,labels,source``.
- :func:`write_te_cache` / :func:`parse_te_cache`: pytx's ``simple.<INDICATOR_TYPE>.te`` cache
  files, one per ThreatExchange indicator type, in pytx's CLI variant
  (``indicator,first_descriptor_id,added_on,labels``) or HMA 1.0's
  (``indicator,indicator_id,first_descriptor_id,added_on,labels``), the data files HMA 1.0
  banks were exported and imported as. Labels there are space-separated tags.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from takedown.matching import exchange_names as names
from takedown.matching.formats import (
    TE_CACHE_NAME,
    BadRow,
    BankFormatError,
    BankRow,
    csv_rows,
    typed_rows,
)

TE_CACHE_VARIANTS = ("cli", "hma1")


def _te_line(row: BankRow, only_pytx: bool) -> str | None:
    carried = names.to_pytx(row.signal_type, row.value)
    if carried is None:
        return None if only_pytx else f"{row.signal_type} {row.value}\n"
    return f"{carried[0]} {carried[1]}\n"


def _write_lines(rows: Iterable[BankRow], out: TextIO, only_pytx: bool) -> int:
    count = 0
    for row in rows:
        line = _te_line(row, only_pytx)
        if line is not None:
            out.write(line)
            count += 1
    return count


def write_te(rows: Iterable[BankRow], out: TextIO) -> int:
    return _write_lines(rows, out, only_pytx=False)


def write_pytx(rows: Iterable[BankRow], out: TextIO) -> int:
    return _write_lines(rows, out, only_pytx=True)


def pytx_skipped(rows: Iterable[BankRow]) -> dict[str, int]:
    """Entries per Takedown type that pytx has no name for (left out by :func:`write_pytx`)."""
    return dict(Counter(r.signal_type for r in rows if r.signal_type not in names.TAKEDOWN_TO_PYTX))


def write_gifct(rows: Iterable[BankRow], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["hash", "type", "labels", "source"])
    count = 0
    for row in rows:
        name, value = names.to_pytx(row.signal_type, row.value) or (row.signal_type, row.value)
        writer.writerow([value, name, row.labels.get("tags", ""), row.labels.get("source", "")])
        count += 1
    return count


def _tags(row: BankRow) -> str:
    """Space-separated tags (a tag's own spaces become ``_``), as the ``.te`` files hold them."""
    raw = row.labels.get("tags", "")
    parts = raw.replace(";", " ").replace(",", " ").split() if raw else []
    return " ".join(parts)


def write_te_cache(rows: Iterable[BankRow], folder: Path, variant: str = "cli") -> dict[str, int]:
    """One ``simple.<INDICATOR_TYPE>.te`` per type into ``folder``; entries per file name.
    Types ThreatExchange has no indicator type for are counted under ``""`` and not written."""
    if variant not in TE_CACHE_VARIANTS:
        raise BankFormatError(
            f"unknown te-cache variant {variant!r} ({', '.join(TE_CACHE_VARIANTS)})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    handles: dict[str, TextIO] = {}
    try:
        for row in rows:
            indicator = names.TAKEDOWN_TO_INDICATOR.get(row.signal_type)
            given = row.labels.get("indicator_type", "")
            if names.INDICATOR_TO_TAKEDOWN.get(given) == row.signal_type:
                indicator = given  # e.g. HASH_VIDEO_MD5 stays so, not HASH_MD5
            if indicator is None:
                counts[""] += 1
                continue
            name = f"simple.{indicator}.te"
            if name not in handles:
                handles[name] = (folder / name).open("w", encoding="utf-8", newline="")
            value = names.unquote_text(row.value) if row.signal_type == "raw_text" else row.value
            descriptor = row.labels.get("descriptor_id", "")
            descriptor = descriptor if descriptor.isdigit() else "0"
            added = row.labels.get("added_on") or "mine"
            middle = [descriptor, added, _tags(row)]
            if variant == "hma1":
                ext = row.external_id or ""
                middle.insert(0, ext if ext.isdigit() else "0")
            csv.writer(handles[name]).writerow([value, *middle])
            counts[name] += 1
    finally:
        for handle in handles.values():
            handle.close()
    return dict(counts)


def parse_te_cache(
    path: Path, lines: Iterator[tuple[int, str | None]], known: frozenset[str]
) -> Iterator[BankRow | BadRow]:
    """Rows of one ``simple.<INDICATOR_TYPE>.te`` file (either variant, told by column count)."""
    match = TE_CACHE_NAME.fullmatch(path.name)
    if match is None:
        raise BankFormatError(
            f"a .te cache file is named simple.<INDICATOR_TYPE>.te, not {path.name!r}"
        )
    indicator = match.group(1)
    for ref, fields in csv_rows(lines):
        if isinstance(fields, BadRow):
            yield fields
            continue
        if len(fields) not in (4, 5):
            yield BadRow(ref, f"{len(fields)} fields; a .te cache row has 4 (pytx) or 5 (HMA 1.0)")
            continue
        value, *ids, added_on, tags = (f.strip() for f in fields)
        if not all(i.isdigit() for i in ids):
            yield BadRow(ref, "the id columns of a .te cache row must be numbers")
            continue
        labels = {"descriptor_id": ids[-1], "added_on": added_on[:50], "indicator_type": indicator}
        if tags:
            labels["tags"] = " ".join(tags.split())[:500]
        external = ids[0] if len(ids) == 2 else None
        yield from typed_rows(ref, indicator, value, known, external, labels)
