"""Verification and referral sending as jobs run by real ``takedown worker`` processes on
PostgreSQL: the results equal the in-process ones, and a duplicated, retried or crashed send
job never sends a referral twice."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from subprocess import Popen

import pytest
from sqlalchemy import select, text

from takedown.app import App
from takedown.config import SecretStr, Settings
from takedown.jobs.results import wait_jobs
from takedown.referrals.models import Referral, ReferralDelivery
from takedown.referrals.outbox import queue
from takedown.referrals.routing import draft
from tests.jobs.conftest import TAKEDOWN, takedown
from tests.referrals.conftest import SECRET, Receiver, add_sighting, platforms_file, start_receiver


class _Load:
    """Requests the site serves at once (peak), across every client."""

    lock = threading.Lock()
    active = 0
    peak = 0


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        with _Load.lock:
            _Load.active += 1
            _Load.peak = max(_Load.peak, _Load.active)
        threading.Event().wait(0.05)  # slow enough for requests of several workers to overlap
        with _Load.lock:
            _Load.active -= 1
        status = 404 if "gone" in self.path else 200
        body = f"<html>page {self.path}</html>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def site() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _list(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["url,seen_at,reporter,language"]
    for i in range(count):
        state = "gone" if i % 3 == 0 else "live"
        rows.append(f"http://video.test/watch/{state}{i},2026-04-26T10:00:00Z,ana,en")
    (folder / "list.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder / "list.csv"


def _in_process(tmp: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAKEDOWN_DATA": str(tmp / "sqlite-data"),
        "TAKEDOWN_VERIFY_HOST_MAP": f"*.test=127.0.0.1:{port}",
        "TAKEDOWN_VERIFY_VANTAGE": "lab",
        "COLUMNS": "200",
    }
    env.pop("TAKEDOWN_DATABASE_URL", None)
    env.pop("TAKEDOWN_JOBS", None)
    done = subprocess.run(
        [TAKEDOWN, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done


def _stable(report: dict[str, object]) -> dict[str, object]:
    """A verify report without what differs run to run (the reason text carries timings)."""
    checks = report["checks"]
    assert isinstance(checks, list)
    return {
        "checked": report["checked"],
        "outcomes": report["outcomes"],
        "checks": [(c["sighting"], c["url"], c["outcome"], c["http_status"]) for c in checks],
    }


def test_verification_runs_as_jobs_with_shared_politeness_and_equals_in_process(
    queue_app: App, tmp_path: Path, site: int, start_worker: Callable[..., Popen[str]]
) -> None:
    source = _list(tmp_path / "in", 205)  # three chunks of at most 100 sightings
    env = {"TAKEDOWN_VERIFY_HOST_MAP": f"*.test=127.0.0.1:{site}", "TAKEDOWN_VERIFY_VANTAGE": "lab"}
    _in_process(tmp_path, site, "ingest", str(source), "--json")
    expected = json.loads(_in_process(tmp_path, site, "verify", "--json").stdout)
    assert expected["outcomes"] == {"removed": 69, "live": 136}

    _Load.peak = 0
    takedown(queue_app, "ingest", str(source), "--json")
    queued = json.loads(takedown(queue_app, "verify", "--json", **env).stdout)
    assert len(queued["jobs"]) == 3 and set(queued) == {"jobs"}
    with queue_app.db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM verify_check")) == 0

    start_worker(queue_app, "--concurrency", "2", **env)
    start_worker(queue_app, **env)
    outcomes = wait_jobs(queue_app.db.engine, queued["jobs"], timeout=600)
    assert [o.status for o in outcomes] == ["succeeded"] * 3
    checked = sorted(
        (row for o in outcomes for row in o.result["checks"]), key=lambda r: r["sighting"]
    )
    assert _stable({**expected, "checks": checked}) == _stable(expected)
    with queue_app.db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM verify_check")) == 205
        assert conn.scalar(text("SELECT count(*) FROM host_lease")) == 0  # all slots given back
    # three jobs at once in two workers, yet never more than the host's 2 slots
    assert 1 <= _Load.peak <= 2

    # --wait: the same report as a second in-process run (the removed are not checked again)
    waited = json.loads(takedown(queue_app, "verify", "--wait", "--json", **env).stdout)
    second = json.loads(_in_process(tmp_path, site, "verify", "--json").stdout)
    assert second["outcomes"] == {"live": 136}
    assert _stable(waited) == _stable(second)
    shown = takedown(queue_app, "verify", "--wait", **env).stdout
    assert "checked 136: live 136" in shown


def _send_app(postgres_url: str, tmp_path: Path, webhook: str) -> App:
    from tests.conftest import _truncate

    _truncate(postgres_url)
    settings = Settings(
        data=tmp_path / "data",
        database_url=postgres_url,
        jobs="queue",
        platforms_file=platforms_file(tmp_path / "platforms.json", webhook),
        webhook_secrets={f"fakevid{n}": SecretStr(SECRET) for n in range(3)},
    )
    return App(settings)


def _send_env(app: App) -> dict[str, str]:
    secrets = {f"fakevid{n}": SECRET for n in range(3)}
    return {
        "TAKEDOWN_PLATFORMS_FILE": str(app.settings.platforms_file),
        "TAKEDOWN_WEBHOOK_SECRETS": json.dumps(secrets),
    }


@pytest.fixture
def hook() -> Iterator[Receiver]:
    r = start_receiver(Receiver())
    yield r
    assert r.server is not None
    r.server.shutdown()
    r.server.server_close()


def test_send_jobs_duplicated_retried_or_crashed_send_each_referral_once(
    postgres_url: str, tmp_path: Path, hook: Receiver, start_worker: Callable[..., Popen[str]]
) -> None:
    app = _send_app(postgres_url, tmp_path, hook.url)
    try:
        add_sighting(app, "https://fakevid0.test/v/1", "fakevid0")
        add_sighting(app, "https://fakevid1.test/v/2", "fakevid1")
        drafted = draft(app).drafted
        assert len(drafted) == 2 and queue(app) == 2
        first, crashed = sorted(r.reference for r in drafted)
        # the second as a worker killed after claiming it (and perhaps after delivering) left it
        with app.db.engine.begin() as conn:
            conn.execute(
                ReferralDelivery.__table__.update()
                .where(
                    ReferralDelivery.referral_id
                    == select(Referral.id).where(Referral.reference == crashed).scalar_subquery()
                )
                .values(state="sending", attempts=1, claimed_at=datetime.now(UTC))
            )
        jobs = [int(app.jobs.submit("referrals.send")) for _ in range(3)]  # duplicates
        env = _send_env(app)
        start_worker(app, **env)
        start_worker(app, **env)
        outcomes = wait_jobs(app.db.engine, jobs, timeout=600)
        assert [o.status for o in outcomes] == ["succeeded"] * 3
        sent = [s["reference"] for o in outcomes for s in o.result["sent"]]
        assert sent == [first]  # one job sent it; the others found nothing due
        assert [p["body"]["reference"] for p in hook.posts] == [first]
        assert hook.bad_signatures == 0

        # a later (retried) job finds the sent one sent and the crashed one still leased
        again = int(app.jobs.submit("referrals.send"))
        (outcome,) = wait_jobs(app.db.engine, [again], timeout=600)
        assert outcome.result == {"sent": [], "failed": []}
        assert len(hook.posts) == 1
        with app.db.session() as session:
            states = dict(
                session.execute(
                    select(Referral.reference, ReferralDelivery.state).join(
                        ReferralDelivery, ReferralDelivery.referral_id == Referral.id
                    )
                ).all()
            )
        assert states == {first: "sent", crashed: "sending"}

        # the CLI: queued job id without --wait; with --wait what it sent, as in-process
        out = json.loads(takedown(app, "referrals", "send", "--json", **env).stdout)
        assert out["queued"] == 0 and len(out["jobs"]) == 1
        add_sighting(app, "https://fakevid2.test/v/3", "fakevid2")
        waited = json.loads(takedown(app, "refer", "--send", "--wait", "--json", **env).stdout)
        (new,) = waited["drafted"]
        assert waited["queued"] == 1 and waited["failed"] == []
        assert [(s["reference"], s["channel"]) for s in waited["sent"]] == [
            (new["reference"], "webhook")
        ]
        assert sorted(p["body"]["reference"] for p in hook.posts) == sorted(
            [first, new["reference"]]
        )
    finally:
        app.close()
