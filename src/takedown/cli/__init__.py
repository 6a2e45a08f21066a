"""The ``takedown`` command line. Every command takes ``--json``; errors go to stderr."""

from __future__ import annotations

from pathlib import Path

import click

from takedown.app import App
from takedown.config import Settings


class Context:
    def __init__(self, data: Path | None) -> None:
        self.settings = Settings(data=data) if data is not None else Settings()
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App(self.settings)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TAKEDOWN_DATA",
    help="Data folder of the embedded default (env TAKEDOWN_DATA; default ./takedown-data).",
)
@click.version_option(package_name="takedown")
@click.pass_context
def main(ctx: click.Context, data: Path | None) -> None:
    """Takedown: find, match, refer and verify the removal of terrorist content online."""
    state = Context(data)
    ctx.obj = state
    ctx.call_on_close(state.close)


# Feature command modules: each exposes ``COMMANDS``, the click commands it adds to ``main``.
FEATURE_CLI_MODULES = (
    "takedown.cli.referrals",
    "takedown.cli.verify",
    "takedown.cli.infra",
    "takedown.cli.serve",
    "takedown.cli.text",
    "takedown.cli.ops",
    "takedown.cli.signals_cmd",
)


def _register() -> None:
    import importlib

    from takedown.cli import bank_files, demo, evidence, matching

    main.add_command(demo.demo)
    main.add_command(evidence.ingest)
    main.add_command(evidence.purge)
    main.add_command(evidence.legal_hold)
    main.add_command(evidence.store)
    main.add_command(evidence.platforms)
    main.add_command(matching.hash_cmd)
    main.add_command(matching.match_cmd)
    matching.bank.add_command(bank_files.bank_add)
    main.add_command(matching.bank)
    main.add_command(matching.sightings_cmd)
    for name in FEATURE_CLI_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            main.add_command(command)


_register()
