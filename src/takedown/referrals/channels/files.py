"""File package for web forms filled by hand: CSV + a self-contained HTML summary.

Never embeds media: only URLs, hashes and labels. Every value is escaped (HTML) or neutralised
(CSV formula injection). Files are written atomically, so repeating a delivery is harmless.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from pathlib import Path

from takedown.app import App
from takedown.referrals.channels.base import DeliveryError, Envelope

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def outbox_dir(app: App) -> Path:
    return app.settings.referral_outbox or app.settings.data / "outbox"


def csv_text(envelope: Envelope) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "item_id", "url", "canonical_url", "sha256", "labels"])
    for item in envelope.items:
        writer.writerow(
            [
                _cell(envelope.reference),
                _cell(item["item_id"]),
                _cell(item["url"]),
                _cell(item["canonical_url"]),
                _cell(item.get("sha256")),
                _cell("; ".join(item.get("labels") or [])),
            ]
        )
    return out.getvalue()


def html_text(envelope: Envelope) -> str:
    e = html.escape
    what = "Removal order" if envelope.kind == "removal_order" else "Referral"
    rows = "\n".join(
        "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>".format(
            e(str(item["item_id"])),
            e(str(item["canonical_url"] or item["url"] or "")),
            e(str(item.get("sha256") or "")),
            e(", ".join(item.get("labels") or [])),
        )
        for item in envelope.items
    )
    deadline = envelope.deadline.isoformat() if envelope.deadline else "-"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{e(envelope.reference)}</title>
<style>body{{font-family:sans-serif}}td,th{{border:1px solid #999;padding:2px 6px}}
table{{border-collapse:collapse}}code{{word-break:break-all}}</style></head>
<body><h1>{e(what)} {e(envelope.reference)}</h1>
<p>Addressee: {e(envelope.addressee_name)} ({e(envelope.addressee_kind)})<br>
Issued: {e(envelope.issued_at.isoformat())}<br>Deadline: {e(deadline)}<br>
Basis: {e(envelope.basis or "-")}</p>
<p>URLs are shown as text, not links. No media is included.</p>
<table><tr><th>item</th><th>URL</th><th>SHA-256</th><th>labels</th></tr>
{rows}
</table></body></html>
"""


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class FileChannel:
    name = "file"

    def unavailable(self, app: App, envelope: Envelope) -> str | None:
        return None

    def deliver(self, app: App, envelope: Envelope) -> str:
        folder = outbox_dir(app) / envelope.reference
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _atomic(folder / "referral.csv", csv_text(envelope))
            _atomic(folder / "summary.html", html_text(envelope))
            payload = json.dumps(envelope.payload(), indent=2, ensure_ascii=False)
            _atomic(folder / "referral.json", payload)
        except OSError as exc:
            raise DeliveryError(f"cannot write package to {folder}: {exc}") from exc
        return str(folder)
