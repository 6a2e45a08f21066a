"""Registers the built-in referral channels through the same hook third-party plugins use."""

from __future__ import annotations

from takedown.hookspecs import hookimpl
from takedown.referrals.channels.base import Channel
from takedown.referrals.channels.email import EmailChannel
from takedown.referrals.channels.files import FileChannel
from takedown.referrals.channels.webhook import WebhookChannel


@hookimpl
def takedown_referral_channels() -> list[Channel]:
    return [WebhookChannel(), EmailChannel(), FileChannel()]
