"""Commands of the jobs feature: ``jobs`` (list, retry, wait), ``reprocess``, ``db``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from takedown.cli.output import console, fail, json_option, print_json, table
from takedown.jobs.status import STATES, queue_status, wait_idle


def _app(ctx: click.Context) -> Any:
    return ctx.find_root().obj.app


@click.group("jobs", invoke_without_command=True)
@click.option(
    "--stalled-after",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds without a worker heartbeat after which a running job counts as stalled.",
)
@json_option
@click.pass_context
def jobs(ctx: click.Context, stalled_after: float, as_json: bool) -> None:
    """Queued, running, stalled and failed jobs, with counts per task."""
    if ctx.invoked_subcommand is not None:
        return
    app = _app(ctx)
    status = queue_status(app.db.engine, stalled_after=stalled_after)
    from takedown.jobs.reprocess import backlog

    data = status.as_dict()
    data["content"] = backlog(app)
    if as_json:
        print_json(data)
        return
    if status.backend == "in-process":
        console.print("Tasks run in-process (embedded default): there is no queue.")
    rows = [[name, *(per.get(s, 0) for s in STATES)] for name, per in sorted(status.tasks.items())]
    rows.append(["(all)", *(status.totals.get(s, 0) for s in STATES)])
    table("Jobs", ["task", *STATES], rows)
    if status.failed:
        table(
            "Failed jobs (newest first)",
            ["id", "task", "attempts", "error"],
            [[f["id"], f["task"], f["attempts"], f["error"]] for f in status.failed],
        )
    console.print(
        f"Workers: {len(status.workers)} ({sum(w['stalled'] for w in status.workers)} stalled). "
        f"Content pending {data['content']['pending']}, unmatched {data['content']['unmatched']}."
    )


@jobs.command("retry")
@click.argument("job_ids", nargs=-1, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Retry every failed job.")
@json_option
@click.pass_context
def jobs_retry(
    ctx: click.Context, job_ids: tuple[int, ...], retry_all: bool, as_json: bool
) -> None:
    """Queue failed jobs again (the given ids, or --all)."""
    if not job_ids and not retry_all:
        raise fail("name the failed jobs to retry, or pass --all")
    app = _app(ctx)
    if not app.queued:
        raise fail("tasks run in-process here (SQLite): there are no queued jobs to retry")
    from takedown.jobs.queue import retry_failed

    papp = app.jobs.papp
    with papp.open():
        retried = retry_failed(papp, None if retry_all else list(job_ids))
    missing = sorted(set(job_ids) - set(retried))
    if as_json:
        print_json({"retried": retried, "not_failed": missing})
    else:
        console.print(f"Queued again: {len(retried)} job(s).")
    if missing:
        raise fail(f"not failed jobs (or unknown): {', '.join(map(str, missing))}")


@jobs.command("wait")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up after this many seconds.")
@json_option
@click.pass_context
def jobs_wait(ctx: click.Context, timeout: float | None, as_json: bool) -> None:
    """Block until no job is queued or running (exit 1 on timeout)."""
    app = _app(ctx)
    idle = wait_idle(app.db.engine, timeout=timeout)
    status = queue_status(app.db.engine)
    if as_json:
        print_json({"idle": idle, "failed": status.totals["failed"]})
    elif idle:
        console.print(f"Idle. Failed jobs: {status.totals['failed']}.")
    if not idle:
        raise fail(f"jobs still queued or running after {timeout} s")


@jobs.command("output")
@click.argument("job_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write it here.")
@json_option
@click.pass_context
def jobs_output(ctx: click.Context, job_id: int, out: Path | None, as_json: bool) -> None:
    """The result of a finished job; the file it made (a report) with --out."""
    from takedown.jobs.results import get_file, wait_jobs

    app = _app(ctx)
    if not app.queued:
        raise fail("tasks run in-process here (SQLite): there are no job results")
    from takedown.jobs.results import JobWaitError

    try:
        (outcome,) = wait_jobs(app.db.engine, [job_id], timeout=0)
    except JobWaitError as exc:
        raise fail(str(exc)) from exc
    if not outcome.ok:
        raise fail(f"job {job_id} {outcome.status}: {outcome.error or 'no error recorded'}")
    result = outcome.result
    file_id = result.get("file_id") if isinstance(result, dict) else None
    if out is None:
        if as_json:
            print_json({"job": job_id, "result": result})
        else:
            console.print_json(data=result)
        return
    if not isinstance(file_id, int):
        raise fail(f"job {job_id} made no file")
    stored = get_file(app.db.engine, file_id)
    if stored is None:
        raise fail(f"the file of job {job_id} is no longer stored")
    try:
        out.write_bytes(stored["data"])
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from exc
    summary = {"job": job_id, "out": str(out), "bytes": len(stored["data"])}
    if as_json:
        print_json(summary)
    else:
        console.print(f"Wrote {out} ({summary['bytes']} bytes).")


@click.command("reprocess")
@json_option
@click.pass_context
def reprocess(ctx: click.Context, as_json: bool) -> None:
    """Finish content left unhashed or unmatched by a crash (queued on PostgreSQL)."""
    from takedown.jobs.reprocess import reprocess as run

    result = run(_app(ctx))
    if as_json:
        print_json(result)
        return
    console.print(
        f"Pending {result['pending']}, unmatched {result['unmatched']}: "
        + (
            f"{result['queued']} job(s) queued."
            if "queued" in result
            else f"hashed {result['hashed']}, matched {result['matched']}."
        )
    )


@click.group("db")
def db() -> None:
    """The database schema: status and upgrade."""


def _raw_engine(ctx: click.Context) -> Any:
    from takedown.store.db import make_engine

    return make_engine(ctx.find_root().obj.settings.resolved_database_url)


@db.command("upgrade")
@json_option
@click.pass_context
def db_upgrade(ctx: click.Context, as_json: bool) -> None:
    """Bring the schema (and the job queue's, on PostgreSQL) to this version; safe to repeat."""
    from takedown.store.db import migrate, schema_state

    engine = _raw_engine(ctx)
    try:
        before = schema_state(engine)["current"]
        migrate(engine)
        after = schema_state(engine)
    finally:
        engine.dispose()
    if as_json:
        print_json({"before": before, "after": after["current"], "up_to_date": True})
    else:
        console.print(f"Schema at {', '.join(after['current'])} (was {', '.join(before) or '-'}).")


@db.command("status")
@json_option
@click.pass_context
def db_status(ctx: click.Context, as_json: bool) -> None:
    """Whether the schema is at this version's revisions (exit 1 if not)."""
    from takedown.store.db import schema_state

    engine = _raw_engine(ctx)
    try:
        state = schema_state(engine)
    finally:
        engine.dispose()
    if as_json:
        print_json(state)
    else:
        console.print(
            f"Schema at {', '.join(state['current']) or '(none)'}; "
            f"this version needs {', '.join(state['expected'])}."
        )
    if not state["up_to_date"]:
        raise fail("the schema is behind: run `takedown db upgrade`")


COMMANDS = (jobs, reprocess, db)
