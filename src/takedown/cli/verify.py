"""Commands of the verify feature."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from takedown.cli.output import fail, json_option, print_json, table
from takedown.verify.run import check_and_record, checker_config, select_sightings


@click.command("verify")
@click.option("--due", is_flag=True, help="Only sightings whose next check is due (else all).")
@click.option("--platform", help="Only sightings of this platform key.")
@json_option
@click.pass_obj
def verify_cmd(obj: Any, due: bool, platform: str | None, as_json: bool) -> None:
    """Check whether sighted URLs are still online and record the results."""
    app = obj.app
    try:
        config = checker_config(app.settings)
    except ValueError as exc:
        raise fail(f"TAKEDOWN_VERIFY_HOST_MAP: {exc}") from exc
    sightings = select_sightings(app, due=due, platform=platform)
    checked = check_and_record(app, sightings, config)
    results = [c.result for c in checked]
    ids = [c.sighting_id for c in checked]
    counts = Counter(r.outcome for r in results)
    rows = [
        {
            "sighting": sid,
            "url": r.url,
            "outcome": r.outcome,
            "http_status": r.http_status,
            "reason": r.reason,
        }
        for sid, r in zip(ids, results, strict=True)
    ]
    if as_json:
        print_json({"checked": len(results), "outcomes": dict(counts), "checks": rows})
        return
    table(
        "Checks",
        ["sighting", "outcome", "status", "url", "reason"],
        [[r["sighting"], r["outcome"], r["http_status"], r["url"], r["reason"]] for r in rows],
    )
    click.echo(f"checked {len(results)}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


COMMANDS: list[click.Command] = [verify_cmd]
