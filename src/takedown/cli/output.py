"""Output helpers: JSON for machines (``--json``), rich tables for people, errors to stderr."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

#: width of tables written to a pipe or file: wide enough that no cell wraps ("truthsoci/al")
PIPE_WIDTH = 1000


def _width(stream: Any) -> int | None:
    """The terminal's width (rich's default) on a terminal or when COLUMNS is set; otherwise
    :data:`PIPE_WIDTH`, so piped tables keep whole lines (rich would assume 80)."""
    if os.environ.get("COLUMNS"):
        return None
    try:
        return None if stream.isatty() else PIPE_WIDTH
    except (AttributeError, ValueError):
        return PIPE_WIDTH


class _LazyConsole:
    """A rich ``Console`` made on first use: importing rich costs a light command tens of
    milliseconds, and ``--json`` output never needs it. Attributes are the console's."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            stream = sys.stderr if self._stderr else sys.stdout
            self._console = Console(stderr=self._stderr, highlight=False, width=_width(stream))
        return self._console

    def print(self, *args: Any, **kwargs: Any) -> None:
        self.real.print(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> Console:  # rich's Live and Progress hold the console this way
        return self.real.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.real.__exit__(*exc)


console = cast("Console", _LazyConsole(stderr=False))
err_console = cast("Console", _LazyConsole(stderr=True))


def json_option(fn: F) -> F:
    """Adds ``--json`` to a command."""
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(fn)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n")


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for col in columns:
        out.add_column(col, overflow="fold")
    for row in rows:
        out.add_row(*["" if v is None else str(v) for v in row])
    console.print(out)


def fail(message: str) -> click.ClickException:
    """An error for stderr with a non-zero exit."""
    return click.ClickException(message)
