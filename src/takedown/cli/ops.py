"""Commands of the ops feature: agencies, users and roles, operations, deconfliction holds,
complaints, the audit chain and reports."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from takedown.api.auth import ROLE_ALIASES, ROLES
from takedown.cli.output import console, fail, json_option, print_json, table
from takedown.ops.agencies import OpsError

T = TypeVar("T")


def _app(ctx: click.Context) -> Any:
    return ctx.find_root().obj.app


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def _session(ctx: click.Context) -> Iterator[Session]:
    """One transaction, acting as the command-line user; ops errors become CLI errors."""
    from takedown.store.audit import acting_as

    app = _app(ctx)
    try:
        with acting_as(_actor()), app.db.session() as session:
            yield session
    except (OpsError, ValueError) as exc:
        raise fail(str(exc)) from exc


def _time(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise fail(f"{option}: not an ISO 8601 date or time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # dates and naive times are read as UTC
    return parsed.astimezone(UTC)


def _emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    if as_json:
        print_json(data)
    else:
        human()


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

    with _session(ctx) as session:
        row = create_agency(session, name, list(reporters))
        data = {"id": row.id, "name": row.name, "reporters": list(reporters)}
    _emit(as_json, data, lambda: console.print(f"Created agency {data['name']}."))


@agency.command("reporter")
@click.argument("name")
@click.argument("reporter")
@json_option
@click.pass_context
def agency_reporter(ctx: click.Context, name: str, reporter: str, as_json: bool) -> None:
    """Let REPORTER (as written at intake) stand for agency NAME."""
    from takedown.ops.agencies import add_reporter, get_agency

    with _session(ctx) as session:
        add_reporter(session, get_agency(session, name), reporter)
    data = {"agency": name, "reporter": reporter}
    _emit(as_json, data, lambda: console.print(f"{reporter} now stands for {name}."))


@agency.command("list")
@json_option
@click.pass_context
def agency_list(ctx: click.Context, as_json: bool) -> None:
    """List agencies."""
    from takedown.ops.agencies import list_agencies

    with _session(ctx) as session:
        rows = list_agencies(session)
    _emit(
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
@click.option("--agency", help="The user's agency (created if new).")
@click.option("--role", type=ROLE_CHOICE, default="analyst", show_default=True)
@json_option
@click.pass_context
def user_create(
    ctx: click.Context,
    username: str,
    password: str,
    agency: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Create a user who can log in to the workspace."""
    from takedown.ops.agencies import create_user

    with _session(ctx) as session:
        row = create_user(session, username, password, agency=agency, role=role, create_agency=True)
        data = {"id": row.id, "username": row.username, "role": row.role, "agency": agency}
    _emit(as_json, data, lambda: console.print(f"Created user {data['username']} ({role})."))


@user.command("list")
@click.option("--agency", help="Only users of this agency.")
@json_option
@click.pass_context
def user_list(ctx: click.Context, agency: str | None, as_json: bool) -> None:
    """List users with their agency and role."""
    from takedown.ops.agencies import list_users

    with _session(ctx) as session:
        rows = list_users(session, agency)
    _emit(
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

    with _session(ctx) as session:
        row = set_role(session, username, role)
        data = {"username": row.username, "role": row.role}
    _emit(as_json, data, lambda: console.print(f"{data['username']} is now {data['role']}."))


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

    with _session(ctx) as session:
        row = create_operation(
            session,
            name,
            starts_at=_time(starts, "--from"),
            ends_at=_time(ends, "--to"),
            agencies=list(agencies),
            outlets=list(outlets),
            labels=list(labels),
            actor=_actor(),
        )
        data = {
            "id": row.id,
            "name": row.name,
            "starts_at": row.starts_at,
            "ends_at": row.ends_at,
            "agencies": list(agencies),
            "targets": row.targets,
        }
    _emit(as_json, data, lambda: console.print(f"Created operation {data['name']}."))


@operation.command("join")
@click.argument("name")
@click.argument("agency_name", metavar="AGENCY")
@json_option
@click.pass_context
def operation_join(ctx: click.Context, name: str, agency_name: str, as_json: bool) -> None:
    """AGENCY takes part in operation NAME."""
    from takedown.ops.operations import join_operation

    with _session(ctx) as session:
        join_operation(session, name, agency_name)
    data = {"operation": name, "agency": agency_name}
    _emit(as_json, data, lambda: console.print(f"{agency_name} joined {name}."))


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

    with _session(ctx) as session:
        row = assign(
            session,
            name,
            username,
            platforms=list(platforms),
            languages=list(languages),
            actor=_actor(),
        )
        data = {
            "operation": name,
            "user": username,
            "platforms": row.platforms,
            "languages": row.languages,
        }
    _emit(as_json, data, lambda: console.print(f"{username} assigned in {name}."))


@operation.command("close")
@click.argument("name")
@json_option
@click.pass_context
def operation_close(ctx: click.Context, name: str, as_json: bool) -> None:
    """Close operation NAME: its board is frozen and later changes are refused."""
    from takedown.ops.operations import close_operation

    with _session(ctx) as session:
        row = close_operation(session, name, actor=_actor())
        data = {"operation": row.name, "closed_at": row.closed_at, "digest": row.final_digest}
    _emit(as_json, data, lambda: console.print(f"Closed {name}; record digest {data['digest']}."))


@operation.command("list")
@json_option
@click.pass_context
def operation_list(ctx: click.Context, as_json: bool) -> None:
    """List operations."""
    from takedown.ops.operations import list_operations

    with _session(ctx) as session:
        rows = list_operations(session)
    _emit(
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

    with _session(ctx) as session:
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

    _emit(as_json, data, human)


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
    with _session(ctx) as session:
        row = add_hold(
            session,
            agency=agency_name,
            kind=kind,
            value=value,
            reason=reason,
            days=days,
            expires_at=_time(until, "--until") if until else None,
            actor=_actor(),
        )
        data = hold_view(row, agency_name, owner=True)
    _emit(as_json, data, lambda: console.print(f"Hold {data['id']} on {kind} {data['value']}."))


@hold.command("list")
@click.option("--agency", "agency_name", required=True, help="Your agency (owner of the holds).")
@click.option("--all", "all_states", is_flag=True, help="Also lifted and expired holds.")
@json_option
@click.pass_context
def hold_list(ctx: click.Context, agency_name: str, all_states: bool, as_json: bool) -> None:
    """List your agency's holds (with their reasons)."""
    from takedown.ops.holds import list_holds

    with _session(ctx) as session:
        rows = list_holds(session, agency_name, all_states=all_states)
    _emit(
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

    with _session(ctx) as session:
        row = lift_hold(session, hold_id, agency=agency_name, actor=_actor())
        data = hold_view(row, agency_name, owner=True)
    _emit(as_json, data, lambda: console.print(f"Lifted hold {hold_id}."))


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
    from takedown.ops.holds import notifications

    with _session(ctx) as session:
        rows = notifications(session, agency_name, unseen_only=unseen, mark_seen=mark_seen)
    _emit(
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

    with _session(ctx) as session:
        row = record_complaint(
            session,
            sighting_id=sighting_id,
            complainant=complainant,
            grounds=grounds,
            received_at=_time(received, "--received") if received else None,
        )
        data = complaint_view(row)
    _emit(
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

    with _session(ctx) as session:
        row = decide(session, complaint_id, outcome, reason=reason, actor=_actor())
        data = complaint_view(row)
    _emit(as_json, data, lambda: console.print(f"Complaint {complaint_id}: {outcome}."))


@complaint.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only undecided complaints.")
@json_option
@click.pass_context
def complaint_list(ctx: click.Context, open_only: bool, as_json: bool) -> None:
    """List complaints with their deadlines."""
    from takedown.ops.complaints import list_complaints

    with _session(ctx) as session:
        rows = list_complaints(session, open_only=open_only)
    _emit(
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

    verdict = verify(_app(ctx).db.engine)
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


def _write_report(
    ctx: click.Context, data: dict[str, Any], fmt: str, out: Path | None, as_json: bool
) -> None:
    from takedown.ops.reports import render
    from takedown.store.audit import acting_as, record

    body = render(data, fmt)
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
    app = _app(ctx)
    with acting_as(_actor()), app.db.engine.begin() as conn:
        record(conn, "export", "report", {"kind": data["kind"], "format": fmt, "out": target})
    if out is not None:
        summary = {"out": target, "format": fmt, "bytes": len(body), "kind": data["kind"]}
        _emit(as_json, summary, lambda: console.print(f"Wrote {target} ({len(body)} bytes)."))


@click.group("report")
def report() -> None:
    """Operation and transparency reports as HTML, PDF or JSON."""


@report.command("operation")
@click.argument("name")
@click.option("--format", "fmt", type=FORMAT, default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
@json_option
@click.pass_context
def report_operation(
    ctx: click.Context, name: str, fmt: str, out: Path | None, as_json: bool
) -> None:
    """The report of operation NAME (items, platforms, languages, removal, re-uploads)."""
    from takedown.ops.reports import operation_report

    with _session(ctx) as session:
        data = operation_report(session, name)
    _write_report(ctx, data, fmt, out, as_json)


@report.command("transparency")
@click.option("--from", "start", required=True, help="Period start (ISO 8601; UTC if no zone).")
@click.option("--to", "end", required=True, help="Period end, exclusive (ISO 8601).")
@click.option("--format", "fmt", type=FORMAT, default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
@json_option
@click.pass_context
def report_transparency(
    ctx: click.Context, start: str, end: str, fmt: str, out: Path | None, as_json: bool
) -> None:
    """Transparency figures of a period (TCO Art. 7 and 8) with breakdowns."""
    from takedown.ops.reports import transparency_report

    with _session(ctx) as session:
        data = transparency_report(session, _time(start, "--from"), _time(end, "--to"))
    _write_report(ctx, data, fmt, out, as_json)


COMMANDS: list[click.Command] = [agency, user, operation, hold, complaint, audit, report]
