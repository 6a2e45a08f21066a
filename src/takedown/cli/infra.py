"""Commands of the infra feature."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
