"""What a channel is given (an :class:`Envelope`) and what it must do (deliver it, once per key)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from takedown.app import App

SCHEMA = "takedown.referral/1"


class DeliveryError(Exception):
    """A delivery that did not happen (server down, refused, timed out); it will be retried."""


@dataclass(frozen=True)
class Envelope:
    """One referral as sent: everything a channel needs, nothing secret, no media."""

    reference: str
    kind: str  # "referral" | "removal_order"
    issued_at: datetime
    deadline: datetime | None
    basis: str | None
    addressee_kind: str
    addressee_key: str
    addressee_name: str
    contact: dict[str, Any]
    delivery_key: str
    callback_url: str | None
    items: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The webhook body (``docs/referral-webhook.schema.json``)."""
        return {
            "schema": SCHEMA,
            "reference": self.reference,
            "kind": self.kind,
            "issued_at": self.issued_at.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "basis": self.basis,
            "addressee": {
                "kind": self.addressee_kind,
                "key": self.addressee_key,
                "name": self.addressee_name,
            },
            "items": self.items,
            "callback_url": self.callback_url,
        }

    def body(self) -> bytes:
        """The payload as canonical JSON bytes (the same on every retry)."""
        return json.dumps(self.payload(), sort_keys=True, separators=(",", ":")).encode()


class Channel(Protocol):
    """A way to get a referral to its addressee. ``deliver`` must be safe to repeat with the
    same ``envelope.delivery_key`` (receivers can dedupe on it)."""

    name: str

    def unavailable(self, app: App, envelope: Envelope) -> str | None:
        """Why this channel cannot carry ``envelope`` (None when it can)."""

    def deliver(self, app: App, envelope: Envelope) -> str:
        """Deliver; returns a short receipt. Raises :class:`DeliveryError` on failure."""
