"""Evidence commands: ingest, purge, legal holds, store check, platform registry."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from takedown.cli.output import console, err_console, fail, json_option, print_json, table
from takedown.cli.queued import collect, wait_option
from takedown.evidence.ingest import Ingestor
from takedown.evidence.report import ImportReport
from takedown.evidence.retention import (
    HoldError,
    lift_hold,
    list_holds,
    place_hold,
)
from takedown.intake.records import IntakeError
from takedown.matching.pipeline import process_new_content
from takedown.store.blobs import BlobError
from takedown.store.models import Content
from takedown.urls import InvalidURL, canonicalize

FORMATS = ["auto", "csv", "jsonl", "urls", "telegram", "warc", "folder"]


def progress_bar(quiet: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} records"),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    )


def print_report(report: ImportReport) -> None:
    status = "[red]failed[/red]" if report.error else "[green]done[/green]"
    console.print(
        f"{report.source} ({report.format}) {status}: {report.records} records, "
        f"{report.created} created, {report.duplicates} duplicates, "
        f"{len(report.rejected)} rejected; content {report.contents_created} new, "
        f"{report.contents_existing} already stored"
    )
    if report.error:
        console.print(f"  source error: {report.error}")
    for item in report.rejected[:50]:
        console.print(f"  rejected {item.ref}: {item.reason}", markup=False)
    if len(report.rejected) > 50:
        console.print(f"  … and {len(report.rejected) - 50} more rejections (see --json)")


def _known_operation(app: Any, name: str) -> None:
    """An unknown --operation is an error with a hint, not a tag on items of no operation."""
    from takedown.ops.models import OpsOperation

    with app.db.session() as session:
        names = list(session.scalars(select(OpsOperation.name).order_by(OpsOperation.name)))
    if name.strip() not in names:
        known = ", ".join(repr(n) for n in names) or "none yet"
        raise fail(
            f"no operation named {name!r}; operations: {known}. Create it first: takedown "
            f'operation create {name!r} --from START --to END --agency "AGENCY"'
        )


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@click.option("--reporter", help="Who submits these items (kept in the chain of custody).")
@click.option(
    "--operation", help="Operation (action day) the items belong to (see `operation list`)."
)
@click.option("--channel", help="Telegram export: the channel's public name (t.me/NAME).")
@json_option
@click.pass_obj
def ingest(
    obj: Any,
    sources: tuple[Path, ...],
    fmt: str,
    reporter: str | None,
    operation: str | None,
    channel: str | None,
    as_json: bool,
) -> None:
    """Import item lists, URL lists, Telegram exports, WARC files or folders.

    Exit status: 0 every record stored (or already there); 3 partial: some records were
    rejected (listed, and kept in quarantine); 1 a source could not be read or the import failed.
    """
    if operation is not None:
        _known_operation(obj.app, operation)
    ingestor = Ingestor(obj.app)
    options = {"channel": channel} if channel else {}
    reports: list[ImportReport] = []
    report_matching: dict[int, dict[str, int]] = {}
    with progress_bar(as_json) as bar:
        for source in sources:
            task = bar.add_task(f"ingest {source.name}", total=None)
            try:
                report = ingestor.ingest(
                    source,
                    fmt,
                    reporter=reporter,
                    operation=operation,
                    options=options,
                    progress=partial(bar.advance, task),
                )
            except IntakeError as exc:
                raise fail(f"{source}: {exc}") from exc
            reports.append(report)
            if report.jobs_queued is not None:
                report_matching[report.import_id] = {"queued": report.jobs_queued}
            elif report.new_content_ids:
                bar.update(task, description=f"hash and match {source.name}")
                report_matching[report.import_id] = process_new_content(
                    obj.app, report.new_content_ids
                )
    if as_json:
        print_json(
            {
                "imports": [
                    {**r.to_dict(), "matching": report_matching.get(r.import_id)} for r in reports
                ]
            }
        )
    else:
        for report in reports:
            print_report(report)
            done = report_matching.get(report.import_id)
            if done and "queued" in done:
                console.print(
                    f"  matching: {done['queued']} hashing job(s) queued (see: takedown jobs)"
                )
            elif done:
                console.print(
                    f"  matching: {done['hashed']} content hashed ({done['failed']} with errors), "
                    f"{done['known']} known material, {done['copies']} copies of earlier content"
                )
    if any(not r.ok for r in reports):
        raise SystemExit(1)
    if any(r.rejected for r in reports):
        raise SystemExit(PARTIAL)


#: ``takedown ingest`` exit status when every source was read but some records were rejected
#: (0: all good; 1: a source could not be read or the import failed; 3: partial).
PARTIAL = 3


@click.group()
def imports() -> None:
    """Import runs: find the ones a killed process left running."""


@imports.command("recover")
@click.option(
    "--older-than",
    "hours",
    type=click.FloatRange(min=0),
    help="Also mark runs of other hosts started more than this many hours ago.",
)
@json_option
@click.pass_obj
def imports_recover(obj: Any, hours: float | None, as_json: bool) -> None:
    """Mark imports left "running" by a killed process as "interrupted".

    Runs of this host whose process is gone are found by every ingest too; their committed
    batches stay (each batch is one transaction)."""
    from datetime import timedelta

    from takedown.evidence.ingest import recover_interrupted

    marked = recover_interrupted(obj.app, None if hours is None else timedelta(hours=hours))
    if as_json:
        print_json({"interrupted": marked})
    else:
        console.print(f"{len(marked)} import(s) marked interrupted: {marked}")


@click.command()
@click.option("--dry-run", is_flag=True, help="List what would be purged; delete nothing.")
@click.option("--actor", help="Who runs the purge (kept in the chain of custody).")
@wait_option
@json_option
@click.pass_obj
def purge(
    obj: Any, dry_run: bool, actor: str | None, wait: bool, wait_timeout: float, as_json: bool
) -> None:
    """Apply retention: delete content preserved past its period, unless on legal hold.

    On PostgreSQL the purge (not a --dry-run) runs as a job: its id is printed, or with --wait
    what it purged.
    """
    from takedown.evidence.retention import purge_task

    app = obj.app
    if app.queued and not dry_run:
        job_id = int(app.jobs.submit("retention.purge", actor=actor))
        done = collect(app, [job_id], wait=wait, timeout=wait_timeout, as_json=as_json)
        if done is None:
            return
        result = done[0]
    else:
        from takedown.jobs.results import jsonable

        result = jsonable(purge_task(app, {"dry_run": dry_run, "actor": actor}))
    if as_json:
        print_json(result)
        return
    verb = "would purge" if dry_run else "purged"
    items = result["purged"]
    console.print(
        f"{verb} {len(items)} content item(s) (retention {result['retention_days']} days)"
    )
    for item in items:
        removed = str(item["removed_confirmed_at"])[:10]
        console.print(f"  {item['sha256']}  {item['size']} bytes  removed {removed}")


@click.group("legal-hold")
def legal_hold() -> None:
    """Legal holds: suspend retention for content needed as evidence."""


@legal_hold.command("add")
@click.argument("sha256")
@click.option("--reason", required=True)
@click.option("--actor")
@json_option
@click.pass_obj
def hold_add(obj: Any, sha256: str, reason: str, actor: str | None, as_json: bool) -> None:
    """Place a legal hold on content (by SHA-256)."""
    try:
        hold = place_hold(obj.app, sha256, reason, actor)
    except HoldError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(
            {"id": hold.id, "sha256": sha256.lower(), "reason": reason, "placed_at": hold.placed_at}
        )
    else:
        console.print(f"legal hold {hold.id} placed on {sha256.lower()}")


@legal_hold.command("lift")
@click.argument("hold_id", type=int)
@click.option("--actor")
@json_option
@click.pass_obj
def hold_lift(obj: Any, hold_id: int, actor: str | None, as_json: bool) -> None:
    """Lift a legal hold."""
    try:
        hold = lift_hold(obj.app, hold_id, actor)
    except HoldError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json({"id": hold.id, "lifted_at": hold.lifted_at})
    else:
        console.print(f"legal hold {hold.id} lifted")


@legal_hold.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include lifted holds.")
@json_option
@click.pass_obj
def hold_list(obj: Any, show_all: bool, as_json: bool) -> None:
    """List legal holds."""
    rows = list_holds(obj.app, active_only=not show_all)
    data = [
        {
            "id": h.id,
            "sha256": sha,
            "reason": h.reason,
            "placed_by": h.placed_by,
            "placed_at": h.placed_at,
            "lifted_at": h.lifted_at,
        }
        for h, sha in rows
    ]
    if as_json:
        print_json({"holds": data})
    else:
        table(
            "Legal holds",
            ["id", "sha256", "reason", "placed", "lifted"],
            [[d["id"], d["sha256"], d["reason"], d["placed_at"], d["lifted_at"]] for d in data],
        )


@click.group()
def store() -> None:
    """The evidence store itself."""


@store.command("check")
@json_option
@click.pass_obj
def store_check(obj: Any, as_json: bool) -> None:
    """Re-hash every stored blob; report corrupt or missing ones (exit 1 if any)."""
    app = obj.app
    with app.db.session() as session:
        rows = list(
            session.execute(select(Content.id, Content.sha256).where(Content.purged_at.is_(None)))
        )
    problems: list[dict[str, Any]] = []
    for cid, sha in rows:
        try:
            app.blobs.verify(sha)
        except BlobError as exc:
            problems.append({"content_id": cid, "sha256": sha, "problem": str(exc)})
    if as_json:
        print_json({"checked": len(rows), "problems": problems})
    else:
        console.print(f"checked {len(rows)} blobs, {len(problems)} problem(s)")
        for p in problems:
            console.print(f"  {p['problem']}")
    if problems:
        raise SystemExit(1)


@click.group()
def platforms() -> None:
    """The platform registry."""


@platforms.command("list")
@click.option("--kind", help="Only platforms of this kind.")
@json_option
@click.pass_obj
def platforms_list(obj: Any, kind: str | None, as_json: bool) -> None:
    """List the registry's platforms."""
    items = [p for p in obj.app.registry if kind is None or p.kind == kind]
    if as_json:
        print_json(
            {
                "platforms": [
                    {
                        "key": p.key,
                        "name": p.name,
                        "kind": p.kind,
                        "domains": list(p.domains),
                        "referral": dict(p.referral),
                    }
                    for p in items
                ]
            }
        )
        return
    table(
        f"{len(items)} platforms",
        ["key", "name", "kind", "domains"],
        [[p.key, p.name, p.kind, ", ".join(p.domains[:4])] for p in items],
    )


@platforms.command("attribute")
@click.argument("urls", nargs=-1, required=True)
@json_option
@click.pass_obj
def platforms_attribute(obj: Any, urls: tuple[str, ...], as_json: bool) -> None:
    """Canonicalise URLs and name the platform that serves each."""
    out: list[dict[str, Any]] = []
    for raw in urls:
        try:
            canon = canonicalize(raw)
        except InvalidURL as exc:
            out.append({"url": raw, "error": str(exc)})
            continue
        platform = obj.app.registry.attribute(canon)
        out.append(
            {
                "url": raw,
                "canonical_url": canon.url,
                "registrable_domain": canon.registrable_domain,
                "psl_version": canon.psl_version,
                "mixed_script": canon.mixed_script,
                "account": canon.account,
                "platform": platform.key,
                "platform_name": platform.name,
            }
        )
    if as_json:
        print_json({"urls": out})
    else:
        for item in out:
            if "error" in item:
                console.print(f"{item['url']}: invalid: {item['error']}", markup=False)
            else:
                console.print(f"{item['canonical_url']}  ->  {item['platform_name']}", markup=False)
    if any("error" in item for item in out):
        raise SystemExit(1)
