"""JSON webhook over HTTP(S), signed with HMAC-SHA256 (see docs/referrals.md)."""

from __future__ import annotations

import time

import httpx

from takedown.app import App
from takedown.referrals.channels.base import DeliveryError, Envelope
from takedown.referrals.signing import secret_for, sign


class WebhookChannel:
    name = "webhook"

    def unavailable(self, app: App, envelope: Envelope) -> str | None:
        url = envelope.contact.get("webhook")
        if not url or not str(url).startswith(("http://", "https://")):
            return "no webhook URL (platform registry referral 'api' field)"
        if secret_for(app, envelope.addressee_key) is None:
            return f"no webhook secret for {envelope.addressee_key!r} (TAKEDOWN_WEBHOOK_SECRETS)"
        return None

    def deliver(self, app: App, envelope: Envelope) -> str:
        problem = self.unavailable(app, envelope)
        if problem:
            raise DeliveryError(problem)
        secret = secret_for(app, envelope.addressee_key)
        assert secret is not None
        body = envelope.body()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Takedown-Timestamp": stamp,
            "X-Takedown-Signature": sign(secret, stamp, body),
            "Idempotency-Key": envelope.delivery_key,
            "User-Agent": "takedown-referrals/1",
        }
        timeout = app.settings.referral_timeout
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                response = client.post(
                    str(envelope.contact["webhook"]), content=body, headers=headers
                )
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"webhook timed out after {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook failed: {type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook answered HTTP {response.status_code}")
        return f"HTTP {response.status_code}"
