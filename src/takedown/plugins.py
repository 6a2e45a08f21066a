"""The plugin manager: built-ins and installed plugins, loaded on first use (never at import)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import pluggy

from takedown import hookspecs

if TYPE_CHECKING:
    from takedown.intake.base import Importer
    from takedown.referrals.channels.base import Channel
    from takedown.signals.base import SignalType

BUILTIN_PLUGINS = (
    "takedown.signals.builtin",
    "takedown.intake.builtin",
    "takedown.referrals.channels.builtin",
)


class PluginError(Exception):
    """Two plugins claim one name, or a plugin returns something unusable."""


@cache
def plugin_manager() -> pluggy.PluginManager:
    import importlib

    pm = pluggy.PluginManager("takedown")
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints("takedown")
    return pm


def signal_types() -> dict[str, SignalType]:
    """Every registered signal type, by name, instantiated."""
    found: dict[str, SignalType] = {}
    for batch in plugin_manager().hook.takedown_signal_types():
        for cls in batch:
            if cls.name in found:
                raise PluginError(f"signal type {cls.name!r} registered twice")
            found[cls.name] = cls()
    return found


def importers() -> dict[str, Importer]:
    """Every registered importer, by format name."""
    found: dict[str, Importer] = {}
    for batch in plugin_manager().hook.takedown_importers():
        for importer in batch:
            if importer.name in found:
                raise PluginError(f"importer {importer.name!r} registered twice")
            found[importer.name] = importer
    return found


def referral_channels() -> dict[str, Channel]:
    """Every registered referral channel, by name."""
    found: dict[str, Channel] = {}
    for batch in plugin_manager().hook.takedown_referral_channels():
        for channel in batch:
            if channel.name in found:
                raise PluginError(f"referral channel {channel.name!r} registered twice")
            found[channel.name] = channel
    return found
