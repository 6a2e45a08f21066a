"""Commands of the ops feature."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
