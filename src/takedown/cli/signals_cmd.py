"""``takedown signals``: maintenance of stored signals (re-hashing values of an old algorithm)."""

from __future__ import annotations

from typing import Any

import click

from takedown.cli.output import fail, json_option, print_json, table
from takedown.cli.queued import collect, wait_option


@click.group("signals")
def signals_group() -> None:
    """Stored signals: algorithm versions and re-hashing."""


@signals_group.command("rehash")
@click.option(
    "--type", "types", multiple=True, help="Only this versioned signal type (repeatable)."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many contents.")
@click.option("--dry-run", is_flag=True, help="Only count the stale values.")
@wait_option
@json_option
@click.pass_obj
def rehash_cmd(
    obj: Any,
    types: tuple[str, ...],
    limit: int | None,
    dry_run: bool,
    wait: bool,
    wait_timeout: float,
    as_json: bool,
) -> None:
    """Re-compute stored values made by an earlier version of their signal type's algorithm
    (e.g. PDQ before it was identical to pytx) from the stored evidence. Idempotent."""
    from takedown.matching.rehash import RehashReport, current_versions, rehash

    try:
        versions = current_versions(list(types) or None)
        if obj.app.queued and not dry_run:  # PostgreSQL: a worker re-hashes (`signals.rehash`)
            job = obj.app.jobs.submit("signals.rehash", types=list(types), limit=limit)
            done = collect(obj.app, [job], wait=wait, timeout=wait_timeout, as_json=as_json)
            if done is None:
                return
            report = RehashReport.from_dict(done[0])
        else:
            report = rehash(obj.app, only=list(types) or None, limit=limit, dry_run=dry_run)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    data = {"dry_run": dry_run, "versions": versions, **report.to_dict()}
    if as_json:
        print_json(data)
    else:
        table(
            "Stale signal values",
            ["signal type", "current algorithm", "stale values"],
            [[name, version, report.stale.get(name, 0)] for name, version in versions.items()],
        )
        if not dry_run:
            click.echo(
                f"re-hashed {report.rehashed} of {report.contents} contents "
                f"({report.values} values); failed {len(report.failed)}"
            )
            for content_id, reason in sorted(report.failed.items()):
                click.echo(f"  content {content_id}: {reason}", err=True)
    if report.failed and not dry_run:
        raise SystemExit(1)


COMMANDS: list[click.Command] = [signals_group]
