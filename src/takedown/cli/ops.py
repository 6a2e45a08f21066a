"""Commands of the ops feature: agencies, users and roles, operations. Holds and complaints are
in :mod:`takedown.cli.holds`, the audit chain and reports in :mod:`takedown.cli.reports`; all
of them are registered from here (``COMMANDS``)."""

from __future__ import annotations

import click

from takedown.access.roles import ROLE_ALIASES, ROLES
from takedown.cli import holds as holds_cli
from takedown.cli import reports as reports_cli
from takedown.cli.ops_common import actor, emit, parse_time, transaction
from takedown.cli.output import console, json_option, table


# -- agency -------------------------------------------------------------------------------------
@click.group("agency")
def agency() -> None:
    """Agencies (tenants): each sees its own sightings and its operations' sightings."""


@agency.command("create")
@click.argument("name")
@click.option(
    "--reporter",
    "reporters",
    multiple=True,
    help="A reporter name used at intake that stands for this agency (repeat for more).",
)
@json_option
@click.pass_context
def agency_create(ctx: click.Context, name: str, reporters: tuple[str, ...], as_json: bool) -> None:
    """Create an agency."""
    from takedown.ops.agencies import create_agency

    with transaction(ctx) as session:
        row = create_agency(session, name, list(reporters))
        data = {"id": row.id, "name": row.name, "reporters": list(reporters)}
    emit(as_json, data, lambda: console.print(f"Created agency {data['name']}."))


@agency.command("reporter")
@click.argument("name")
@click.argument("reporter")
@json_option
@click.pass_context
def agency_reporter(ctx: click.Context, name: str, reporter: str, as_json: bool) -> None:
    """Let REPORTER (as written at intake) stand for agency NAME."""
    from takedown.ops.agencies import add_reporter, get_agency

    with transaction(ctx) as session:
        add_reporter(session, get_agency(session, name), reporter)
    data = {"agency": name, "reporter": reporter}
    emit(as_json, data, lambda: console.print(f"{reporter} now stands for {name}."))


@agency.command("list")
@json_option
@click.pass_context
def agency_list(ctx: click.Context, as_json: bool) -> None:
    """List agencies."""
    from takedown.ops.agencies import list_agencies

    with transaction(ctx) as session:
        rows = list_agencies(session)
    emit(
        as_json,
        rows,
        lambda: table(
            "Agencies",
            ["id", "name", "users", "reporters"],
            [[r["id"], r["name"], r["users"], ", ".join(r["reporters"])] for r in rows],
        ),
    )


# -- user ---------------------------------------------------------------------------------------
ROLE_CHOICE = click.Choice([*ROLES, *ROLE_ALIASES])


@click.group("user")
def user() -> None:
    """Users of the web workspace and their roles."""


@user.command("create")
@click.argument("username")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="TAKEDOWN_NEW_PASSWORD",
    help="Password (prompted if not given; env TAKEDOWN_NEW_PASSWORD).",
)
@click.option("--agency", help="The user's agency (an existing one; see `agency list`).")
@click.option(
    "--create-agency", is_flag=True, help="Create the agency first when it does not exist."
)
@click.option("--role", type=ROLE_CHOICE, default="analyst", show_default=True)
@json_option
@click.pass_context
def user_create(
    ctx: click.Context,
    username: str,
    password: str,
    agency: str | None,
    create_agency: bool,
    role: str,
    as_json: bool,
) -> None:
    """Create a user who can log in to the workspace."""
    from takedown.ops.agencies import OpsError, create_user, get_agency, list_agencies

    with transaction(ctx) as session:
        if agency is not None and not create_agency:
            try:
                get_agency(session, agency)
            except OpsError as exc:  # a typo must not create an empty agency silently
                known = ", ".join(repr(a["name"]) for a in list_agencies(session)) or "none yet"
                raise OpsError(
                    f"no agency named {agency!r}; agencies: {known} "
                    "(or add --create-agency to create it)"
                ) from exc
        row = create_user(
            session, username, password, agency=agency, role=role, create_agency=create_agency
        )
        data = {"id": row.id, "username": row.username, "role": row.role, "agency": agency}
    emit(as_json, data, lambda: console.print(f"Created user {data['username']} ({role})."))


@user.command("list")
@click.option("--agency", help="Only users of this agency.")
@json_option
@click.pass_context
def user_list(ctx: click.Context, agency: str | None, as_json: bool) -> None:
    """List users with their agency and role."""
    from takedown.ops.agencies import list_users

    with transaction(ctx) as session:
        rows = list_users(session, agency)
    emit(
        as_json,
        rows,
        lambda: table(
            "Users",
            ["id", "username", "agency", "role", "disabled"],
            [[r["id"], r["username"], r["agency"], r["role"], r["disabled"]] for r in rows],
        ),
    )


@user.command("role")
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
@json_option
@click.pass_context
def user_role(ctx: click.Context, username: str, role: str, as_json: bool) -> None:
    """Give USERNAME the role ROLE."""
    from takedown.ops.agencies import set_role

    with transaction(ctx) as session:
        row = set_role(session, username, role)
        data = {"username": row.username, "role": row.role}
    emit(as_json, data, lambda: console.print(f"{data['username']} is now {data['role']}."))


# -- operation ----------------------------------------------------------------------------------
@click.group("operation")
def operation() -> None:
    """Operations (action days): create, join, assign, board, close."""


@operation.command("create")
@click.argument("name")
@click.option("--from", "starts", required=True, help="Start (ISO 8601; UTC if no zone).")
@click.option("--to", "ends", required=True, help="End (ISO 8601; UTC if no zone).")
@click.option("--agency", "agencies", multiple=True, required=True, help="A participant.")
@click.option("--outlet", "outlets", multiple=True, help="A target outlet (repeat for more).")
@click.option("--label", "labels", multiple=True, help="A target label (repeat for more).")
@json_option
@click.pass_context
def operation_create(
    ctx: click.Context,
    name: str,
    starts: str,
    ends: str,
    agencies: tuple[str, ...],
    outlets: tuple[str, ...],
    labels: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create an operation; the first --agency leads it."""
    from takedown.ops.operations import create_operation

    with transaction(ctx) as session:
        row = create_operation(
            session,
            name,
            starts_at=parse_time(starts, "--from"),
            ends_at=parse_time(ends, "--to"),
            agencies=list(agencies),
            outlets=list(outlets),
            labels=list(labels),
            actor=actor(),
        )
        data = {
            "id": row.id,
            "name": row.name,
            "starts_at": row.starts_at,
            "ends_at": row.ends_at,
            "agencies": list(agencies),
            "targets": row.targets,
        }
    emit(as_json, data, lambda: console.print(f"Created operation {data['name']}."))


@operation.command("join")
@click.argument("name")
@click.argument("agency_name", metavar="AGENCY")
@json_option
@click.pass_context
def operation_join(ctx: click.Context, name: str, agency_name: str, as_json: bool) -> None:
    """AGENCY takes part in operation NAME."""
    from takedown.ops.operations import join_operation

    with transaction(ctx) as session:
        join_operation(session, name, agency_name)
    data = {"operation": name, "agency": agency_name}
    emit(as_json, data, lambda: console.print(f"{agency_name} joined {name}."))


@operation.command("assign")
@click.argument("name")
@click.argument("username")
@click.option("--platform", "platforms", multiple=True, help="A platform key (repeat).")
@click.option("--language", "languages", multiple=True, help="A language code (repeat).")
@json_option
@click.pass_context
def operation_assign(
    ctx: click.Context,
    name: str,
    username: str,
    platforms: tuple[str, ...],
    languages: tuple[str, ...],
    as_json: bool,
) -> None:
    """Assign an analyst to platforms and/or languages in operation NAME."""
    from takedown.ops.operations import assign

    with transaction(ctx) as session:
        row = assign(
            session,
            name,
            username,
            platforms=list(platforms),
            languages=list(languages),
            actor=actor(),
        )
        data = {
            "operation": name,
            "user": username,
            "platforms": row.platforms,
            "languages": row.languages,
        }
    emit(as_json, data, lambda: console.print(f"{username} assigned in {name}."))


@operation.command("close")
@click.argument("name")
@json_option
@click.pass_context
def operation_close(ctx: click.Context, name: str, as_json: bool) -> None:
    """Close operation NAME: its board is frozen and later changes are refused."""
    from takedown.ops.operations import close_operation

    with transaction(ctx) as session:
        row = close_operation(session, name, actor=actor())
        data = {"operation": row.name, "closed_at": row.closed_at, "digest": row.final_digest}
    emit(as_json, data, lambda: console.print(f"Closed {name}; record digest {data['digest']}."))


@operation.command("list")
@json_option
@click.pass_context
def operation_list(ctx: click.Context, as_json: bool) -> None:
    """List operations."""
    from takedown.ops.operations import list_operations

    with transaction(ctx) as session:
        rows = list_operations(session)
    emit(
        as_json,
        rows,
        lambda: table(
            "Operations",
            ["name", "from", "to", "participants", "closed"],
            [
                [
                    r["name"],
                    r["starts_at"],
                    r["ends_at"],
                    ", ".join(r["participants"]),
                    r["closed_at"],
                ]
                for r in rows
            ],
        ),
    )


@operation.command("board")
@click.argument("name")
@json_option
@click.pass_context
def operation_board(ctx: click.Context, name: str, as_json: bool) -> None:
    """Live board: found / items / unique material / referred / removed, who works on what."""
    from takedown.ops.operations import board

    with transaction(ctx) as session:
        data = board(session, name)

    def human() -> None:
        total = data["total"]
        state = "frozen" if data["frozen"] else "live"
        console.print(
            f"{data['operation']} ({state}): found {total['found']}, items {total['items']}, "
            f"unique material {total['unique_material']}, referred {total['referred']}, "
            f"removed {total['removed']}"
        )
        columns = ["key", "found", "items", "unique_material", "referred", "removed"]
        for key in ("by_platform", "by_language", "by_agency"):
            table(key.replace("_", " "), columns, [[r[c] for c in columns] for r in data[key]])
        table(
            "Assignments",
            ["user", "agency", "platforms", "languages"],
            [
                [a["user"], a["agency"], ", ".join(a["platforms"]), ", ".join(a["languages"])]
                for a in data["assignments"]
            ],
        )

    emit(as_json, data, human)


COMMANDS: list[click.Command] = [
    agency,
    user,
    operation,
    *holds_cli.COMMANDS,
    *reports_cli.COMMANDS,
]
