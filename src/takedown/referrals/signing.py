"""HMAC-SHA256 signatures of webhook bodies: ``sha256=<hex of HMAC(secret, "<ts>.<body>")>``."""

from __future__ import annotations

import hashlib
import hmac

from takedown.app import App


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def valid(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature.strip())


def secret_for(app: App, key: str) -> str | None:
    """The shared webhook secret of an addressee (``TAKEDOWN_WEBHOOK_SECRETS``), if any."""
    value = app.settings.webhook_secrets.get(key)
    return value.get_secret_value() if value is not None else None
