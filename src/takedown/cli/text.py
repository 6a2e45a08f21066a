"""Commands of the text feature."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
