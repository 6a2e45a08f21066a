"""``takedown bank add`` (bank media files directly: hash them, add their signals) and
``takedown bank export`` (every list format of the field, ``docs/formats/hash-lists.md``).

Every signal type's primary value goes in (``variant ""``), and the keypoints' colour layout
(``variant "layout"``, which verifying a keypoint match needs), as ``takedown hash`` computes
them and as a partner's hash list would carry them; a file none of whose signals could be
computed is reported as rejected. Nothing of the file itself is kept.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from takedown.cli.matching import print_import
from takedown.cli.output import console, fail, json_option, print_json
from takedown.matching.format_pytx import pytx_skipped, write_te_cache
from takedown.matching.formats import WRITER_NAMES, BadRow, BankRow, writers


def rows_of_file(path: Path, labels: dict[str, str]) -> list[BankRow | BadRow]:
    """The bank rows of one file: each signal type's primary value (and the keypoints'
    layout, which verifying a keypoint match needs), or why not."""
    from takedown.matching.lookup import hash_file  # hashing: numba, OpenCV, PyAV

    try:
        _kind, values, errors = hash_file(path)
    except OSError as exc:
        return [BadRow(path.name, f"cannot read: {exc}")]
    rows: list[BankRow | BadRow] = [
        BankRow(path.name, v.signal_type, v.value, labels=dict(labels))
        for v in sorted(values, key=lambda v: v.signal_type)
        if v.bankable
    ]
    if not rows:
        reason = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "no signal"
        rows.append(BadRow(path.name, reason))
    return rows


@click.command("add")
@click.argument("name")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--label", "labels", multiple=True, help="Label KEY=VALUE for the entries.")
@click.option("--actor")
@json_option
@click.pass_obj
def bank_add(
    obj: Any,
    name: str,
    files: tuple[Path, ...],
    labels: tuple[str, ...],
    actor: str | None,
    as_json: bool,
) -> None:
    """Hash FILES and add their signals (each type's primary value) to bank NAME."""
    from takedown.matching import banks as bank_ops

    label_map = dict(item.partition("=")[::2] for item in labels)
    rows = [row for path in files for row in rows_of_file(path, label_map)]
    try:
        report = bank_ops.add_entries(obj.app, name, rows, actor)
    except bank_ops.BankError as exc:
        raise fail(str(exc)) from exc
    print_import(report, as_json)


@click.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(WRITER_NAMES), default="csv", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="File to write (default stdout); a folder for te-cache.",
)
@click.option(
    "--variant",
    type=click.Choice(["cli", "hma1"]),
    default="cli",
    show_default=True,
    help="te-cache columns: pytx's CLI cache or HMA 1.0's data files.",
)
@json_option
@click.pass_obj
def bank_export(
    obj: Any, name: str, fmt: str, out: Path | None, variant: str, as_json: bool
) -> None:
    """Export active entries with labels and feedback (pytx, HMA, GIFCT, CSV, plain)."""
    from takedown.matching import banks as bank_ops

    try:
        rows = bank_ops.export_rows(obj.app, name)
    except bank_ops.BankError as exc:
        raise fail(str(exc)) from exc
    skipped = pytx_skipped(rows) if fmt == "pytx" else {}
    files: dict[str, int] = {}
    if fmt == "te-cache":
        if out is None:
            raise fail("te-cache writes one file per type: give --out FOLDER")
        files = write_te_cache(rows, out, variant)
        skipped = {"no ThreatExchange type": files.pop("")} if "" in files else {}
        count = sum(files.values())
    elif out is None and not as_json:
        writers()[fmt](rows, sys.stdout)
        _warn_skipped(skipped)
        return
    elif out is not None:
        with out.open("w", encoding="utf-8", newline="") as handle:
            count = writers()[fmt](rows, handle)
    else:
        count = len(rows) - sum(skipped.values())
    if as_json:
        print_json(
            {
                "bank": name,
                "format": fmt,
                "entries": count,
                "out": str(out) if out else None,
                "files": files,
                "not_exported": skipped,
                "rows": [] if out else [vars(r) for r in rows],
            }
        )
    else:
        console.print(f"{count} entries written to {out}", markup=False)
        _warn_skipped(skipped)


def _warn_skipped(skipped: dict[str, int]) -> None:
    for kind, n in sorted(skipped.items()):
        click.echo(f"not exported: {n} {kind} entries (the format has no such type)", err=True)
