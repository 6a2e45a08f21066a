"""Registers the built-in importers through the same hook third-party plugins use."""

from __future__ import annotations

from takedown.hookspecs import hookimpl
from takedown.intake.base import BUILTIN_IMPORTERS, Importer


@hookimpl
def takedown_importers() -> list[Importer]:
    return list(BUILTIN_IMPORTERS.values())
