"""Killing the sender mid-batch and restarting it loses nothing and sends each referral to
the receiver under one idempotency key (at most the one in flight is posted again)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from takedown.referrals.models import Referral, ReferralDelivery
from takedown.referrals.routing import draft

from .conftest import SECRET, Receiver, add_sighting, make_app, platforms_file

COUNT = 30


def _run(env: dict[str, str], data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from takedown.cli import main; main()",
            "--data",
            str(data),
            "referrals",
            "send",
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sigkill_mid_batch_then_restart_neither_loses_nor_double_sends(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.delay = 0.15
    pfile = platforms_file(tmp_path / "p.json", receiver.url, count=COUNT)
    app = make_app(database_url, tmp_path, platforms_file=pfile)
    try:
        for n in range(COUNT):
            add_sighting(app, f"https://fakevid{n}.test/v/{n}", f"fakevid{n}")
        assert len(draft(app).drafted) == COUNT
    finally:
        app.close()
    env = {
        **os.environ,
        "TAKEDOWN_DATABASE_URL": database_url,
        "TAKEDOWN_PLATFORMS_FILE": str(pfile),
        "TAKEDOWN_WEBHOOK_SECRETS": json.dumps({f"fakevid{n}": SECRET for n in range(COUNT)}),
        "TAKEDOWN_REFERRAL_LEASE": "0",
    }
    first = _run(env, tmp_path / "data")
    deadline = time.monotonic() + 120
    while len(receiver.posts) < 5 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first.poll() is None, "the first sender finished before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.communicate()
    delivered_before = len(receiver.keys)
    assert 5 <= delivered_before < COUNT

    second = _run(env, tmp_path / "data")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["failed"] == []

    app = make_app(database_url, tmp_path, platforms_file=pfile)
    try:
        with app.db.session() as session:
            referrals = list(session.scalars(select(Referral)))
            deliveries = list(session.scalars(select(ReferralDelivery)))
        assert len(referrals) == COUNT and {r.state for r in referrals} == {"sent"}
        assert len(deliveries) == COUNT and {d.state for d in deliveries} == {"sent"}
        # none lost: every referral reached the receiver, under its own key
        assert receiver.keys == {d.delivery_key for d in deliveries}
        # none double-sent: at most the delivery in flight at the kill is posted again
        assert len(receiver.posts) - len(receiver.keys) <= 1
        assert receiver.bad_signatures == 0
    finally:
        app.close()
