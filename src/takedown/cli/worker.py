"""``takedown worker``: run queued jobs (PostgreSQL), on as many machines as needed."""

from __future__ import annotations

import logging
import os
import socket

import click

from takedown.cli.output import console, fail, json_option, print_json


@click.command("worker")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="Serve only this queue (repeatable): hashing, matching, default. Default: all.",
)
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Jobs at once in this process (threads; run more processes for more CPU).",
)
@click.option("--name", help="Worker name in logs (default host:pid).")
@click.option("--once", is_flag=True, help="Exit when the queues are empty instead of waiting.")
@click.option(
    "--heartbeat",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between heartbeats.",
)
@click.option(
    "--stalled-after",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.5),
    help="Queue again the jobs of workers silent this long (a killed worker's jobs).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log every job (INFO).")
@json_option
@click.pass_context
def worker(
    ctx: click.Context,
    queues: tuple[str, ...],
    concurrency: int,
    name: str | None,
    once: bool,
    heartbeat: float,
    stalled_after: float,
    verbose: bool,
    as_json: bool,
) -> None:
    """Run queued jobs until stopped (SIGTERM/SIGINT finish the jobs in hand first)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # the CLI set warnings-only before any import (takedown.cli)
    )
    app = ctx.find_root().obj.app
    if not app.settings.queued:
        raise fail(
            "workers need the job queue on PostgreSQL: set TAKEDOWN_DATABASE_URL to a "
            "PostgreSQL database (the embedded SQLite default runs tasks in-process)"
        )
    from takedown.jobs.queue import QueueOptions, build, check_queue_schema, run_worker

    app.db  # noqa: B018 - refuses to start (SchemaError) when the schema is behind
    check_queue_schema(app.db.engine)
    options = QueueOptions(app.settings.job_max_attempts, app.settings.job_backoff)
    papp = build(app.settings.resolved_database_url, context=lambda: app, options=options)
    label = name or f"{socket.gethostname()}:{os.getpid()}"
    if as_json:
        print_json({"worker": label, "queues": list(queues) or None, "concurrency": concurrency})
    else:
        console.print(f"Worker {label}: queues {', '.join(queues) or 'all'}, x{concurrency}")
    run_worker(
        papp,
        queues=list(queues) or None,
        concurrency=concurrency,
        name=label,
        wait=not once,
        heartbeat=heartbeat,
        stalled_after=stalled_after,
    )


COMMANDS = (worker,)
