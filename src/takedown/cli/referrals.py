"""Commands of the referrals feature: refer, respond, figures, referrals list/send/show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from takedown.cli.output import console, fail, json_option, print_json, table
from takedown.cli.queued import collect, wait_option
from takedown.referrals.machine import KINDS, RESPONSES, IllegalTransition


def _app(ctx: click.Context) -> Any:
    return ctx.find_root().obj.app


def _time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise fail(f"--at: not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise fail("--at needs a time zone (e.g. 2026-01-02T10:00:00Z)")
    return parsed.astimezone(UTC)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _sent_out(report: Any) -> dict[str, Any]:
    return {"sent": report.sent, "failed": report.failed}


def _send(app: Any, wait: bool, timeout: float) -> dict[str, Any]:
    """Deliver what is due: here (SQLite), or as a ``referrals.send`` job (PostgreSQL).

    Queued without ``wait``: ``{"jobs": [id]}``; with ``wait``: the job's sent/failed lists.
    """
    from takedown.referrals.outbox import send_due

    if not app.queued:
        return _sent_out(send_due(app))
    job_id = int(app.jobs.submit("referrals.send"))
    if not wait:
        return {"jobs": [job_id]}
    results = collect(app, [job_id], wait=True, timeout=timeout, as_json=True)
    assert results is not None
    return {"sent": results[0]["sent"], "failed": results[0]["failed"]}


def _print_sent(out: dict[str, Any], prefix: str = "") -> None:
    if "jobs" in out and "sent" not in out:
        ids = ", ".join(map(str, out["jobs"]))
        console.print(f"{prefix}sending queued as job {ids} (see: takedown jobs; or pass --wait)")
        return
    console.print(f"{prefix}sent {len(out['sent'])}, failed {len(out['failed'])}")
    for f in out["failed"]:
        console.print(f"  {f['reference']} via {f['channel']}: {f['error']} (will retry)")


@click.command("refer")
@click.option("--platform", help="Only sightings of this platform key (or unrouted:<domain>).")
@click.option("--order", is_flag=True, help="Removal orders (1 h deadline) instead of referrals.")
@click.option("--send", "do_send", is_flag=True, help="Also send every unsent referral now.")
@click.option("--basis", help="Legal basis or policy clause, as chosen by the analyst.")
@click.option("--channel", help="Send through this channel (default: webhook, email, file).")
@click.option("--agency", help="The referring agency: its own deconfliction holds do not block.")
@click.option("--actor", help="Who refers (recorded with the referral and its audit events).")
@wait_option
@json_option
@click.pass_context
def refer_cmd(
    ctx: click.Context,
    platform: str | None,
    order: bool,
    do_send: bool,
    basis: str | None,
    channel: str | None,
    agency: str | None,
    actor: str | None,
    wait: bool,
    wait_timeout: float,
    as_json: bool,
) -> None:
    """Draft referrals (or removal orders) for sightings not yet referred, per addressee.

    With --send on PostgreSQL the sending runs as a job (its id is printed; --wait waits for
    it and prints what was sent).
    """
    from takedown.referrals.outbox import ChannelError, queue
    from takedown.referrals.routing import draft

    app = _app(ctx)
    if (
        platform
        and not platform.startswith(("unknown:", "unrouted:"))
        and platform not in app.registry
    ):
        raise fail(f"unknown platform {platform!r} (see: takedown platforms)")
    kind = KINDS[1] if order else KINDS[0]
    agency_id = None
    if agency:
        from takedown.ops.agencies import OpsError, get_agency

        try:
            with app.db.session() as session:
                agency_id = get_agency(session, agency).id
        except OpsError as exc:
            raise fail(str(exc)) from exc
    routed = draft(
        app, platform=platform, kind=kind, basis=basis, actor=actor or agency, agency_id=agency_id
    )
    drafted = [
        {
            "reference": r.reference,
            "kind": r.kind,
            "addressee": r.addressee_key,
            "addressee_kind": r.addressee_kind,
            "state": r.state,
        }
        for r in routed.drafted
    ]
    out: dict[str, Any] = {
        "drafted": drafted,
        "unrouted": [{"addressee": k, "sightings": v} for k, v in sorted(routed.unrouted.items())],
        "blocked": [{"sighting": k, "message": v} for k, v in sorted(routed.blocked.items())],
    }
    if do_send:
        try:
            out["queued"] = queue(app, channel=channel)
        except ChannelError as exc:
            raise fail(str(exc)) from exc
        out.update(_send(app, wait, wait_timeout))
    if as_json:
        print_json(out)
        return
    table(
        "Drafted",
        ["reference", "kind", "addressee", "state"],
        [[d["reference"], d["kind"], d["addressee"], d["state"]] for d in drafted],
    )
    if routed.unrouted:
        table(
            "Unrouted (no platform, hoster or registrar found)",
            ["addressee", "sightings"],
            [[k, len(v)] for k, v in sorted(routed.unrouted.items())],
        )
    if routed.blocked:
        table(
            "Not referred: deconfliction holds",
            ["sighting", "message"],
            [[k, v] for k, v in sorted(routed.blocked.items())],
        )
    if do_send:
        _print_sent(out)


@click.command("respond")
@click.argument("reference")
@click.argument("status", type=click.Choice([*RESPONSES]))
@click.option("--reason", help="Reason given (rejections, impossibility, ...).")
@click.option("--at", "at_text", help="When it happened (ISO 8601 with zone; default now).")
@json_option
@click.pass_context
def respond_cmd(
    ctx: click.Context,
    reference: str,
    status: str,
    reason: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Record an answer to a referral (e.g. an emailed one)."""
    from takedown.referrals.respond import UnknownReference, record

    app = _app(ctx)
    at = _time(at_text)
    try:
        with app.db.session() as session:
            outcome = record(session, reference, status, at, reason=reason).outcome
    except (UnknownReference, IllegalTransition) as exc:
        raise fail(str(exc.args[0] if exc.args else exc)) from exc
    out = {
        "reference": outcome.reference,
        "status": status,
        "from_state": outcome.from_state,
        "to_state": outcome.to_state,
        "duplicate": outcome.duplicate,
    }
    if as_json:
        print_json(out)
    elif outcome.duplicate:
        console.print(f"{reference}: already recorded ({outcome.to_state}); nothing changed")
    else:
        console.print(f"{reference}: {outcome.from_state} -> {outcome.to_state}")


@click.command("figures")
@click.option("--by", type=click.Choice(["platform", "addressee", "language"]), default="platform")
@click.option("--live", "live_limit", type=int, default=20, help="Still-live items listed.")
@json_option
@click.pass_context
def figures_cmd(ctx: click.Context, by: str, live_limit: int, as_json: bool) -> None:
    """Removal rates and times of referred sightings, per platform, addressee or language."""
    from takedown.referrals.figures import figures

    data = figures(_app(ctx), by, live_limit=live_limit)
    if as_json:
        print_json(data)
        return

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f} %"

    rows = [
        [
            g["key"],
            g["referred"],
            g["removed"],
            pct(g["share_removed"]),
            _age(g["median_seconds"]),
            _age(g["p90_seconds"]),
            pct(g["share_within_1h"]),
            pct(g["share_within_24h"]),
            pct(g["share_within_7d"]),
            f"{g['orders_missed_deadline']}/{g['orders']}",
            g["still_live"],
        ]
        for g in [*data["groups"], data["total"]]
    ]
    table(
        f"Figures by {by}",
        [
            by,
            "referred",
            "removed",
            "share",
            "median",
            "p90",
            "≤1 h",
            "≤24 h",
            "≤7 d",
            "orders missed",
            "still live",
        ],
        rows,
    )
    live = data["total"]["still_live_items"]
    if live:
        table(
            "Still live (oldest first)",
            ["sighting", "url", "referred at", "age"],
            [[i["sighting_id"], i["url"], i["referred_at"], _age(i["age_seconds"])] for i in live],
        )


@click.group("referrals")
def referrals_group() -> None:
    """List referrals and work the outbox."""


@referrals_group.command("list")
@click.option("--state", help="Only referrals in this state.")
@click.option("--limit", type=int, default=500)
@json_option
@click.pass_context
def list_cmd(ctx: click.Context, state: str | None, limit: int, as_json: bool) -> None:
    """Referrals with their state, deadline and outbox (last error)."""
    from takedown.referrals.board import listing

    rows = listing(_app(ctx), state, limit)
    if as_json:
        print_json({"referrals": rows})
        return
    table(
        "Referrals",
        ["reference", "kind", "state", "addressee", "items", "sent", "deadline", "outbox"],
        [
            [
                r["reference"],
                r["kind"],
                r["state"],
                r["addressee"],
                r["items"],
                r["sent_at"].isoformat() if r["sent_at"] else "-",
                r["deadline"].isoformat() if r["deadline"] else "-",
                "; ".join(
                    f"{d['channel']} {d['state']} x{d['attempts']}"
                    + (f" ({d['last_error']})" if d["last_error"] else "")
                    for d in r["deliveries"]
                ),
            ]
            for r in rows
        ],
    )


@referrals_group.command("send")
@click.option("--channel", help="Queue unsent referrals on this channel first.")
@wait_option
@json_option
@click.pass_context
def send_cmd(
    ctx: click.Context, channel: str | None, wait: bool, wait_timeout: float, as_json: bool
) -> None:
    """Queue unsent referrals and deliver everything due (failures retry with backoff).

    On PostgreSQL the delivery runs as a job: its id is printed, or with --wait what it sent.
    """
    from takedown.referrals.outbox import ChannelError, queue

    app = _app(ctx)
    try:
        queued = queue(app, channel=channel)
    except ChannelError as exc:
        raise fail(str(exc)) from exc
    out = {"queued": queued, **_send(app, wait, wait_timeout)}
    if as_json:
        print_json(out)
        return
    _print_sent(out, prefix=f"queued {queued}, ")


@referrals_group.command("show")
@click.argument("reference")
@json_option
@click.pass_context
def show_cmd(ctx: click.Context, reference: str, as_json: bool) -> None:
    """One referral: items and every transition."""
    from sqlalchemy import select

    from takedown.referrals.models import ReferralEvent, ReferralItem
    from takedown.referrals.respond import UnknownReference, find

    with _app(ctx).db.session() as session:
        try:
            r = find(session, reference)
        except UnknownReference as exc:
            raise fail(str(exc.args[0])) from exc
        events = [
            {
                "event": e.event,
                "from": e.from_state,
                "to": e.to_state,
                "at": e.at,
                "recorded_at": e.recorded_at,
                "source": e.source,
                "reason": e.reason,
            }
            for e in session.scalars(
                select(ReferralEvent)
                .where(ReferralEvent.referral_id == r.id)
                .order_by(ReferralEvent.id)
            )
        ]
        items = [
            {
                "item_id": str(i.sighting_id),
                "url": i.url,
                "sha256": i.sha256,
                "labels": (i.labels or {}).get("labels", []),
                "status": i.status,
                "status_at": i.status_at,
            }
            for i in session.scalars(select(ReferralItem).where(ReferralItem.referral_id == r.id))
        ]
        out = {
            "reference": r.reference,
            "kind": r.kind,
            "state": r.state,
            "addressee": r.addressee_key,
            "basis": r.basis,
            "sent_at": r.sent_at,
            "deadline": r.deadline,
            "items": items,
            "events": events,
        }
    if as_json:
        print_json(out)
        return
    console.print(f"{out['reference']} {out['kind']} {out['state']} → {out['addressee']}")
    table(
        "Events",
        ["event", "from", "to", "at", "source", "reason"],
        [
            [e["event"], e["from"], e["to"], e["at"].isoformat(), e["source"], e["reason"]]
            for e in events
        ],
    )
    table(
        "Items",
        ["item", "url", "sha256", "status"],
        [[i["item_id"], i["url"], i["sha256"], i["status"]] for i in items],
    )


COMMANDS: list[click.Command] = [refer_cmd, respond_cmd, figures_cmd, referrals_group]
