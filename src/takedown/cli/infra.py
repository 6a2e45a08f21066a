"""Commands of the infra feature: import, outlets, graph, plan, takedown events, exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from takedown.cli.output import err_console, fail, json_option, print_json, table

FORMATS = ("rdap", "whois", "pdns", "ip2asn", "certs")


def _when(value: str | None, *, zoned: bool = False) -> datetime | None:
    if value is None:
        return None
    import re

    from takedown.infra.facts import LabelError, parse_time

    if zoned and not re.search(r"(Z|UTC|[+-]\d\d:?\d\d|^\d+(\.\d*)?)$", value.strip()):
        raise fail(f"{value!r}: give a time zone (e.g. 2026-11-30T12:00:00Z) or epoch seconds")

    try:
        return parse_time(value)
    except LabelError as exc:
        raise fail(f"--at/--observed: {exc}") from exc


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
@json_option
@click.pass_obj
def import_cmd(
    obj: Any,
    files: tuple[Path, ...],
    fmt: str | None,
    source: str | None,
    observed: str | None,
    submitted_by: str | None,
    as_json: bool,
) -> None:
    """Import RDAP JSON, WHOIS text, passive-DNS CSV, IP-to-ASN tables or certificate CSV.

    Offline: nothing is fetched.

    Each file is one transaction; refused records are kept with their reasons
    (rejected_record). A file that is unusable as a whole is reported and nothing of it is
    written; the other files are still imported, and the exit code is non-zero.
    """
    from takedown.infra.facts import InfraParseError
    from takedown.infra.store import import_file

    app = obj.app
    results: list[dict[str, Any]] = []
    errors: list[str] = []
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


@infra.command("plan")
@click.argument("outlet_name", metavar="OUTLET")
@click.option("--refer", is_flag=True, help="Draft referrals to the hosters/registrars found.")
@click.option("--top", default=25, show_default=True, help="Dependencies to list.")
@click.option("--by", "actor", help="Who drafts the referrals.")
@json_option
@click.pass_obj
def plan_cmd(
    obj: Any, outlet_name: str, refer: bool, top: int, actor: str | None, as_json: bool
) -> None:
    """Takedown plan: ranked dependencies, single points of failure, minimum cut, whom to ask."""
    from takedown.infra.planning import plan_outlet, refer_plan
    from takedown.infra.store import OutletError

    try:
        with obj.app.db.session() as session:
            plan = plan_outlet(session, outlet_name, top=top)
        if refer:
            plan["referrals"] = refer_plan(obj.app, outlet_name, actor=actor)
    except OutletError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(plan)
        return
    table(
        f"Domains of {plan['outlet']}",
        ["domain", "live sightings", "hosters", "countries", "registrars"],
        [
            [
                d["domain"],
                d["live_sightings"],
                ", ".join(d["hosters"]),
                ", ".join(d["countries"]),
                ", ".join(d["registrars"]),
            ]
            for d in plan["domains"]
        ],
    )
    table(
        "Dependencies (by live sightings carried)",
        ["kind", "label", "domains", "live sightings"],
        [[d["kind"], d["label"], d["domains"], d["live_sightings"]] for d in plan["dependencies"]],
    )
    spof = ", ".join(f"{n['kind']} {n['label']}" for n in plan["single_points_of_failure"])
    cut = ", ".join(f"{n['kind']} {n['label']}" for n in plan["minimum_cut"])
    click.echo(f"Single points of failure: {spof or 'none'}")
    click.echo(f"Minimum cut ({len(plan['minimum_cut'])}): {cut or '-'}")
    for kind in ("country", "hoster", "registrar"):
        table(
            f"By {kind}",
            [kind, "domains", "live sightings", "abuse contact"],
            [
                [k, len(v["domains"]), v["live_sightings"], v["abuse_email"]]
                for k, v in plan["groups"][kind].items()
            ],
        )
    for problem in plan["problems"]:
        err_console.print(f"note: {problem}")
    if refer:
        for r in plan["referrals"]["drafted"]:
            click.echo(
                f"drafted {r['reference']} to {r['addressee_kind']} {r['addressee']} "
                f"({r['domain']})"
            )
        for key, ids in plan["referrals"]["unrouted"].items():
            click.echo(f"unrouted {key}: {len(ids)} sightings")


@infra.group("event")
def event() -> None:
    """Takedown events (what was seized or suspended, when) and what came back after them."""


@event.command("record")
@click.option(
    "--action",
    required=True,
    type=click.Choice(["seized", "suspended", "blocked", "delisted", "null_routed", "other"]),
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    required=True,
    help="KIND:LABEL, e.g. domain:x.example, ip:192.0.2.1 (repeatable).",
)
@click.option("--at", "at", required=True, help="When (ISO 8601 with time zone, or epoch seconds).")
@click.option("--outlet", "outlet_name", help="The outlet the action was against.")
@click.option("--note")
@click.option("--operation")
@click.option("--by", "actor")
@json_option
@click.pass_obj
def event_record(
    obj: Any,
    action: str,
    targets: tuple[str, ...],
    at: str,
    outlet_name: str | None,
    note: str | None,
    operation: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Record a takedown action."""
    from takedown.infra.resilience import EventError, record_event
    from takedown.infra.store import OutletError

    when = _when(at, zoned=True)
    if when is None:
        raise fail("--at is empty")
    try:
        with obj.app.db.session() as session:
            ev = record_event(
                session,
                action=action,
                targets=list(targets),
                at=when,
                outlet=outlet_name,
                note=note,
                actor=actor,
                operation=operation,
            )
            out = {"event": ev.id, "action": ev.action, "at": ev.at, "targets": ev.targets["nodes"]}
    except (EventError, OutletError) as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(out)
    else:
        click.echo(f"event {out['event']} recorded")


@event.command("check")
@click.argument("event_id", type=int)
@click.option(
    "--max-share",
    default=50,
    show_default=True,
    help="Ignore features shared by more domains (common infrastructure).",
)
@json_option
@click.pass_obj
def event_check(obj: Any, event_id: int, max_share: int, as_json: bool) -> None:
    """Look for re-establishment after an event; stores and prints the alerts with evidence."""
    from takedown.infra.resilience import EventError, check_event

    try:
        with obj.app.db.session() as session:
            result = check_event(session, event_id, max_share=max_share)
    except EventError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(result)
        return
    table(
        f"Alerts after event {event_id} ({result['action']} {result['at']:%Y-%m-%d})",
        ["kind", "label", "first seen", "evidence"],
        [
            [
                a["kind"],
                a["label"],
                a["first_seen"],
                "; ".join(f"{e['via']} {e['value']}" for e in a["evidence"]),
            ]
            for a in result["alerts"]
        ],
    )
    secs = result["reestablished_after_seconds"]
    click.echo(
        "re-established after: " + (f"{secs / 86400:.1f} days" if secs is not None else "not seen")
    )


@event.command("list")
@json_option
@click.pass_obj
def event_list(obj: Any, as_json: bool) -> None:
    """Events with their time to re-establishment (from stored alerts)."""
    from takedown.infra.resilience import reestablishment

    with obj.app.db.session() as session:
        rows = reestablishment(session)
    if as_json:
        print_json(rows)
        return
    table(
        "Takedown events",
        ["event", "at", "action", "targets", "alerts", "re-established after (days)"],
        [
            [
                r["event"],
                r["at"],
                r["action"],
                ", ".join(f"{t['kind']}:{t['label']}" for t in r["targets"]),
                r["alerts"],
                ""
                if r["reestablished_after_seconds"] is None
                else f"{r['reestablished_after_seconds'] / 86400:.1f}",
            ]
            for r in rows
        ],
    )


@infra.command("timeline")
@click.argument("outlet_name", metavar="OUTLET")
@json_option
@click.pass_obj
def timeline_cmd(obj: Any, outlet_name: str, as_json: bool) -> None:
    """The outlet's infrastructure over time, before and after its takedown events."""
    from takedown.infra.resilience import timeline
    from takedown.infra.store import OutletError

    try:
        with obj.app.db.session() as session:
            rows = timeline(session, outlet_name)
    except OutletError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(rows)
    else:
        table(
            f"Timeline of {outlet_name}",
            ["at", "what", "fact"],
            [[r["at"], r["what"], r["fact"]] for r in rows],
        )


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


COMMANDS: list[click.Command] = [infra, export]
