"""Matching commands: hash, match, bank (``sightings`` is in ``takedown.cli.sightings``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from takedown.cli.output import console, fail, json_option, print_json, table
from takedown.matching.formats import FORMATS, VERDICTS, BankFormatError, parse

# The banks and lookup modules bring SQLAlchemy, the models and the settings, and hashing
# brings numba, OpenCV and PyAV: each command imports what it uses, so ``--help`` is fast.
if TYPE_CHECKING:
    from takedown.matching import banks as bank_ops
    from takedown.matching.lookup import LookupResult


@click.command("hash")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--signal", "only", help="Only this signal type.")
@json_option
def hash_cmd(files: tuple[Path, ...], only: str | None, as_json: bool) -> None:
    """Signals of files (nothing is stored)."""
    from takedown.matching.lookup import hash_file
    from takedown.plugins import signal_types

    if only and only not in signal_types():
        raise fail(f"unknown signal type {only!r}; known: {', '.join(sorted(signal_types()))}")
    out: list[dict[str, Any]] = []
    for path in files:
        kind, values, errors = hash_file(path, only)
        out.append(
            {
                "file": str(path),
                "kind": kind,
                "signals": [
                    {
                        "signal_type": v.signal_type,
                        "variant": v.variant,
                        "value": v.value,
                        "quality": v.quality,
                        "low_quality": v.low_quality,
                    }
                    for v in values
                ],
                "errors": errors,
            }
        )
    if as_json:
        print_json({"files": out})
    else:
        for item in out:
            console.print(f"[bold]{item['file']}[/bold] ({item['kind']})", highlight=False)
            for s in item["signals"]:
                if s["variant"]:
                    continue
                quality = (
                    f"  quality {s['quality']}" + (" (LOW)" if s["low_quality"] else "")
                    if s["quality"] is not None
                    else ""
                )
                console.print(f"  {s['signal_type']:<8} {s['value']}{quality}", markup=False)
            for name, error in item["errors"].items():
                console.print(f"  {name:<8} error: {error}", markup=False)
    if any(item["errors"] and not item["signals"] for item in out):
        raise SystemExit(1)


def _print_result(result: LookupResult) -> None:
    console.print(f"  {result.signal_type} {result.value[:64]}", markup=False)
    if not result.bank_hits and not result.content_hits:
        console.print("    new: no bank entry or earlier content matches")
    for hit in result.bank_hits:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(hit.labels.items()))
        kind = "allow-list" if hit.allow_list else "known"
        if hit.evidence and hit.evidence.get("method") == "text" and not hit.evidence["links"]:
            kind = f"related ({hit.evidence['label']}), not known"
        held = f" [{hit.status}]" if hit.status != "active" else ""
        console.print(
            f"    {kind}: bank {hit.bank!r} entry {hit.entry_id}, "
            f"distance {hit.distance}{held}  {labels}",
            markup=False,
        )
        _print_evidence(hit.evidence)
    for c in result.content_hits:
        where = c.urls[0] if c.urls else (c.name or "")
        what = "earlier copy"
        if c.evidence and c.evidence.get("method") == "text":
            what = f"earlier text, {c.evidence['label']}"
        console.print(
            f"    {what}: content {c.sha256[:16]}… distance {c.distance}  {where}",
            markup=False,
        )
        _print_evidence(c.evidence)


def _print_evidence(evidence: dict[str, Any] | None) -> None:
    """A robust match's evidence (issue #8): keypoint inliers and the estimated transform,
    or a video's containment shares."""
    from takedown.matching.lookup import evidence_text

    if evidence:
        console.print(f"      evidence: {evidence_text(evidence)}", markup=False)


@click.command("match")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--signal", "signal_type", help="Signal type of --value.")
@click.option("--value", help="A signal value to look up instead of files.")
@click.option("--bank", "banks", multiple=True, help="Only these banks (repeatable).")
@click.option("--text", help="A text to look up with the text signals, instead of files.")
@json_option
@click.pass_obj
def match_cmd(
    obj: Any,
    files: tuple[Path, ...],
    signal_type: str | None,
    value: str | None,
    banks: tuple[str, ...],
    text: str | None,
    as_json: bool,
) -> None:
    """Known material and earlier copies of files, of one signal value or of a text."""
    from takedown.matching.lookup import LookupFailed, lookup, lookup_file

    if sum((bool(files), value is not None, text is not None)) != 1:
        raise fail("give FILE..., --signal NAME --value HASH, or --text TEXT")
    out: list[dict[str, Any]] = []
    try:
        if text is not None:
            from takedown.cli import text as text_cli

            results, errors = text_cli.lookup_text(obj.app, text, banks=list(banks) or None)
            aligned = text_cli.aligned_evidence(obj.app, text, results)
            notes = text_cli.text_notes(text)
            out.append(
                {
                    "text": text,
                    "results": [r.to_dict() for r in results],
                    "aligned_sentences": aligned,
                    "notes": notes,
                    "errors": errors,
                }
            )
            if not as_json:
                for r in results:
                    _print_result(r)
                text_cli.print_evidence(aligned)
                for note in notes:
                    console.print(f"  note: {note}", markup=False)
                for name, error in errors.items():
                    console.print(f"  {name}: error: {error}", markup=False)
        if value is not None:
            if not signal_type:
                raise fail("--value needs --signal")
            result = lookup(obj.app, signal_type, [value], banks=list(banks) or None)
            out.append({"value": value, "results": [result.to_dict()], "errors": {}})
            if not as_json:
                _print_result(result)
        for path in files:
            results, errors = lookup_file(obj.app, path, banks=list(banks) or None)
            file_notes: list[str] = []
            if any(r.signal_type == "text_anchors" for r in results):
                from takedown.cli import text as text_cli

                file_notes = text_cli.file_notes(path)
            out.append(
                {
                    "file": str(path),
                    "results": [r.to_dict() for r in results],
                    "notes": file_notes,
                    "errors": errors,
                }
            )
            if not as_json:
                console.print(f"[bold]{path}[/bold]", highlight=False)
                for r in results:
                    _print_result(r)
                for note in file_notes:
                    console.print(f"  note: {note}", markup=False)
                for name, error in errors.items():
                    console.print(f"  {name}: error: {error}", markup=False)
    except LookupFailed as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json({"lookups": out})


@click.group()
def bank() -> None:
    """Banks of known material and allow-lists."""


def _thresholds(items: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for item in items:
        name, _, number = item.partition("=")
        if not number.strip().isdigit():
            raise fail(f"--threshold takes SIGNAL=NUMBER, got {item!r}")
        out[name.strip()] = int(number)
    return out


@bank.command("create")
@click.argument("name")
@click.option("--description")
@click.option(
    "--allow-list",
    is_flag=True,
    help="Matches against this bank suppress others (e.g. news footage).",
)
@click.option(
    "--threshold", "thresholds", multiple=True, help="SIGNAL=DISTANCE, e.g. pdq=24 (repeatable)."
)
@click.option(
    "--label", "labels", multiple=True, help="Default label KEY=VALUE for entries (repeatable)."
)
@click.option("--actor")
@json_option
@click.pass_obj
def bank_create(
    obj: Any,
    name: str,
    description: str | None,
    allow_list: bool,
    thresholds: tuple[str, ...],
    labels: tuple[str, ...],
    actor: str | None,
    as_json: bool,
) -> None:
    """Create a bank."""
    from takedown.matching import banks as bank_ops

    label_map = dict(item.partition("=")[::2] for item in labels)
    try:
        created = bank_ops.create_bank(
            obj.app,
            name,
            description=description,
            allow_list=allow_list,
            thresholds=_thresholds(thresholds),
            labels=label_map,
            actor=actor,
        )
    except bank_ops.BankError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(
            {
                "id": created.id,
                "name": created.name,
                "allow_list": created.allow_list,
                "thresholds": created.thresholds or {},
            }
        )
    else:
        console.print(f"bank {created.name!r} created", markup=False)


@bank.command("list")
@json_option
@click.pass_obj
def bank_list(obj: Any, as_json: bool) -> None:
    """Banks with their entry counts."""
    from takedown.matching import banks as bank_ops

    infos = bank_ops.list_banks(obj.app)
    data = [
        {
            "name": i.bank.name,
            "allow_list": i.bank.allow_list,
            "entries": i.entries,
            "by_signal": i.by_type,
            "quarantined": i.quarantined,
            "version": i.bank.version,
            "thresholds": i.bank.thresholds or {},
            "labels": i.bank.labels or {},
        }
        for i in infos
    ]
    if as_json:
        print_json({"banks": data})
    else:
        table(
            "Banks",
            ["name", "allow-list", "entries", "by signal", "quarantined", "version"],
            [
                [
                    d["name"],
                    d["allow_list"],
                    d["entries"],
                    d["by_signal"],
                    d["quarantined"],
                    d["version"],
                ]
                for d in data
            ],
        )


@bank.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
)
@click.option("--signal", help="Signal type of values whose rows do not say it.")
@click.option("--actor")
@json_option
@click.pass_obj
def bank_import(
    obj: Any, name: str, file: Path, fmt: str, signal: str | None, actor: str | None, as_json: bool
) -> None:
    """Import entries: pytx local_file lists (te/pytx), pytx `dataset -P` output (pytx-print),
    pytx/HMA 1.0 .te cache files (te-cache), CSV (Takedown's, pytx's dataset CSV, GIFCT-style,
    ThreatExchange typed records) or a plain hex list. One transaction: all or nothing."""
    from takedown.matching import banks as bank_ops

    try:
        report = bank_ops.add_entries(obj.app, name, parse(file, fmt, signal), actor)
    except (bank_ops.BankError, BankFormatError) as exc:
        raise fail(str(exc)) from exc
    print_import(report, as_json)


def print_import(report: bank_ops.BankImportReport, as_json: bool) -> None:
    """What an import or ``bank add`` did: counts, and the first 50 rejected rows and why."""
    if as_json:
        print_json(report.to_dict())
        return
    console.print(
        f"{report.added} added, {report.restored} restored, "
        f"{report.duplicates} duplicates, {report.rejected_count} rejected",
        markup=False,
    )
    for bad in report.rejected[:50]:
        console.print(f"  rejected {bad.ref}: {bad.reason}", markup=False)
    if report.rejected_count > 50:
        console.print(f"  … and {report.rejected_count - 50} more rejected rows", markup=False)


@bank.command("feedback")
@click.argument("entry_id", type=int)
@click.argument("verdict", type=click.Choice(list(VERDICTS)))
@click.option("--note")
@click.option("--actor")
@json_option
@click.pass_obj
def bank_feedback(
    obj: Any, entry_id: int, verdict: str, note: str | None, actor: str | None, as_json: bool
) -> None:
    """Record agree / disagree / false_positive on an entry (exported back to its source)."""
    from takedown.matching import banks as bank_ops

    try:
        fb = bank_ops.add_feedback(obj.app, entry_id, verdict, actor, note)
    except bank_ops.BankError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json({"id": fb.id, "entry_id": entry_id, "verdict": verdict})
    else:
        console.print(f"feedback {verdict} recorded on entry {entry_id}")


@bank.command("remove")
@click.argument("entry_id", type=int)
@click.option("--actor")
@json_option
@click.pass_obj
def bank_remove(obj: Any, entry_id: int, actor: str | None, as_json: bool) -> None:
    """Remove an entry (kept in the bank's history)."""
    from takedown.matching import banks as bank_ops

    try:
        bank_ops.remove_entry(obj.app, entry_id, actor)
    except bank_ops.BankError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json({"removed": entry_id})
    else:
        console.print(f"entry {entry_id} removed")


@bank.command("release")
@click.argument("entry_id", type=int)
@click.option("--reason", default="reviewed")
@click.option("--actor")
@json_option
@click.pass_obj
def bank_release(obj: Any, entry_id: int, reason: str, actor: str | None, as_json: bool) -> None:
    """Release an entry that flood control quarantined."""
    from takedown.matching import banks as bank_ops

    try:
        bank_ops.set_entry_status(obj.app, entry_id, "active", actor, reason)
    except bank_ops.BankError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json({"released": entry_id})
    else:
        console.print(f"entry {entry_id} released")


@bank.command("history")
@click.argument("name")
@json_option
@click.pass_obj
def bank_history(obj: Any, name: str, as_json: bool) -> None:
    """The bank's version history."""
    from takedown.matching import banks as bank_ops

    try:
        changes = bank_ops.history(obj.app, name)
    except bank_ops.BankError as exc:
        raise fail(str(exc)) from exc
    data = [
        {
            "version": c.version,
            "action": c.action,
            "entry_id": c.entry_id,
            "actor": c.actor,
            "at": c.at,
            "detail": c.detail,
        }
        for c in changes
    ]
    if as_json:
        print_json({"bank": name, "history": data})
    else:
        table(
            f"History of {name}",
            ["version", "action", "entry", "actor", "at"],
            [[d["version"], d["action"], d["entry_id"], d["actor"], d["at"]] for d in data],
        )
