"""Commands of the ops feature: the audit chain and operation and transparency reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from takedown.cli.ops_common import actor, app_of, emit, parse_time, transaction
from takedown.cli.output import console, fail, json_option, print_json


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


def _write_report(
    ctx: click.Context,
    data: dict[str, Any],
    fmt: str,
    out: Path | None,
    as_json: bool,
    marking: str | None = None,
) -> None:
    from takedown.ops.render import handling_marking
    from takedown.ops.reports import render
    from takedown.store.audit import acting_as, record

    if marking is not None and fmt != "pdf":
        raise fail("--marking applies to PDF reports only (--format pdf)")
    try:
        chosen = handling_marking(
            marking if marking is not None else app_of(ctx).settings.handling_marking
        )
    except ValueError as exc:
        raise fail(f"--marking: {exc}") from exc
    body = render(data, fmt, chosen)
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
        details = {"kind": data["kind"], "format": fmt, "out": target}
        if fmt == "pdf":
            details["marking"] = chosen
        record(conn, "export", "report", details)
    if out is not None:
        summary = {"out": target, "format": fmt, "bytes": len(body), "kind": data["kind"]}
        emit(as_json, summary, lambda: console.print(f"Wrote {target} ({len(body)} bytes)."))


@click.group("report")
def report() -> None:
    """Operation and transparency reports as HTML, PDF or JSON."""


@report.command("operation")
@click.argument("name")
@click.option("--format", "fmt", type=FORMAT, default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
@MARKING
@json_option
@click.pass_context
def report_operation(
    ctx: click.Context, name: str, fmt: str, out: Path | None, marking: str | None, as_json: bool
) -> None:
    """The report of operation NAME (items, platforms, languages, removal, re-uploads)."""
    from takedown.ops.reports import operation_report

    with transaction(ctx) as session:
        data = operation_report(session, name)
    _write_report(ctx, data, fmt, out, as_json, marking)


@report.command("transparency")
@click.option("--from", "start", required=True, help="Period start (ISO 8601; UTC if no zone).")
@click.option("--to", "end", required=True, help="Period end, exclusive (ISO 8601).")
@click.option("--format", "fmt", type=FORMAT, default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
@MARKING
@json_option
@click.pass_context
def report_transparency(
    ctx: click.Context,
    start: str,
    end: str,
    fmt: str,
    out: Path | None,
    marking: str | None,
    as_json: bool,
) -> None:
    """Transparency figures of a period (TCO Art. 7 and 8) with breakdowns."""
    from takedown.ops.reports import transparency_report

    with transaction(ctx) as session:
        data = transparency_report(session, parse_time(start, "--from"), parse_time(end, "--to"))
    _write_report(ctx, data, fmt, out, as_json, marking)


COMMANDS: list[click.Command] = [audit, report]
