"""Every extension point of Takedown, in one place.

Built-in signal types and importers register through these same hooks as third-party
plugins (installed packages exposing a ``takedown`` entry point).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from takedown.intake.base import Importer
    from takedown.referrals.channels.base import Channel
    from takedown.signals.base import SignalType

hookspec = pluggy.HookspecMarker("takedown")
hookimpl = pluggy.HookimplMarker("takedown")


@hookspec
def takedown_signal_types() -> list[type[SignalType]]:  # type: ignore[empty-body]
    """Signal types this plugin provides."""


@hookspec
def takedown_importers() -> list[Importer]:  # type: ignore[empty-body]
    """Importers (source formats) this plugin provides."""


@hookspec
def takedown_referral_channels() -> list[Channel]:  # type: ignore[empty-body]
    """Referral channels (email, webhook, file package, ...) this plugin provides."""
