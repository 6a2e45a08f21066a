"""Commands of the infra feature: import, outlets, graph, plan, takedown events, exports.

This module holds the ``infra`` group and its data commands; the plan, event and timeline
commands live in ``infra_plan``, the ``export`` group in ``infra_export``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from takedown.cli.infra_common import _when
from takedown.cli.infra_export import export, export_misp, export_stix
from takedown.cli.infra_plan import (
    event,
    event_check,
    event_list,
    event_record,
    plan_cmd,
    timeline_cmd,
)
from takedown.cli.output import err_console, fail, json_option, print_json, table
from takedown.cli.queued import collect, wait_option

FORMATS = ("rdap", "whois", "pdns", "ip2asn", "certs")


@click.group("infra")
def infra() -> None:
    """Infrastructure map: import resolution data, plan takedowns, watch for comebacks."""


@infra.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Format (default: guessed).")
@click.option("--source", help="Source name kept with every fact (default FORMAT:FILENAME).")
@click.option("--observed", help="When RDAP/WHOIS data was observed (default: file time).")
@click.option("--by", "submitted_by", help="Who submits the data.")
@wait_option
@json_option
@click.pass_obj
def import_cmd(
    obj: Any,
    files: tuple[Path, ...],
    fmt: str | None,
    source: str | None,
    observed: str | None,
    submitted_by: str | None,
    wait: bool,
    wait_timeout: float,
    as_json: bool,
) -> None:
    """Import RDAP JSON, WHOIS text, passive-DNS CSV, IP-to-ASN tables or certificate CSV.

    Offline: nothing is fetched.

    Each file is one transaction; refused records are kept with their reasons
    (rejected_record). A file that is unusable as a whole is reported and nothing of it is
    written; the other files are still imported, and the exit code is non-zero.

    On PostgreSQL each file is stored in the database and imported by a worker (any machine):
    the job ids are printed, or with --wait the same summary once the jobs have ended.
    """
    from takedown.infra.facts import InfraParseError
    from takedown.infra.store import import_file

    app = obj.app
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    if app.queued:
        job_ids, errors = _enqueue_imports(app, files, fmt, source, observed, submitted_by)
        done = collect(
            app, job_ids, wait=wait, timeout=wait_timeout, as_json=as_json, extra={"errors": errors}
        )
        if done is None:
            if errors:
                raise fail("; ".join(errors))
            return
        for result in done:
            if "error" in result:
                errors.append(f"{result['file']}: {result['error']}")
            else:
                results.append(result)
        files = ()
    for path in files:
        try:
            with app.db.session() as session:
                results.append(
                    import_file(
                        session,
                        path,
                        fmt,
                        observed_at=_when(observed),
                        submitted_by=submitted_by,
                        source=source,
                    )
                )
        except (InfraParseError, OSError) as exc:
            errors.append(f"{path}: {exc}")
    if as_json:
        print_json({"imported": results, "errors": errors})
    else:
        table(
            "Imported",
            ["file", "format", "facts", "new edges", "ranges", "rejected", "IPs linked"],
            [
                [
                    r["file"],
                    r["format"],
                    r["facts"],
                    r["new_edges"],
                    r["ranges"],
                    r["rejected"],
                    r["ips_linked"],
                ]
                for r in results
            ],
        )
        for r in results:
            for loop in r["cname_loops"]:
                err_console.print(f"warning: CNAME loop {' -> '.join(loop)}")
    if errors:
        raise fail("; ".join(errors))


def _enqueue_imports(
    app: Any,
    files: tuple[Path, ...],
    fmt: str | None,
    source: str | None,
    observed: str | None,
    submitted_by: str | None,
) -> tuple[list[int], list[str]]:
    """Store each file's bytes and enqueue its import in one transaction; (job ids, errors)."""
    from datetime import UTC, datetime

    from takedown.jobs.results import put_file

    when = _when(observed)
    job_ids: list[int] = []
    errors: list[str] = []
    for path in files:
        try:
            data = path.read_bytes()
            observed_at = when or datetime.fromtimestamp(path.stat().st_mtime, UTC)
            with app.db.engine.begin() as conn:
                file_id = put_file(
                    conn, "infra-import", path.name, data, "application/octet-stream"
                )
                job_ids.append(
                    int(
                        app.jobs.submit_in(
                            conn,
                            "infra.import",
                            file_id=file_id,
                            file=str(path),
                            format=fmt,
                            observed_at=observed_at.isoformat(),
                            submitted_by=submitted_by,
                            source=source,
                        )
                    )
                )
        except (OSError, ValueError) as exc:
            errors.append(f"{path}: {getattr(exc, 'strerror', None) or exc}")
    return job_ids, errors


@infra.command("resolve")
@click.argument("outlet_name", metavar="OUTLET")
@click.option("--live", is_flag=True, help="Really query DNS over the network (off by default).")
@click.option("--nameserver", "nameservers", multiple=True, help="Resolver IP (repeatable).")
@json_option
@click.pass_obj
def resolve_cmd(
    obj: Any, outlet_name: str, live: bool, nameservers: tuple[str, ...], as_json: bool
) -> None:
    """Live DNS look-ups (A, AAAA, CNAME, NS, MX) of an outlet's names; needs --live."""
    from sqlalchemy import select

    from takedown.infra.live import DnsPythonResolver, resolve_names
    from takedown.infra.models import InfraEdge, InfraNode
    from takedown.infra.store import OutletError, Writer, get_outlet, link_ips, outlet_domains

    if not live:
        raise fail("live look-ups are off: pass --live to query DNS over the network")
    try:
        with obj.app.db.session() as session:
            domains = outlet_domains(session, get_outlet(session, outlet_name))
            hosts = session.scalars(
                select(InfraNode.label)
                .join(InfraEdge, InfraEdge.dst_id == InfraNode.id)
                .where(InfraEdge.kind == "domain_hostname", InfraNode.kind == "hostname")
            ).all()
    except OutletError as exc:
        raise fail(str(exc)) from exc
    names = domains + [h for h in hosts if any(h == d or h.endswith("." + d) for d in domains)]
    parsed = resolve_names(names, DnsPythonResolver(list(nameservers) or None))
    with obj.app.db.session() as session:
        counts = Writer(session).write(parsed)
        counts["ips_linked"] = link_ips(session)
    out = {
        "names": len(names),
        **counts,
        "problems": [f"{p.ref}: {p.reason}" for p in parsed.problems],
    }
    if as_json:
        print_json(out)
    else:
        click.echo(f"{out['names']} names, {out['facts']} facts, {out['rejected']} problems")


@infra.command("scan-pages")
@json_option
@click.pass_obj
def scan_pages_cmd(obj: Any, as_json: bool) -> None:
    """Record analytics/tracking identifiers found in stored pages (HTML/text content)."""
    from takedown.infra.pages import scan_pages

    result = scan_pages(obj.app)
    if as_json:
        print_json(result)
    else:
        click.echo(
            f"{result['pages']} pages, {result['identifiers']} identifiers, "
            f"{result['new']} new facts"
        )
    for problem in result["problems"]:
        err_console.print(f"warning: {problem}")


@infra.group("outlet")
def outlet() -> None:
    """Outlets: named groups of domains, or a bank label whose matches belong together."""


@outlet.command("define")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, help="A member domain (repeatable).")
@click.option("--label", help="Bank label (NAME:VALUE) whose matched sightings' domains belong.")
@click.option("--description")
@json_option
@click.pass_obj
def outlet_define(
    obj: Any,
    name: str,
    domains: tuple[str, ...],
    label: str | None,
    description: str | None,
    as_json: bool,
) -> None:
    """Create an outlet or add domains to it."""
    from takedown.infra.facts import LabelError
    from takedown.infra.store import OutletError, define_outlet, outlet_domains

    try:
        with obj.app.db.session() as session:
            o = define_outlet(session, name, domains, label=label, description=description)
            out: dict[str, Any] = {
                "outlet": o.name,
                "label": o.label,
                "domains": outlet_domains(session, o),
            }
    except (OutletError, LabelError) as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(out)
    else:
        click.echo(f"{out['outlet']}: {len(out['domains'])} domains")


@outlet.command("list")
@json_option
@click.pass_obj
def outlet_list(obj: Any, as_json: bool) -> None:
    """List outlets and their domains."""
    from sqlalchemy import select

    from takedown.infra.models import InfraOutlet
    from takedown.infra.store import outlet_domains

    with obj.app.db.session() as session:
        rows = [
            {"outlet": o.name, "label": o.label, "domains": outlet_domains(session, o)}
            for o in session.scalars(select(InfraOutlet).order_by(InfraOutlet.name))
        ]
    if as_json:
        print_json(rows)
    else:
        table(
            "Outlets",
            ["outlet", "label", "domains"],
            [[r["outlet"], r["label"], ", ".join(r["domains"])] for r in rows],
        )


@infra.command("graph")
@click.argument("outlet_name", metavar="OUTLET", required=False)
@click.option("--all", "whole", is_flag=True, help="The whole stored graph, not one outlet.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write FILE.graphml, FILE.json or FILE.html (picture).",
)
@json_option
@click.pass_obj
def graph_cmd(
    obj: Any, outlet_name: str | None, whole: bool, out: Path | None, as_json: bool
) -> None:
    """The infrastructure graph of an outlet (or all of it): summary, GraphML, JSON or picture."""
    from collections import Counter

    from takedown.infra.graph import EdgeKind, NodeKind
    from takedown.infra.store import OutletError, load_graph, outlet_subgraph

    if not whole and not outlet_name:
        raise fail("name an OUTLET or pass --all")
    suffix = out.suffix.lower() if out else ""
    if out and suffix not in (".graphml", ".json", ".html", ".htm"):
        raise fail("--out must end in .graphml, .json or .html")
    try:
        with obj.app.db.session() as session:
            if suffix in (".html", ".htm"):
                if whole or not outlet_name or out is None:
                    raise fail("the picture is drawn per outlet: name an OUTLET")
                from takedown.infra.picture import render_html

                out.write_text(render_html(session, outlet_name), encoding="utf-8")
                g = None
            else:
                stored = load_graph(session, None if whole else [outlet_name or ""])
                if not whole and outlet_name not in stored.outlets:
                    from takedown.infra.store import get_outlet

                    get_outlet(session, outlet_name or "")
                g = (
                    stored.graph
                    if whole
                    else outlet_subgraph(stored, stored.outlets[outlet_name or ""])
                )
    except OutletError as exc:
        raise fail(str(exc)) from exc
    summary: dict[str, Any] = {
        "outlet": None if whole else outlet_name,
        "out": str(out) if out else None,
    }
    if g is not None:
        if out and suffix == ".graphml":
            with out.open("w", encoding="utf-8") as fh:
                g.write_graphml(fh)
        elif out:
            with out.open("w", encoding="utf-8") as fh:
                g.write_json(fh)
        summary["nodes"] = dict(
            Counter(NodeKind(int(k)).name.lower() for k in g.node_kind.tolist())
        )
        summary["edges"] = dict(
            Counter(EdgeKind(int(k)).name.lower() for k in g.edge_kind.tolist())
        )
        summary["cname_loops"] = [[g.labels[i] for i in loop] for loop in g.cname_loops()]
    if as_json:
        print_json(summary)
    elif g is not None:
        table("Nodes", ["kind", "count"], sorted(summary["nodes"].items()))
        table("Facts", ["kind", "count"], sorted(summary["edges"].items()))
    if out and not as_json:
        click.echo(f"wrote {out}")


infra.add_command(plan_cmd)
infra.add_command(event)
infra.add_command(timeline_cmd)

COMMANDS: list[click.Command] = [infra, export]

__all__ = [
    "COMMANDS",
    "FORMATS",
    "_when",
    "event",
    "event_check",
    "event_list",
    "event_record",
    "export",
    "export_misp",
    "export_stix",
    "graph_cmd",
    "import_cmd",
    "infra",
    "outlet",
    "outlet_define",
    "outlet_list",
    "plan_cmd",
    "resolve_cmd",
    "scan_pages_cmd",
    "timeline_cmd",
]
