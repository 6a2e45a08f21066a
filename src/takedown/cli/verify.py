"""Commands of the verify feature."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import click

from takedown.cli.output import fail, json_option, print_json, table
from takedown.store.models import Sighting
from takedown.verify.checker import Checker, CheckerConfig, CheckResult, parse_host_map
from takedown.verify.record import due_sightings, record_check


def _config(app: Any) -> CheckerConfig:
    s = app.settings
    try:
        host_map = parse_host_map(s.verify_host_map)
    except ValueError as exc:
        raise fail(f"TAKEDOWN_VERIFY_HOST_MAP: {exc}") from exc
    return CheckerConfig(
        timeout=s.verify_timeout,
        max_body_bytes=s.verify_max_body,
        per_host_concurrency=s.verify_concurrency,
        vantage=s.verify_vantage,
        allow_loopback=s.verify_allow_loopback,
        host_map=host_map,
    )


async def _run(config: CheckerConfig, jobs: list[tuple[str, tuple[str, ...]]]) -> list[CheckResult]:
    async with Checker(config) as checker:
        return list(await asyncio.gather(*(checker.check(u, p) for u, p in jobs)))


@click.command("verify")
@click.option("--due", is_flag=True, help="Only sightings whose next check is due (else all).")
@click.option("--platform", help="Only sightings of this platform key.")
@json_option
@click.pass_obj
def verify_cmd(obj: Any, due: bool, platform: str | None, as_json: bool) -> None:
    """Check whether sighted URLs are still online and record the results."""
    app = obj.app
    config = _config(app)
    with app.db.session() as session:
        if due:
            sightings = due_sightings(session, platform=platform)
        else:
            query = session.query(Sighting).filter(
                Sighting.removed_at.is_(None), Sighting.url.is_not(None)
            )
            if platform:
                query = query.filter(Sighting.platform_key == platform)
            sightings = query.order_by(Sighting.id).all()
        jobs = []
        for s in sightings:
            patterns: tuple[str, ...] = ()
            if s.platform_key and s.platform_key in app.registry:
                patterns = app.registry.get(s.platform_key).removed_patterns
            jobs.append((s.url or "", patterns))
        ids = [s.id for s in sightings]
    results = asyncio.run(_run(config, jobs)) if jobs else []
    with app.db.session() as session:
        for sid, result in zip(ids, results, strict=True):
            sighting = session.get(Sighting, sid)
            if sighting is not None:
                record_check(session, sighting, result)
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
