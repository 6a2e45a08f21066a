"""Commands of the ops feature: the audit chain and operation and transparency reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from takedown.cli.ops_common import actor, app_of, emit, parse_time, transaction
from takedown.cli.output import console, fail, json_option, print_json
from takedown.cli.queued import collect, wait_option


# -- audit --------------------------------------------------------------------------------------
@click.group("audit")
def audit() -> None:
    """The hash-chained audit log of every state change."""


@audit.command("verify")
@json_option
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool) -> None:
    """Check the chain: exit 0 when intact, non-zero naming the first broken event."""
    from takedown.store.audit import verify

    verdict = verify(app_of(ctx).db.engine)
    data = verdict.to_dict()
    if as_json:
        print_json(data)
    elif verdict.ok:
        console.print(f"Audit chain intact: {verdict.events} events, head {verdict.head_hash}.")
    if not verdict.ok:
        first = verdict.broken[0]
        where = f"event {first.seq}" if first.seq is not None else "chain head"
        if first.event_id is not None:
            where += f" (id {first.event_id})"
        raise fail(f"audit chain broken at {where}: {first.problem}")


# -- report -------------------------------------------------------------------------------------
FORMAT = click.Choice(["html", "pdf", "json"])


MARKING = click.option(
    "--marking",
    help="Handling marking printed on every PDF page (default: the TAKEDOWN_HANDLING_MARKING "
    "setting).",
)


def _marking(ctx: click.Context, fmt: str, marking: str | None) -> str | None:
    """The handling marking a PDF report carries (None for other formats), checked."""
    from takedown.ops.marking import handling_marking

    if marking is not None and fmt != "pdf":
        raise fail("--marking applies to PDF reports only (--format pdf)")
    if fmt != "pdf":
        return None
    try:
        return handling_marking(
            marking if marking is not None else app_of(ctx).settings.handling_marking
        )
    except ValueError as exc:
        raise fail(f"--marking: {exc}") from exc


def _write_report(
    ctx: click.Context,
    data: dict[str, Any],
    fmt: str,
    out: Path | None,
    as_json: bool,
    marking: str | None = None,
) -> None:
    from takedown.ops.reports import render

    body = render(data, fmt, marking)
    _write_body(ctx, data["kind"], body, fmt, out, as_json, marking)


def _write_body(
    ctx: click.Context,
    kind: str,
    body: bytes,
    fmt: str,
    out: Path | None,
    as_json: bool,
    marking: str | None = None,
) -> None:
    from takedown.store.audit import acting_as, record

    if out is None:
        if fmt == "pdf":
            raise fail("a PDF report needs --out FILE")
        click.echo(body.decode(), nl=False)
        target = "-"
    else:
        try:
            out.write_bytes(body)
        except OSError as exc:
            raise fail(f"cannot write {out}: {exc.strerror or exc}") from exc
        target = str(out)
    app = app_of(ctx)
    with acting_as(actor()), app.db.engine.begin() as conn:
        details = {"kind": kind, "format": fmt, "out": target}
        if marking is not None:
            details["marking"] = marking
        record(conn, "export", "report", details)
    if out is not None:
        summary = {"out": target, "format": fmt, "bytes": len(body), "kind": kind}
        emit(as_json, summary, lambda: console.print(f"Wrote {target} ({len(body)} bytes)."))


def _queued_report(
    ctx: click.Context,
    arguments: dict[str, Any],
    out: Path | None,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> bool:
    """On PostgreSQL: build the report as a job (True); on SQLite do nothing (False).

    Without ``wait`` the job id is printed (the report is kept: ``takedown jobs output``);
    with ``wait`` the report is written as an in-process run writes it.
    """
    from takedown.jobs.results import get_file

    app = app_of(ctx)
    if not app.queued:
        return False
    fmt = arguments["format"]
    if fmt == "pdf" and out is None and wait:
        raise fail("a PDF report needs --out FILE")
    job_id = int(app.jobs.submit("reports.build", actor=actor(), **arguments))
    done = collect(app, [job_id], wait=wait, timeout=timeout, as_json=as_json)
    if done is None:
        return True
    result = done[0]
    if "error" in result:
        raise fail(str(result["error"]))
    stored = get_file(app.db.engine, int(result["file_id"]))
    if stored is None:
        raise fail(f"the report of job {job_id} is no longer stored")
    marking = arguments.get("marking")
    _write_body(ctx, str(result["kind"]), bytes(stored["data"]), fmt, out, as_json, marking)
    return True


@click.group("report")
def report() -> None:
    """Operation and transparency reports as HTML, PDF or JSON."""


@report.command("operation")
@click.argument("name")
@click.option("--format", "fmt", type=FORMAT, default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
@MARKING
@wait_option
@json_option
@click.pass_context
def report_operation(
    ctx: click.Context,
    name: str,
    fmt: str,
    out: Path | None,
    wait: bool,
    wait_timeout: float,
    marking: str | None,
    as_json: bool,
) -> None:
    """The report of operation NAME (items, platforms, languages, removal, re-uploads)."""
    from takedown.ops.reports import operation_report

    chosen = _marking(ctx, fmt, marking)
    arguments = {"kind": "operation", "operation": name, "format": fmt, "marking": chosen}
    if _queued_report(ctx, arguments, out, wait, wait_timeout, as_json):
        return
    with transaction(ctx) as session:
        data = operation_report(session, name)
    _write_report(ctx, data, fmt, out, as_json, chosen)


@report.command("transparency")
@click.option("--from", "start", required=True, help="Period start (ISO 8601; UTC if no zone).")
@click.option("--to", "end", required=True, help="Period end, exclusive (ISO 8601).")
@click.option("--format", "fmt", type=FORMAT, default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
@MARKING
@wait_option
@json_option
@click.pass_context
def report_transparency(
    ctx: click.Context,
    start: str,
    end: str,
    fmt: str,
    out: Path | None,
    wait: bool,
    wait_timeout: float,
    marking: str | None,
    as_json: bool,
) -> None:
    """Transparency figures of a period (TCO Art. 7 and 8) with breakdowns."""
    from takedown.ops.reports import transparency_report

    begin, finish = parse_time(start, "--from"), parse_time(end, "--to")
    chosen = _marking(ctx, fmt, marking)
    arguments = {
        "kind": "transparency",
        "start": begin.isoformat(),
        "end": finish.isoformat(),
        "format": fmt,
        "marking": chosen,
    }
    if _queued_report(ctx, arguments, out, wait, wait_timeout, as_json):
        return
    with transaction(ctx) as session:
        data = transparency_report(session, begin, finish)
    _write_report(ctx, data, fmt, out, as_json, chosen)


COMMANDS: list[click.Command] = [audit, report]
