"""Callbacks: a platform answers a referral over HTTP (mounted by the API).

The request carries ``X-Takedown-Timestamp`` (unix seconds) and ``X-Takedown-Signature``
(``sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` with the addressee's shared secret)
and a ``takedown.response/1`` JSON body (``docs/referral-response.schema.json``). Rejected with
a clear error and no state change: a missing or stale timestamp (outside
``TAKEDOWN_REFERRAL_SKEW`` seconds), a body that is not the schema, an unknown reference, a
caller whose platform is not the addressee, a bad signature, a signature already used (replay).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from takedown.app import App
from takedown.referrals.machine import RESPONSES, IllegalTransition
from takedown.referrals.models import ReferralNonce
from takedown.referrals.respond import BadItem, ItemAnswer, UnknownReference, find, record
from takedown.referrals.signing import secret_for, valid

RESPONSE_SCHEMA = "takedown.response/1"
MAX_BODY = 1024 * 1024
MAX_ITEMS = 10_000


class CallbackError(ValueError):
    """A callback refused; ``code`` is machine-readable, ``status`` the HTTP status to answer."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class CallbackResult:
    reference: str
    status: str
    from_state: str
    to_state: str
    duplicate: bool
    items: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "status": self.status,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "duplicate": self.duplicate,
            "items": self.items,
        }


def parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise CallbackError("bad_body", f"{what} must be an ISO 8601 time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CallbackError("bad_body", f"{what}: not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise CallbackError("bad_body", f"{what} must carry a time zone")
    return parsed.astimezone(UTC)


def _body(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY:
        raise CallbackError("too_large", "callback body over 1 MiB", 413)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CallbackError("bad_body", f"callback body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CallbackError("bad_body", "callback body must be a JSON object")
    if data.get("schema") != RESPONSE_SCHEMA:
        raise CallbackError("bad_body", f"schema must be {RESPONSE_SCHEMA!r}")
    if not isinstance(data.get("reference"), str) or not data["reference"]:
        raise CallbackError("bad_body", "reference is missing")
    if data.get("status") not in RESPONSES:
        raise CallbackError("bad_body", f"status must be one of {', '.join(RESPONSES)}")
    reason = data.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 10_000):
        raise CallbackError("bad_body", "reason must be a string (at most 10,000 characters)")
    items = data.get("items") or []
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise CallbackError("bad_body", f"items must be a list of at most {MAX_ITEMS}")
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("item_id"), str | int):
            raise CallbackError("bad_body", "every item needs an item_id")
        if not isinstance(item.get("status"), str):
            raise CallbackError("bad_body", "every item needs a status")
    return data


def handle_callback(app: App, raw_body: bytes, headers: Mapping[str, str]) -> CallbackResult:
    """Verifies and applies one callback (one transaction). Raises :class:`CallbackError`."""
    lower = {k.lower(): v for k, v in headers.items()}
    stamp = lower.get("x-takedown-timestamp", "")
    signature = lower.get("x-takedown-signature", "")
    if not stamp.isdigit() or len(stamp) > 12:
        raise CallbackError("bad_timestamp", "X-Takedown-Timestamp must be unix seconds", 401)
    skew = abs(time.time() - int(stamp))
    if skew > app.settings.referral_skew:
        raise CallbackError(
            "stale",
            f"timestamp is {skew:.0f} s away from now (window {app.settings.referral_skew:g} s)",
            401,
        )
    if not signature.startswith("sha256=") or len(signature) != 71:
        raise CallbackError("bad_signature", "X-Takedown-Signature must be sha256=<64 hex>", 401)
    data = _body(raw_body)
    at = parse_time(data.get("at"), "at") if data.get("at") is not None else datetime.now(UTC)
    answers = [
        ItemAnswer(
            str(i["item_id"]), i["status"], parse_time(i["at"], "item at") if i.get("at") else at
        )
        for i in data.get("items") or []
    ]
    try:
        with app.db.session() as session:
            try:
                referral = find(session, data["reference"])
            except UnknownReference as exc:
                raise CallbackError("unknown_reference", str(exc), 404) from exc
            caller = lower.get("x-takedown-platform")
            if caller and caller != referral.addressee_key:
                raise CallbackError(
                    "unknown_reference", f"unknown reference {referral.reference!r}", 404
                )
            secret = secret_for(app, referral.addressee_key)
            if secret is None:
                raise CallbackError(
                    "no_secret", f"no callback secret for {referral.addressee_key!r}", 401
                )
            if not valid(secret, stamp, raw_body, signature):
                raise CallbackError("bad_signature", "signature does not match the body", 401)
            # signatures older than the window cannot be replayed (stale): forget them
            horizon = datetime.now(UTC) - timedelta(seconds=2 * app.settings.referral_skew)
            session.execute(delete(ReferralNonce).where(ReferralNonce.received_at < horizon))
            session.add(ReferralNonce(signature=signature.lower()))
            try:
                session.flush()
            except IntegrityError as exc:
                raise CallbackError(
                    "replay", "this signature was already used (replay)", 409
                ) from exc
            try:
                response = record(
                    session,
                    referral.reference,
                    data["status"],
                    at,
                    reason=data.get("reason"),
                    source="callback",
                    items=answers,
                )
            except IllegalTransition as exc:
                raise CallbackError("illegal_transition", str(exc), 409) from exc
            except BadItem as exc:
                raise CallbackError("bad_item", str(exc), 400) from exc
    except IntegrityError as exc:  # a concurrent duplicate of the same signature
        raise CallbackError("replay", "this signature was already used (replay)", 409) from exc
    o = response.outcome
    return CallbackResult(
        o.reference, o.event, o.from_state, o.to_state, o.duplicate, response.items
    )
