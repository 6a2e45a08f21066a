"""Exports of findings for threat-intelligence platforms (STIX 2.1, MISP)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from takedown.cli.output import fail, json_option, print_json


@click.group("export")
def export() -> None:
    """Export findings for threat-intelligence platforms (STIX 2.1, MISP)."""


def _export(obj: Any, kind: str, operation: str | None, out: Path, tlp: str, as_json: bool) -> None:
    from takedown.infra.export import ExportError, collect, to_misp, to_stix

    try:
        with obj.app.db.session() as session:
            found = collect(session, operation)
        text = (
            to_stix(found, tlp=tlp)
            if kind == "stix"
            else json.dumps(to_misp(found, tlp=tlp), indent=2, ensure_ascii=False)
        )
    except ExportError as exc:
        raise fail(str(exc)) from exc
    out.write_text(text, encoding="utf-8")
    summary = {
        "format": kind,
        "out": str(out),
        "operation": operation,
        "outlets": len(found.outlets),
        "sightings": len(found.sightings),
        "events": len(found.events),
        "at": datetime.now(UTC),
    }
    if as_json:
        print_json(summary)
    else:
        click.echo(
            f"wrote {out} ({summary['outlets']} outlets, {summary['sightings']} sightings, "
            f"{summary['events']} events)"
        )


def _export_options(fn: Any) -> Any:
    fn = click.option("--operation", help="Only this operation's sightings and events.")(fn)
    fn = click.option(
        "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output file."
    )(fn)
    fn = click.option(
        "--tlp",
        type=click.Choice(["white", "green", "amber", "red"]),
        default="amber",
        show_default=True,
    )(fn)
    return json_option(fn)


@export.command("stix")
@_export_options
@click.pass_obj
def export_stix(obj: Any, operation: str | None, out: Path, tlp: str, as_json: bool) -> None:
    """A STIX 2.1 bundle: outlets as infrastructure, indicators, takedown incidents."""
    _export(obj, "stix", operation, out, tlp, as_json)


@export.command("misp")
@_export_options
@click.pass_obj
def export_misp(obj: Any, operation: str | None, out: Path, tlp: str, as_json: bool) -> None:
    """A MISP event (JSON) with domain, IP, ASN, URL and SHA-256 attributes."""
    _export(obj, "misp", operation, out, tlp, as_json)
