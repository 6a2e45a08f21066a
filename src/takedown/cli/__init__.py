"""The ``takedown`` command line. Every command takes ``--json``; errors go to stderr.

Commands are loaded lazily: :data:`COMMANDS` maps each top-level command to the
``module:attribute`` that defines it and its one-line help, so ``takedown --help`` and a light
command import only what they use (no numba, OpenCV, SciPy, PyAV, stix2, wordllama... for
``--help``; ``tests/cli/test_startup.py`` checks it). Adding a command is one line here.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from takedown.app import App
    from takedown.config import Settings

#: name -> ("module:attribute", one-line help shown by ``takedown --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "agency": (
        "takedown.cli.ops:agency",
        "Agencies (tenants): each sees its own sightings and its operations' sightings.",
    ),
    "audit": ("takedown.cli.reports:audit", "The hash-chained audit log of every state change."),
    "bank": ("takedown.cli:_bank_group", "Banks of known material and allow-lists."),
    "complaint": (
        "takedown.cli.holds:complaint",
        "Complaints about removals (TCO Article 10): answer within two weeks; upheld reinstates.",
    ),
    "db": ("takedown.cli.jobs:db", "The database schema: status and upgrade."),
    "demo": (
        "takedown.cli.demo:demo",
        "Generate a synthetic action day and an outlet takedown, and run them end to end.",
    ),
    "export": (
        "takedown.cli.infra_export:export",
        "Export findings for threat-intelligence platforms (STIX 2.1, MISP).",
    ),
    "figures": (
        "takedown.cli.referrals:figures_cmd",
        "Removal rates and times of referred sightings, per platform, addressee or language.",
    ),
    "hash": ("takedown.cli.matching:hash_cmd", "Signals of files (nothing is stored)."),
    "hold": (
        "takedown.cli.holds:hold",
        'Deconfliction holds: "do not refer" on URLs, domains, signals or labels.',
    ),
    "imports": (
        "takedown.cli.evidence:imports",
        "Import runs: find the ones a killed process left running.",
    ),
    "infra": (
        "takedown.cli.infra:infra",
        "Infrastructure map: import resolution data, plan takedowns, watch for comebacks.",
    ),
    "ingest": (
        "takedown.cli.evidence:ingest",
        "Import item lists, URL lists, Telegram exports, WARC files or folders.",
    ),
    "jobs": (
        "takedown.cli.jobs:jobs",
        "Queued, running, stalled and failed jobs, with counts per task.",
    ),
    "key": (
        "takedown.cli.serve:key",
        "API keys: create, list, revoke, rotate (keys are stored hashed; shown once).",
    ),
    "legal-hold": (
        "takedown.cli.evidence:legal_hold",
        "Legal holds: suspend retention for content needed as evidence.",
    ),
    "match": (
        "takedown.cli.matching:match_cmd",
        "Known material and earlier copies of files, of one signal value or of a text.",
    ),
    "operation": (
        "takedown.cli.ops:operation",
        "Operations (action days): create, join, assign, board, close.",
    ),
    "platforms": ("takedown.cli.evidence:platforms", "The platform registry."),
    "purge": (
        "takedown.cli.evidence:purge",
        "Apply retention: delete content preserved past its period, unless on legal hold.",
    ),
    "refer": (
        "takedown.cli.referrals:refer_cmd",
        "Draft referrals (or removal orders) for sightings not yet referred, per addressee.",
    ),
    "referrals": (
        "takedown.cli.referrals:referrals_group",
        "List referrals and work the outbox.",
    ),
    "report": (
        "takedown.cli.reports:report",
        "Operation and transparency reports as HTML, PDF or JSON.",
    ),
    "reprocess": (
        "takedown.cli.jobs:reprocess",
        "Finish content left unhashed or unmatched by a crash (queued on PostgreSQL).",
    ),
    "respond": (
        "takedown.cli.referrals:respond_cmd",
        "Record an answer to a referral (e.g. an emailed one).",
    ),
    "serve": (
        "takedown.cli.serve:serve",
        "Run the HTTP API (/api/v1) and the web workspace (uvicorn).",
    ),
    "share": (
        "takedown.cli.access:share_cmd",
        "Share a sighting (its notes, operation, decisions, content, media) with another "
        "agency, or withdraw the share.",
    ),
    "signals": (
        "takedown.cli.signals_cmd:signals_group",
        "Stored signals: algorithm versions and re-hashing.",
    ),
    "sightings": (
        "takedown.cli.sightings:sightings_cmd",
        "Recent sightings with their status: known (bank, label, distance), copy, held or new.",
    ),
    "store": ("takedown.cli.evidence:store", "The evidence store itself."),
    "text": (
        "takedown.cli.text:text_group",
        "Text matching tools: normalisation, language, comparison (nothing is stored).",
    ),
    "user": ("takedown.cli.ops:user", "Users of the web workspace and their roles."),
    "verify": (
        "takedown.cli.verify:verify_cmd",
        "Check whether sighted URLs are still online and record the results.",
    ),
    "worker": (
        "takedown.cli.worker:worker",
        "Run queued jobs until stopped (SIGTERM/SIGINT finish the jobs in hand first).",
    ),
}


def _bank_group() -> click.Command:
    from takedown.cli import bank_files, matching

    if "add" not in matching.bank.commands:
        matching.bank.add_command(bank_files.bank_add)
    if "export" not in matching.bank.commands:
        matching.bank.add_command(bank_files.bank_export)
    return matching.bank


def load_command(target: str) -> click.Command:
    module_name, _, attr = target.partition(":")
    found = getattr(importlib.import_module(module_name), attr)
    command = found() if not isinstance(found, click.Command) else found
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (see :data:`COMMANDS`)."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(load_command(self.lazy[cmd_name][0]), cmd_name)
        return self.commands.get(cmd_name)

    def load_all(self) -> Mapping[str, click.Command]:
        """Every command imported (for the generated reference and tests)."""
        for name in self.lazy:
            self.get_command(click.Context(self), name)
        return self.commands

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        rows = []
        for name in names:
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                placeholder = click.Command(name, help=self.lazy[name][1])
                rows.append((name, placeholder.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class Context:
    """The command's state; settings and the app are built on first use (``--help`` of a
    group builds neither)."""

    def __init__(self, data: Path | None) -> None:
        self.data = data
        self._settings: Settings | None = None
        self._app: App | None = None

    @property
    def settings(self) -> Settings:
        """The settings; a bad value in the environment is a one-line error (exit 1) naming
        the variable, not a traceback."""
        if self._settings is None:
            from takedown.config import Settings, SettingsError

            data = self.data
            try:
                self._settings = Settings(data=data) if data is not None else Settings()
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def app(self) -> App:
        if self._app is None:
            from takedown.app import App

            self._app = App(self.settings)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def configure_logging(verbose: int) -> None:
    """Warnings only unless ``-v`` (INFO) or ``-vv`` (DEBUG), set before any library is imported:
    a library that calls ``logging.basicConfig(level=INFO)`` on import (wordllama does) then
    finds the root logger configured and changes nothing."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s:%(name)s:%(message)s", force=True)


class _Main(LazyGroup):
    """Turns a schema that is behind into a clear error (stderr, exit 1), not a traceback, and
    makes every command it loads act as someone (see :func:`_with_actor`)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _with_actor(command)
        return command

    def invoke(self, ctx: click.Context) -> object:
        from takedown.store.errors import SchemaError

        try:
            return super().invoke(ctx)
        except SchemaError as exc:
            raise click.ClickException(str(exc)) from exc


def _with_actor(command: click.Command) -> None:
    """Every command runs acting as someone: its ``--actor``/``--by`` when given, else
    ``cli:<login name>``, so no audit event a command causes lacks an actor."""
    import functools

    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_actor(sub)
        return
    if command.callback is None or getattr(command.callback, "_actor", False):
        return
    inner = command.callback

    @functools.wraps(inner)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from takedown.cli.ops_common import actor as cli_actor
        from takedown.store.audit import acting_as

        given = kwargs.get("actor") or kwargs.get("by")
        with acting_as(given if isinstance(given, str) and given else cli_actor()):
            return inner(*args, **kwargs)

    wrapped._actor = True  # type: ignore[attr-defined]
    command.callback = wrapped


@click.group(
    cls=_Main,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TAKEDOWN_DATA",
    help="Data folder of the embedded default (env TAKEDOWN_DATA; default ./takedown-data).",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log INFO (-v) or DEBUG (-vv) to stderr (default: warnings).",
)
@click.version_option(package_name="takedown")
@click.pass_context
def main(ctx: click.Context, data: Path | None, verbose: int) -> None:
    """Takedown: find, match, refer and verify the removal of terrorist content online."""
    configure_logging(verbose)
    state = Context(data)
    ctx.obj = state
    ctx.call_on_close(state.close)


#: Seconds a command runs with Python's cyclic garbage collector paused (see :func:`run`).
GC_PAUSE = 1.0
_gc_lock = threading.Lock()
_gc_paused = False


def run() -> None:
    """The ``takedown`` script: :data:`main`, with the cyclic garbage collector paused for its
    first :data:`GC_PAUSE` seconds.

    A command loads SQLAlchemy, the models and click: some 300,000 long-lived objects, which
    the collector scans over and over while they arrive, for nothing (they live as long as the
    process). That was a quarter to a third of a light command's CPU (paired runs,
    bench/startup.py). A light command ends before the pause does; a longer one (an import, a
    worker, the server) then has what it allocated so far frozen (left out of later
    collections) and the collector back as usual. Tests and other callers of :data:`main`
    keep their collector as it is."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True
    timer = threading.Timer(GC_PAUSE, _resume_gc)
    timer.daemon = True
    timer.start()
    try:
        main()
    finally:
        timer.cancel()
        _resume_gc()


def _resume_gc() -> None:
    global _gc_paused
    with _gc_lock:
        if _gc_paused:
            _gc_paused = False
            gc.freeze()
            gc.enable()


# Logging is configured at import too: the subcommand's module (and what it imports) is loaded
# before ``main`` runs, and ``-v`` then raises the level.
configure_logging(0)
