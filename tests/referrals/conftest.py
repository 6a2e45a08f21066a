"""Fixtures of the referrals tests: an app with fake platforms, a real webhook receiver and a
real SMTP server on 127.0.0.1, and hand-built sightings."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from takedown.app import App
from takedown.config import SecretStr, Settings
from takedown.referrals.signing import sign, valid
from takedown.store.models import Bank, BankEntry, Content, Match, Sighting

SECRET = "s3cret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receiver:
    """A webhook endpoint: verifies signatures, dedupes by Idempotency-Key."""

    mode: str = "ok"  # ok | error | hang
    delay: float = 0.0
    posts: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def keys(self) -> set[str]:
        return {p["key"] for p in self.posts}


def start_receiver(receiver: Receiver) -> Receiver:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            stamp = self.headers.get("X-Takedown-Timestamp", "")
            if not valid(SECRET, stamp, body, self.headers.get("X-Takedown-Signature", "")):
                receiver.bad_signatures += 1
            if receiver.mode == "hang":
                receiver.release.wait(10)
            if receiver.delay:
                receiver.release.wait(receiver.delay)
            if receiver.mode == "error":
                self.send_response(500)
                self.end_headers()
                return
            post = {"key": self.headers.get("Idempotency-Key"), "body": json.loads(body)}
            receiver.posts.append(post)
            if receiver.log is not None:
                with receiver.log.open("a") as fh:
                    fh.write(json.dumps({"key": post["key"]}) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = start_receiver(Receiver())
    yield r
    r.release.set()
    assert r.server is not None
    r.server.shutdown()
    r.server.server_close()


def platforms_file(path: Path, webhook: str | None, count: int = 3) -> Path:
    items = []
    for n in range(count):
        items.append(
            {
                "key": f"fakevid{n}",
                "name": f"Fake Video {n}",
                "kind": "video",
                "domains": [f"fakevid{n}.test"],
                "referral": {"api": webhook, "email": f"abuse@fakevid{n}.test"},
            }
        )
    path.write_text(json.dumps({"platforms": items}))
    return path


def make_app(database_url: str, tmp_path: Path, **extra: Any) -> App:
    settings = Settings(
        data=tmp_path / "data",
        database_url=database_url,
        platforms_file=extra.pop("platforms_file", None),
        webhook_secrets={f"fakevid{n}": SecretStr(SECRET) for n in range(40)},
        referral_timeout=extra.pop("referral_timeout", 5.0),
        **extra,
    )
    return App(settings)


def add_sighting(
    app: App,
    url: str,
    platform: str,
    *,
    domain: str | None = None,
    language: str | None = "en",
    labels: dict[str, Any] | None = None,
    removed_at: datetime | None = None,
) -> int:
    with app.db.session() as session:
        digest = hashlib.sha256(url.encode()).hexdigest()
        content = Content(
            sha256=digest, md5=digest[:32], size=1, kind="image", media_type="image/png"
        )
        session.add(content)
        session.flush()
        sighting = Sighting(
            natural_key=hashlib.sha256(b"s" + url.encode()).hexdigest(),
            url=url,
            canonical_url=url,
            host=domain or url.split("/")[2],
            registrable_domain=domain or url.split("/")[2],
            platform_key=platform,
            content_id=content.id,
            language=language,
            removed_at=removed_at,
        )
        session.add(sighting)
        session.flush()
        if labels:
            bank = Bank(name=f"bank-{digest[:8]}", labels=None)
            session.add(bank)
            session.flush()
            entry = BankEntry(bank_id=bank.id, signal_type="sha256", value=digest, labels=labels)
            session.add(entry)
            session.flush()
            session.add(
                Match(
                    key=f"c{content.id}:sha256:e{entry.id}",
                    content_id=content.id,
                    signal_type="sha256",
                    bank_entry_id=entry.id,
                    distance=0,
                )
            )
        return sighting.id


def signed_headers(body: bytes, stamp: str | None = None, secret: str = SECRET) -> dict[str, str]:
    import time

    stamp = stamp or str(int(time.time()))
    return {"X-Takedown-Timestamp": stamp, "X-Takedown-Signature": sign(secret, stamp, body)}
