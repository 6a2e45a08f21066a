"""``takedown bank add``: bank media files directly (hash them, add their signals).

Every signal type's primary value goes in (``variant ""``), and the keypoints' colour layout
(``variant "layout"``, which verifying a keypoint match needs), as ``takedown hash`` computes
them and as a partner's hash list would carry them; a file none of whose signals could be
computed is reported as rejected. Nothing of the file itself is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from takedown.cli.matching import print_import
from takedown.cli.output import fail, json_option
from takedown.matching import banks as bank_ops
from takedown.matching.formats import BadRow, BankRow
from takedown.matching.lookup import hash_file


def rows_of_file(path: Path, labels: dict[str, str]) -> list[BankRow | BadRow]:
    """The bank rows of one file: each signal type's primary value (and the keypoints'
    layout, which verifying a keypoint match needs), or why not."""
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
    label_map = dict(item.partition("=")[::2] for item in labels)
    rows = [row for path in files for row in rows_of_file(path, label_map)]
    try:
        report = bank_ops.add_entries(obj.app, name, rows, actor)
    except bank_ops.BankError as exc:
        raise fail(str(exc)) from exc
    print_import(report, as_json)
