"""``takedown share``: an agency shares one of its sightings with another, on purpose."""

from __future__ import annotations

import click

from takedown.cli.ops_common import actor, emit, transaction
from takedown.cli.output import console, json_option


@click.command("share")
@click.argument("sighting_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--agency", "from_agency", required=True, help="The agency that reported it.")
@click.option("--with", "to_agency", required=True, help="The agency to share it with.")
@click.option("--note", help="Why (kept with the share).")
@click.option("--withdraw", is_flag=True, help="Withdraw the share instead.")
@json_option
@click.pass_context
def share_cmd(
    ctx: click.Context,
    sighting_id: int,
    from_agency: str,
    to_agency: str,
    note: str | None,
    withdraw: bool,
    as_json: bool,
) -> None:
    """Share a sighting (its notes, operation, decisions, content, media) with another
    agency, or withdraw the share. Only the reporting agency can; every share is audited."""
    from takedown.access import shares
    from takedown.ops.agencies import get_agency

    with transaction(ctx) as session:
        owner = get_agency(session, from_agency).id
        if withdraw:
            row = shares.withdraw(
                session, sighting_id, from_agency_id=owner, to_agency=to_agency, actor=actor()
            )
        else:
            row = shares.share(
                session,
                sighting_id,
                from_agency_id=owner,
                to_agency=to_agency,
                actor=actor(),
                note=note,
            )
        data = shares.share_view(session, row)
    verb = "withdrawn from" if withdraw else "shared with"
    emit(as_json, data, lambda: console.print(f"Sighting {sighting_id} {verb} {data['to']}."))


COMMANDS: list[click.Command] = [share_cmd]
