"""Infra commands about acting on an outlet: takedown plan, events and what came back,
timeline."""

from __future__ import annotations

from typing import Any

import click

from takedown.cli.infra_common import _when
from takedown.cli.output import err_console, fail, json_option, print_json, table


@click.command("plan")
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


@click.group("event")
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


@click.command("timeline")
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
