from __future__ import annotations

import asyncio
import csv
import email
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from takedown.app import App
from takedown.plugins import referral_channels
from takedown.referrals.models import Referral, ReferralDelivery
from takedown.referrals.outbox import queue, send_due
from takedown.referrals.routing import draft

from .conftest import Receiver, add_sighting, free_port, make_app, platforms_file


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, loop=asyncio.new_event_loop())
    controller.start()
    yield inbox, port
    controller.stop()
    controller.loop.close()


def _app(database_url: str, tmp_path: Path, webhook: str | None, **extra: Any) -> App:
    return make_app(
        database_url, tmp_path, platforms_file=platforms_file(tmp_path / "p.json", webhook), **extra
    )


def _deliveries(app: App) -> list[ReferralDelivery]:
    with app.db.session() as session:
        return list(session.scalars(select(ReferralDelivery).order_by(ReferralDelivery.id)))


def _states(app: App) -> list[str]:
    with app.db.session() as session:
        return [r.state for r in session.scalars(select(Referral).order_by(Referral.id))]


def test_builtin_channels_register_through_the_plugin_hook() -> None:
    assert {"webhook", "email", "file"} <= set(referral_channels())


def test_webhook_delivery_is_signed_schema_shaped_and_idempotent(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    app = _app(database_url, tmp_path, receiver.url, referral_callback_url="https://td.example/cb")
    try:
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0", labels={"group": "g1"})
        draft(app, kind="removal_order", basis="TCO Art. 3")
        assert queue(app) == 1 and queue(app) == 0
        report = send_due(app)
        assert len(report.sent) == 1 and not report.failed
        assert receiver.bad_signatures == 0 and len(receiver.posts) == 1
        body = receiver.posts[0]["body"]
        assert body["schema"] == "takedown.referral/1" and body["kind"] == "removal_order"
        assert body["basis"] == "TCO Art. 3" and body["callback_url"] == "https://td.example/cb"
        assert body["deadline"] is not None
        assert body["items"][0]["labels"] == ["group:g1"] and len(body["items"][0]["sha256"]) == 64
        assert receiver.posts[0]["key"] == _deliveries(app)[0].delivery_key
        # webhook acceptance is the authenticated receipt of a removal order
        assert _states(app) == ["received"]
        assert send_due(app).sent == []  # nothing twice
    finally:
        app.close()


def test_webhook_answering_500_leaves_the_referral_pending_with_its_error(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.mode = "error"
    app = _app(database_url, tmp_path, receiver.url, referral_backoff=0.001)
    try:
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0")
        draft(app)
        queue(app)
        report = send_due(app)
        assert report.failed and "HTTP 500" in report.failed[0]["error"]
        (d,) = _deliveries(app)
        assert (d.state, d.attempts, d.last_error) == ("pending", 1, "webhook answered HTTP 500")
        assert _states(app) == ["drafted"]
        receiver.mode = "ok"
        import time

        time.sleep(0.01)  # past the (tiny) backoff
        assert len(send_due(app).sent) == 1
        (d,) = _deliveries(app)
        assert (d.state, d.attempts, d.last_error) == ("sent", 2, None)
        assert _states(app) == ["sent"]
        assert {p["key"] for p in receiver.posts} == {d.delivery_key}
    finally:
        app.close()


def test_hanging_webhook_times_out_and_backs_off(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.mode = "hang"
    app = _app(database_url, tmp_path, receiver.url, referral_timeout=0.3, referral_backoff=600)
    try:
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0")
        draft(app)
        queue(app)
        report = send_due(app)
        assert "timed out" in report.failed[0]["error"]
        (d,) = _deliveries(app)
        assert d.state == "pending" and d.next_attempt_at > d.claimed_at  # type: ignore[operator]
        assert send_due(app).failed == []  # not due yet: backoff
        assert _states(app) == ["drafted"]
    finally:
        app.close()


def test_email_is_delivered_to_a_real_smtp_server(
    database_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    app = _app(database_url, tmp_path, None, smtp_host="127.0.0.1", smtp_port=port)
    try:
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0", labels={"group": "g1"})
        (referral,) = draft(app, basis="ToS 4.2").drafted
        queue(app)
        assert len(send_due(app).sent) == 1
        (env,) = inbox.messages
        assert env.rcpt_tos == ["abuse@fakevid0.test"]
        msg = email.message_from_bytes(env.content)
        (d,) = _deliveries(app)
        assert msg["Message-ID"] == f"<{d.delivery_key}@takedown.invalid>"
        assert referral.reference in msg["Subject"]
        text = msg.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index,union-attr]
        assert "https://fakevid0.test/v/1" in text and "group:g1" in text and "ToS 4.2" in text
        assert _states(app) == ["sent"]
    finally:
        app.close()


def test_smtp_server_down_keeps_the_referral_pending(database_url: str, tmp_path: Path) -> None:
    app = _app(database_url, tmp_path, None, smtp_host="127.0.0.1", smtp_port=free_port())
    try:
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0")
        draft(app)
        queue(app)
        report = send_due(app)
        assert report.failed and "SMTP 127.0.0.1" in report.failed[0]["error"]
        (d,) = _deliveries(app)
        assert d.state == "pending" and d.attempts == 1 and d.last_error
        assert _states(app) == ["drafted"]
    finally:
        app.close()


def test_file_package_has_csv_and_inert_html_without_media(
    database_url: str, tmp_path: Path
) -> None:
    app = _app(database_url, tmp_path, None)
    try:
        add_sighting(app, "https://fakevid0.test/v/=cmd<script>alert(1)</script>", "fakevid0")
        (referral,) = draft(app).drafted
        queue(app, channel="file")
        assert len(send_due(app).sent) == 1
        folder = tmp_path / "data" / "outbox" / referral.reference
        rows = list(csv.reader(io.StringIO((folder / "referral.csv").read_text())))
        assert rows[0][:3] == ["reference", "item_id", "url"]
        html = (folder / "summary.html").read_text()
        assert "<script>" not in html and "&lt;script&gt;" in html
        assert "<img" not in html and "<a " not in html
        assert sorted(p.name for p in folder.iterdir()) == [
            "referral.csv",
            "referral.json",
            "summary.html",
        ]
    finally:
        app.close()


def test_webhook_body_follows_the_published_schema(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    import json
    from importlib.resources import files

    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(
        files("takedown.referrals").joinpath("schemas/referral.schema.json").read_text()
    )
    app = _app(database_url, tmp_path, receiver.url)
    try:
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0", labels={"g": "x"})
        add_sighting(app, "https://fakevid1.test/v/2", "fakevid1")
        draft(app, basis="ToS")
        queue(app)
        send_due(app)
        assert len(receiver.posts) == 2
        for post in receiver.posts:
            jsonschema.validate(post["body"], schema)
            assert post["body"]["deadline"] is None
    finally:
        app.close()
