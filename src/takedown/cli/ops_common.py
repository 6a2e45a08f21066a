"""Shared pieces of the ops feature's commands (``takedown.cli.ops``, ``.holds``, ``.reports``):
the app, the acting user, one transaction per command, ISO times, JSON or human output."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from takedown.cli.output import fail, print_json
from takedown.ops.agencies import OpsError


def app_of(ctx: click.Context) -> Any:
    return ctx.find_root().obj.app


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def transaction(ctx: click.Context) -> Iterator[Session]:
    """One transaction, acting as the command-line user; ops errors become CLI errors."""
    from takedown.store.audit import acting_as

    app = app_of(ctx)
    try:
        with acting_as(actor()), app.db.session() as session:
            yield session
    except (OpsError, ValueError) as exc:
        raise fail(str(exc)) from exc


def parse_time(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise fail(f"{option}: not an ISO 8601 date or time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # dates and naive times are read as UTC
    return parsed.astimezone(UTC)


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    if as_json:
        print_json(data)
    else:
        human()
