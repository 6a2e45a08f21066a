"""Commands of the verify feature."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from takedown.cli.output import fail, json_option, print_json, table
from takedown.cli.queued import collect, submit_chunks, wait_option
from takedown.verify.run import (
    CHUNK,
    check_and_record,
    check_rows,
    checker_config,
    select_sightings,
)


@click.command("verify")
@click.option("--due", is_flag=True, help="Only sightings whose next check is due (else all).")
@click.option("--platform", help="Only sightings of this platform key.")
@wait_option
@json_option
@click.pass_obj
def verify_cmd(
    obj: Any, due: bool, platform: str | None, wait: bool, wait_timeout: float, as_json: bool
) -> None:
    """Check whether sighted URLs are still online and record the results.

    On PostgreSQL the checks run as jobs (chunks of sightings, per-host limits shared by every
    worker): the job ids are printed, or with --wait the results once the jobs have ended.
    """
    app = obj.app
    try:
        config = checker_config(app.settings)
    except ValueError as exc:
        raise fail(f"TAKEDOWN_VERIFY_HOST_MAP: {exc}") from exc
    sightings = select_sightings(app, due=due, platform=platform)
    if app.queued:
        job_ids = submit_chunks(
            app, "verify.check", "sighting_ids", [s.id for s in sightings], CHUNK
        )
        results = collect(app, job_ids, wait=wait, timeout=wait_timeout, as_json=as_json)
        if results is None:
            return
        rows: list[dict[str, Any]] = [row for r in results for row in r["checks"]]
        rows.sort(key=lambda r: int(r["sighting"]))
    else:
        rows = check_rows(check_and_record(app, sightings, config))
    counts = Counter(r["outcome"] for r in rows)
    if as_json:
        print_json({"checked": len(rows), "outcomes": dict(counts), "checks": rows})
        return
    table(
        "Checks",
        ["sighting", "outcome", "status", "url", "reason"],
        [[r["sighting"], r["outcome"], r["http_status"], r["url"], r["reason"]] for r in rows],
    )
    click.echo(f"checked {len(rows)}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


COMMANDS: list[click.Command] = [verify_cmd]
