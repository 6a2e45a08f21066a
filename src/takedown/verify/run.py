"""Run checks for sightings and record them: the one path the CLI, the API and the demo share.

``verify.check`` is the task over one chunk of sighting ids. In-process it runs here; queued (on
PostgreSQL) each chunk is a job, and every worker's checker takes its per-host slots and pace
from PostgreSQL (:class:`takedown.jobs.politeness.SharedHostGate`), so the limits hold across
all workers. A retried chunk checks its sightings again and records the new observations; a
sighting removed in the meantime is skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from takedown.app import App
from takedown.config import Settings
from takedown.jobs import task
from takedown.store.models import Sighting
from takedown.verify.checker import Checker, CheckerConfig, CheckResult, parse_host_map
from takedown.verify.record import due_sightings, record_check


def checker_config(settings: Settings) -> CheckerConfig:
    """The checker as the settings describe it; a bad host map raises ``ValueError``."""
    return CheckerConfig(
        timeout=settings.verify_timeout,
        max_body_bytes=settings.verify_max_body,
        per_host_concurrency=settings.verify_concurrency,
        vantage=settings.verify_vantage,
        allow_loopback=settings.verify_allow_loopback,
        host_map=parse_host_map(settings.verify_host_map),
        host_map_plain_http=settings.verify_host_map_plain_http,
    )


@dataclass(frozen=True)
class Checked:
    sighting_id: int
    result: CheckResult


def select_sightings(
    app: App, *, due: bool = False, platform: str | None = None, ids: Sequence[int] | None = None
) -> list[Sighting]:
    """Sightings to check: not known removed, with a URL; only those due when ``due``."""
    with app.db.session() as session:
        if due:
            found = due_sightings(session, platform=platform)
        else:
            query = select(Sighting).where(Sighting.removed_at.is_(None), Sighting.url.is_not(None))
            if platform:
                query = query.where(Sighting.platform_key == platform)
            found = list(session.scalars(query.order_by(Sighting.id)))
    if ids is not None:
        wanted = set(ids)
        found = [s for s in found if s.id in wanted]
    return found


def target_url(sighting: Sighting) -> str:
    """The canonical URL (re-fanged, tracking parameters dropped) where there is one."""
    return sighting.canonical_url or sighting.url or ""


async def _run(config: CheckerConfig, jobs: list[tuple[str, tuple[str, ...]]]) -> list[CheckResult]:
    async with Checker(config) as checker:
        return list(await asyncio.gather(*(checker.check(u, p) for u, p in jobs)))


def check_and_record(
    app: App, sightings: Sequence[Sighting], config: CheckerConfig | None = None
) -> list[Checked]:
    """Check every sighting's URL (per-host limits, SSRF guard) and record each result."""
    config = config or checker_config(app.settings)
    if config.host_gate is None and app.db.dialect == "postgresql":
        from dataclasses import replace

        from takedown.jobs.politeness import SharedHostGate

        gate = SharedHostGate(
            app.db.engine,
            concurrency=config.per_host_concurrency,
            interval=app.settings.verify_host_interval,
        )
        config = replace(config, host_gate=gate)
    jobs: list[tuple[str, tuple[str, ...]]] = []
    for s in sightings:
        patterns: tuple[str, ...] = ()
        if s.platform_key and s.platform_key in app.registry:
            patterns = tuple(app.registry.get(s.platform_key).removed_patterns)
        jobs.append((target_url(s), patterns))
    results = asyncio.run(_run(config, jobs)) if jobs else []
    out: list[Checked] = []
    with app.db.session() as session:
        for s, result in zip(sightings, results, strict=True):
            current = session.get(Sighting, s.id)
            if current is not None:
                record_check(session, current, result)
                out.append(Checked(s.id, result))
    return out


#: Sightings per queued verification job.
CHUNK = 100


def check_rows(checked: Sequence[Checked]) -> list[dict[str, Any]]:
    """The JSON rows of checks, as ``takedown verify`` prints them."""
    return [
        {
            "sighting": c.sighting_id,
            "url": c.result.url,
            "outcome": c.result.outcome,
            "http_status": c.result.http_status,
            "reason": c.result.reason,
        }
        for c in checked
    ]


def _ids(args: Mapping[str, Any]) -> list[int]:
    raw = args.get("sighting_ids")
    if not isinstance(raw, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in raw
    ):
        raise ValueError(f"sighting_ids must be a list of integers, not {raw!r}")
    return raw


@task("verify.check")
def check_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """Check the sightings named (those still live and with a URL) and record the results."""
    ids = _ids(args)
    with app.db.session() as session:
        found = list(
            session.scalars(
                select(Sighting)
                .where(
                    Sighting.id.in_(ids), Sighting.removed_at.is_(None), Sighting.url.is_not(None)
                )
                .order_by(Sighting.id)
            )
        )
    return {"checks": check_rows(check_and_record(app, found))}


__all__ = [
    "CHUNK",
    "Checked",
    "check_and_record",
    "check_rows",
    "check_task",
    "checker_config",
    "select_sightings",
    "target_url",
]
