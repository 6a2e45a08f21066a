"""Email over SMTP: a plain-text referral with the JSON payload attached."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime

from takedown.app import App
from takedown.referrals.channels.base import DeliveryError, Envelope


def message(app: App, envelope: Envelope) -> EmailMessage:
    msg = EmailMessage()
    what = "Removal order" if envelope.kind == "removal_order" else "Referral"
    msg["Subject"] = f"[{envelope.reference}] {what}: {len(envelope.items)} item(s)"
    msg["From"] = app.settings.smtp_sender
    msg["To"] = str(envelope.contact["email"])
    msg["Date"] = format_datetime(envelope.issued_at)
    # The same Message-ID on every retry: receivers (and their MTAs) can drop duplicates.
    msg["Message-ID"] = f"<{envelope.delivery_key}@takedown.invalid>"
    msg["Idempotency-Key"] = envelope.delivery_key
    msg["X-Takedown-Reference"] = envelope.reference
    lines = [
        f"{what} {envelope.reference}",
        f"Issued: {envelope.issued_at.isoformat()}",
    ]
    if envelope.deadline is not None:
        lines.append(f"Deadline: {envelope.deadline.isoformat()}")
    elif envelope.kind == "removal_order":
        lines.append("Deadline: one hour from your receipt of this order (TCO Regulation Art. 3)")
    lines += [f"Basis: {envelope.basis or '-'}", "", "Items:"]
    for item in envelope.items:
        labels = ", ".join(item.get("labels") or [])
        lines.append(f"- [{item['item_id']}] {item['canonical_url'] or item['url']}")
        lines.append(f"  sha256: {item.get('sha256') or '-'}  labels: {labels or '-'}")
    lines += ["", f"Please answer quoting {envelope.reference}."]
    msg.set_content("\n".join(lines) + "\n")
    msg.add_attachment(
        envelope.body(), maintype="application", subtype="json", filename="referral.json"
    )
    return msg


class EmailChannel:
    name = "email"

    def unavailable(self, app: App, envelope: Envelope) -> str | None:
        if not envelope.contact.get("email"):
            return "no email address for the addressee"
        if not app.settings.smtp_host:
            return "no SMTP server configured (TAKEDOWN_SMTP_HOST)"
        return None

    def deliver(self, app: App, envelope: Envelope) -> str:
        problem = self.unavailable(app, envelope)
        if problem:
            raise DeliveryError(problem)
        s = app.settings
        try:
            with smtplib.SMTP(str(s.smtp_host), s.smtp_port, timeout=s.referral_timeout) as smtp:
                refused = smtp.send_message(message(app, envelope))
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {s.smtp_host}:{s.smtp_port}: {exc}") from exc
        if refused:
            raise DeliveryError(f"SMTP refused recipients: {sorted(refused)}")
        return f"SMTP {s.smtp_host}:{s.smtp_port}"
