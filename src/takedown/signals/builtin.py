"""Registers the built-in signal types through the same hook third-party plugins use."""

from __future__ import annotations

from takedown.hookspecs import hookimpl
from takedown.robust.signal import KeypointSignal
from takedown.robust.video_signal import VideoKeyframeSignal
from takedown.signals.base import SignalType
from takedown.signals.exact import Md5Signal, Sha256Signal
from takedown.signals.pdq import PdqSignal
from takedown.signals.url import UrlSignal
from takedown.signals.video import VideoSignal
from takedown.text.encoder import configured_encoder_types
from takedown.text.signals import TEXT_SIGNAL_TYPES


@hookimpl
def takedown_signal_types() -> list[type[SignalType]]:
    return [
        Sha256Signal,
        Md5Signal,
        PdqSignal,
        VideoSignal,
        UrlSignal,
        KeypointSignal,
        VideoKeyframeSignal,
        *TEXT_SIGNAL_TYPES,
        *configured_encoder_types(),
    ]
