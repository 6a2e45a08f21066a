"""Commands of the ops feature: deconfliction holds and complaints about removals."""

from __future__ import annotations

import click

from takedown.cli.ops_common import actor, emit, parse_time, transaction
from takedown.cli.output import console, fail, json_option, table


# -- hold ---------------------------------------------------------------------------------------
@click.group("hold")
def hold() -> None:
    """Deconfliction holds: "do not refer" on URLs, domains, signals or labels."""


@hold.command("add")
@click.option("--agency", "agency_name", required=True, help="The agency placing the hold.")
@click.option("--url", "kind_url", help="Hold this URL (its canonical form).")
@click.option("--domain", "kind_domain", help="Hold this domain and everything under it.")
@click.option("--signal", "kind_signal", help="Hold content with this signal (type:value).")
@click.option("--label", "kind_label", help="Hold material with this label (name:value).")
@click.option(
    "--distance",
    type=click.IntRange(0, 63),
    help="A --signal pdq:HEX hold matches within this Hamming distance (default 31; "
    "over 31 is a wide hold).",
)
@click.option(
    "--operation",
    help="The operation a wide hold is placed in (a whole platform's domain, a label, a PDQ "
    "distance over 31); its lead agency sees the hold.",
)
@click.option("--reason", required=True, help="Why (shown to your agency only).")
@click.option("--days", type=float, help="Expire after this many days.")
@click.option("--until", help="Expire at this time (ISO 8601; UTC if no zone).")
@json_option
@click.pass_context
def hold_add(
    ctx: click.Context,
    agency_name: str,
    kind_url: str | None,
    kind_domain: str | None,
    kind_signal: str | None,
    kind_label: str | None,
    distance: int | None,
    operation: str | None,
    reason: str,
    days: float | None,
    until: str | None,
    as_json: bool,
) -> None:
    """Place a hold. Exactly one of --url, --domain, --signal, --label; one of --days, --until."""
    from takedown.ops.holds import add_hold, hold_view

    given = {
        k: v
        for k, v in {
            "url": kind_url,
            "domain": kind_domain,
            "signal": kind_signal,
            "label": kind_label,
        }.items()
        if v is not None
    }
    if len(given) != 1:
        raise fail("give exactly one of --url, --domain, --signal, --label")
    if (days is None) == (until is None):
        raise fail("give exactly one of --days, --until")
    ((kind, value),) = given.items()
    with transaction(ctx) as session:
        row = add_hold(
            session,
            agency=agency_name,
            kind=kind,
            value=value,
            reason=reason,
            days=days,
            expires_at=parse_time(until, "--until") if until else None,
            max_distance=distance,
            actor=actor(),
            may_hold_wide=True,  # the operator at the command line; still within an operation
            operation=operation,
        )
        data = hold_view(row, agency_name, owner=True)
    emit(as_json, data, lambda: console.print(f"Hold {data['id']} on {kind} {data['value']}."))


@hold.command("list")
@click.option("--agency", "agency_name", required=True, help="Your agency (owner of the holds).")
@click.option("--all", "all_states", is_flag=True, help="Also lifted and expired holds.")
@json_option
@click.pass_context
def hold_list(ctx: click.Context, agency_name: str, all_states: bool, as_json: bool) -> None:
    """List your agency's holds (with their reasons)."""
    from takedown.ops.holds import list_holds

    with transaction(ctx) as session:
        rows = list_holds(session, agency_name, all_states=all_states)
    emit(
        as_json,
        rows,
        lambda: table(
            "Holds",
            ["id", "kind", "value", "state", "expires", "reason"],
            [
                [r["id"], r["kind"], r["value"], r["state"], r["expires_at"], r["reason"]]
                for r in rows
            ],
        ),
    )


@hold.command("lift")
@click.argument("hold_id", type=int)
@click.option("--agency", "agency_name", required=True, help="Your agency (owner of the hold).")
@json_option
@click.pass_context
def hold_lift(ctx: click.Context, hold_id: int, agency_name: str, as_json: bool) -> None:
    """Lift hold HOLD_ID of your agency (recorded with who and when)."""
    from takedown.ops.holds import hold_view, lift_hold

    with transaction(ctx) as session:
        row = lift_hold(session, hold_id, agency=agency_name, actor=actor())
        data = hold_view(row, agency_name, owner=True)
    emit(as_json, data, lambda: console.print(f"Lifted hold {hold_id}."))


@hold.command("hits")
@click.option("--agency", "agency_name", required=True, help="Your agency (owner of the holds).")
@click.option("--unseen", is_flag=True, help="Only hits not yet seen.")
@click.option("--mark-seen", is_flag=True, help="Mark the listed hits as seen.")
@json_option
@click.pass_context
def hold_hits(
    ctx: click.Context, agency_name: str, unseen: bool, mark_seen: bool, as_json: bool
) -> None:
    """Notifications: every attempt to refer material your agency holds."""
    from takedown.ops.hold_checks import notifications

    with transaction(ctx) as session:
        rows = notifications(session, agency_name, unseen_only=unseen, mark_seen=mark_seen)
    emit(
        as_json,
        rows,
        lambda: table(
            "Hold hits",
            ["hold", "sighting", "url", "requester", "attempts", "last"],
            [
                [
                    r["hold_id"],
                    r["sighting_id"],
                    r["url"],
                    r["requester"],
                    r["attempts"],
                    r["last_at"],
                ]
                for r in rows
            ],
        ),
    )


# -- complaint ----------------------------------------------------------------------------------
@click.group("complaint")
def complaint() -> None:
    """Complaints about removals (TCO Article 10): answer within two weeks; upheld reinstates."""


@complaint.command("add")
@click.argument("sighting_id", type=int)
@click.option("--complainant", required=True, help="Who complains (the content provider).")
@click.option("--grounds", required=True, help="The grounds given.")
@click.option("--received", help="When it was received (ISO 8601; default now).")
@json_option
@click.pass_context
def complaint_add(
    ctx: click.Context,
    sighting_id: int,
    complainant: str,
    grounds: str,
    received: str | None,
    as_json: bool,
) -> None:
    """Record a complaint about the removal of SIGHTING_ID."""
    from takedown.ops.complaints import complaint_view, record_complaint

    with transaction(ctx) as session:
        row = record_complaint(
            session,
            sighting_id=sighting_id,
            complainant=complainant,
            grounds=grounds,
            received_at=parse_time(received, "--received") if received else None,
        )
        data = complaint_view(row)
    emit(
        as_json,
        data,
        lambda: console.print(f"Complaint {data['id']} recorded; answer by {data['deadline']}."),
    )


@complaint.command("decide")
@click.argument("complaint_id", type=int)
@click.argument("outcome", type=click.Choice(["upheld", "rejected"]))
@click.option("--reason", required=True, help="The reason given to the complainant.")
@json_option
@click.pass_context
def complaint_decide(
    ctx: click.Context, complaint_id: int, outcome: str, reason: str, as_json: bool
) -> None:
    """Decide a complaint; upheld reinstates the item."""
    from takedown.ops.complaints import complaint_view, decide

    with transaction(ctx) as session:
        row = decide(session, complaint_id, outcome, reason=reason, actor=actor())
        data = complaint_view(row)
    emit(as_json, data, lambda: console.print(f"Complaint {complaint_id}: {outcome}."))


@complaint.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only undecided complaints.")
@json_option
@click.pass_context
def complaint_list(ctx: click.Context, open_only: bool, as_json: bool) -> None:
    """List complaints with their deadlines."""
    from takedown.ops.complaints import list_complaints

    with transaction(ctx) as session:
        rows = list_complaints(session, open_only=open_only)
    emit(
        as_json,
        rows,
        lambda: table(
            "Complaints",
            ["id", "sighting", "complainant", "deadline", "overdue", "outcome"],
            [
                [
                    r["id"],
                    r["sighting_id"],
                    r["complainant"],
                    r["deadline"],
                    r["overdue"],
                    r["outcome"],
                ]
                for r in rows
            ],
        ),
    )


COMMANDS: list[click.Command] = [hold, complaint]
