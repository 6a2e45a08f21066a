"""The second half of the demo: refer, answer, verify, catch re-uploads, figures.

Local fake platforms (:mod:`takedown.testkit.fakeplatforms`) play every platform the synthetic
action day found: they host its items at their URLs, take signed webhook referrals, remove
items after a delay of their own, ignore some referrals, show a "content removed" page or a
404/410, and let some items come back at a new URL on another platform. Their answers reach
Takedown's own HTTP API (``/api/v1/referrals/callback``) with a platform key each.

The synthetic platforms' host names reach the fake server ONLY through the demo's explicit
settings, written to ``DATA/demo-followup/``: a platform override file that points each
platform's referral webhook at the fake server, and ``verify_host_map`` (with plain HTTP and
loopback allowed) that sends each host name's checks to it. Nothing leaves the machine, and
outside the demo none of these settings is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from takedown.app import App
from takedown.config import SecretStr
from takedown.referrals.machine import KINDS
from takedown.store.models import Content, Sighting
from takedown.testkit.fakeplatforms import FakePlatforms
from takedown.urls import InvalidURL, canonicalize

REMOVED_TEXT = "This content is no longer available (synthetic demo)"
ORDER_BASIS = "Regulation (EU) 2021/784, Art. 3: removal order (synthetic demo)"
REFERRAL_BASIS = "Terms of service: terrorist content (synthetic demo)"
REUPLOAD_SHARE = 0.06
IGNORE_SHARE = 0.12
ORDER_PLATFORMS = 3

Say = Callable[[str], None]


@dataclass
class FollowUp:
    """What the follow-up did, for the demo's output."""

    platforms: int = 0
    referrals: int = 0
    orders: int = 0
    sent: int = 0
    failed: int = 0
    unrouted: int = 0
    callbacks: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    rechecks: dict[str, int] = field(default_factory=dict)
    reuploads_found: int = 0
    reuploads_referred: int = 0
    ignoring: list[str] = field(default_factory=list)  # fake platforms set to ignore referrals
    settings_dir: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- local servers ------------------------------------------------------------------------
class _FakeServer:
    """The fake platforms on 127.0.0.1, on an event loop of their own thread."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        self.fake = FakePlatforms(scenario)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="fake-platforms", daemon=True)
        self._ready = threading.Event()

    def _serve(self) -> None:
        from aiohttp import web

        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self.fake.app(), access_log=None, shutdown_timeout=0.5)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = int(runner.addresses[0][1])
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the fake platforms did not start")

    def busy(self) -> bool:
        return self.fake.pending > 0

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)


class _ApiServer:
    """Takedown's own API (uvicorn) on 127.0.0.1, where the platforms' callbacks arrive."""

    def __init__(self, app: App) -> None:
        import uvicorn

        from takedown.api.app import create_app

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(
            create_app(app), log_level="warning", lifespan="off", access_log=False
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(15)
        self._sock.close()


# -- the scenario -------------------------------------------------------------------------
@dataclass
class _Plan:
    scenario: dict[str, Any]
    overrides: list[dict[str, Any]]
    hosts: list[str]
    platforms: list[str]
    order_platforms: list[str]
    reuploads: list[tuple[int, str]]  # (sighting id, URL where it comes back)
    ignorers: list[str] = field(default_factory=list)


def _plan(app: App, operation: str, seed: int) -> _Plan:
    rng = random.Random(seed)
    with app.db.session() as session:
        rows = session.execute(
            select(Sighting.id, Sighting.canonical_url, Sighting.host, Sighting.platform_key)
            .where(Sighting.operation == operation, Sighting.canonical_url.is_not(None))
            .order_by(Sighting.id)
        ).all()
        with_content = {
            sid
            for (sid,) in session.execute(
                select(Sighting.id).where(
                    Sighting.operation == operation, Sighting.content_id.is_not(None)
                )
            )
        }
    platforms = sorted(
        {p for _i, _u, _h, p in rows if p and not p.startswith("unknown:") and p in app.registry}
    )
    behaviour: dict[str, dict[str, Any]] = {}
    for key in platforms:
        removed = rng.choice([404, 404, 410, "page"])
        conf: dict[str, Any] = {"delay": round(rng.uniform(0.2, 2.5), 2), "removed": removed}
        if removed == "page":
            conf["removed_text"] = REMOVED_TEXT
            conf["soft404"] = True  # answers 200 to every path: the checker must probe
        behaviour[key] = conf
    volume = Counter(key for _i, _u, _h, key in rows if key in behaviour)
    busiest = [key for key, _n in volume.most_common(ORDER_PLATFORMS)]
    ignorable = [key for key in platforms if key not in busiest]
    ignorers = rng.sample(ignorable, k=min(len(ignorable), int(len(platforms) * IGNORE_SHARE)))
    for key in ignorers:
        behaviour[key]["ignore"] = True
    hosts: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    reuploads: list[tuple[int, str]] = []
    for sid, url, host, owner in rows:
        if not host:
            continue
        conf = behaviour.get(owner or "", {"delay": 1.0, "removed": 404})
        hosts[host] = conf
        item: dict[str, Any] = {"url": url, "status": "live"}
        back = None
        if sid in with_content and owner not in ignorers and rng.random() < REUPLOAD_SHARE:
            elsewhere = rng.choice([p for p in platforms if p != owner] or platforms)
            domain = app.registry.get(elsewhere).domains[0]
            with contextlib.suppress(InvalidURL):
                back = canonicalize(f"https://{domain}/reupload/{sid}-{rng.randrange(10**9)}")
            if back is not None:
                item["reupload_url"] = back.url
                hosts.setdefault(back.host, behaviour[elsewhere])
                reuploads.append((sid, back.url))
        items.append(item)
    overrides = [
        {
            "key": key,
            "referral": {"api": "FAKE_WEBHOOK"},
            **(
                {"removed_patterns": [REMOVED_TEXT]}
                if behaviour[key].get("removed") == "page"
                else {}
            ),
        }
        for key in platforms
    ]
    scenario = {"secret": secrets.token_hex(16), "platforms": hosts, "items": items}
    return _Plan(
        scenario, overrides, sorted(hosts), platforms, busiest, reuploads, sorted(ignorers)
    )


def _demo_app(app: App, plan: _Plan, folder: Path, fake_port: int) -> tuple[App, Path]:
    """An App whose settings route the synthetic platforms to the fake server (and only it)."""
    webhook = f"http://127.0.0.1:{fake_port}/_fake/referral"
    overrides = [
        {**o, "referral": {"api": webhook, "email": None, "web_form": None}} for o in plan.overrides
    ]
    path = folder / "platform-overrides.json"
    path.write_text(json.dumps({"platforms": overrides}, indent=1), encoding="utf-8")
    host_map = ",".join(f"{h}=127.0.0.1:{fake_port}" for h in plan.hosts)
    secret = SecretStr(str(plan.scenario["secret"]))
    settings = app.settings.replace(
        platforms_file=path,
        webhook_secrets=dict.fromkeys(plan.platforms, secret),
        verify_host_map=host_map,
        verify_host_map_plain_http=True,
        verify_allow_loopback=True,
        verify_timeout=5.0,
        verify_concurrency=4,
        referral_timeout=5.0,
    )
    (folder / "settings.json").write_text(
        json.dumps(
            {
                "TAKEDOWN_PLATFORMS_FILE": str(path),
                "TAKEDOWN_VERIFY_HOST_MAP": host_map,
                "TAKEDOWN_VERIFY_HOST_MAP_PLAIN_HTTP": True,
                "TAKEDOWN_VERIFY_ALLOW_LOOPBACK": True,
                "note": "demo only: every synthetic platform host is routed to the local fake "
                "platforms server, which is stopped when the demo ends",
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    return App(settings), path


def _wait(fake: _FakeServer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    time.sleep(0.2)
    while fake.busy() and time.monotonic() < deadline:
        time.sleep(0.1)


def _send_all(app: App) -> tuple[int, int]:
    from takedown.referrals.outbox import queue, send_due

    queue(app)
    sent = failed = 0
    for _ in range(3):
        report = send_due(app)
        sent += len(report.sent)
        failed += len(report.failed)
        if not report.failed:
            break
    return sent, failed


def _draft(app: App, platforms: list[str], out: FollowUp, operation: str = "") -> None:
    """Drafts removal orders (busiest platforms) and referrals for the operation's pending
    sightings only (the outlet story's sightings are referred through its plans)."""
    from takedown.referrals.routing import draft

    with app.db.session() as session:
        only = set(session.scalars(select(Sighting.id).where(Sighting.operation == operation)))
    for key in platforms:
        routed = draft(app, platform=key, kind=KINDS[1], basis=ORDER_BASIS, actor="demo", only=only)
        out.orders += len(routed.drafted)
    routed = draft(app, kind=KINDS[0], basis=REFERRAL_BASIS, actor="demo", only=only)
    out.referrals += len(routed.drafted)
    out.unrouted += sum(len(v) for v in routed.unrouted.values())


def _ingest_reuploads(app: App, plan: _Plan, folder: Path, fake: _FakeServer) -> int:
    """An analyst finds the re-uploads the next morning: a JSON Lines file of them."""
    from takedown.evidence.ingest import Ingestor
    from takedown.matching.pipeline import process_new_content

    live = {
        url
        for (host, path), item in fake.fake.items.items()
        if item["status"] == "live"
        for url in [item["url"]]
        if host and path
    }
    with app.db.session() as session:  # a re-run's scenario serves the known re-uploads again
        known = set(
            session.scalars(
                select(Sighting.canonical_url).where(
                    Sighting.canonical_url.in_([url for _sid, url in plan.reuploads])
                )
            )
        )
    found = [(sid, url) for sid, url in plan.reuploads if url in live and url not in known]
    if not found:
        return 0
    media = folder / "reuploads"
    media.mkdir(exist_ok=True)
    lines = []
    with app.db.session() as session:
        # found an hour after the last removal: after it (a re-upload follows a removal) and
        # the same time again on a re-run with nothing newly removed, so nothing is added twice
        last = session.scalar(
            select(func.max(Sighting.removed_at)).where(Sighting.operation == OPERATION)
        )
        last = last or datetime.now(UTC)
        last = last if last.tzinfo is not None else last.replace(tzinfo=UTC)
        seen = (last + timedelta(hours=1)).isoformat()
        for sid, url in found:
            row = session.execute(
                select(Content.sha256, Content.kind, Sighting.language, Sighting.operation)
                .join(Sighting, Sighting.content_id == Content.id)
                .where(Sighting.id == sid)
            ).first()
            if row is None:
                continue
            name = f"{row.sha256[:16]}.bin"
            (media / name).write_bytes(app.blobs.read_verified(row.sha256))
            lines.append(
                json.dumps(
                    {
                        "url": url,
                        "file": f"reuploads/{name}",
                        "language": row.language,
                        "seen_at": seen,
                        "notes": "found again after removal (synthetic demo)",
                    }
                )
            )
    source = folder / "day-2-reuploads.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = Ingestor(app).ingest(source, "jsonl", reporter="demo analyst", operation=OPERATION)
    if report.new_content_ids:
        process_new_content(app, report.new_content_ids)
    return report.created


OPERATION = "Synthetic Action Day"


def run_followup(app: App, operation: str, seed: int, say: Say | None = None) -> FollowUp:
    """Refer every sighting of ``operation``, let the fake platforms act and answer, verify,
    find the re-uploads, refer them at once, verify again."""
    say = say or (lambda _text: None)
    started = time.monotonic()
    out = FollowUp()
    folder = app.settings.data / "demo-followup"
    folder.mkdir(parents=True, exist_ok=True)
    plan = _plan(app, operation, seed)
    out.platforms = len(plan.platforms)
    out.ignoring = plan.ignorers
    out.settings_dir = str(folder)
    fake = _FakeServer(plan.scenario)
    fake.start()
    try:
        demo_app, _overrides = _demo_app(app, plan, folder, fake.port)
        api = _ApiServer(demo_app)
        api.start()
        try:
            _connect(demo_app, plan, fake, api.port)
            say("draft referrals and removal orders")
            _draft(demo_app, plan.order_platforms, out, operation)
            say("send them (signed webhooks to the local fake platforms)")
            sent, failed = _send_all(demo_app)
            out.sent, out.failed = out.sent + sent, out.failed + failed
            say("platforms act and answer")
            _wait(fake, 15)
            say("verify: check every URL still online")
            out.checks = _verify(demo_app)
            say("day 2: re-uploads found, referred at once")
            out.reuploads_found = _ingest_reuploads(demo_app, plan, folder, fake)
            before = out.referrals + out.orders
            _draft(demo_app, [], out, operation)
            out.reuploads_referred = out.referrals + out.orders - before
            sent, failed = _send_all(demo_app)
            out.sent, out.failed = out.sent + sent, out.failed + failed
            _wait(fake, 15)
            out.rechecks = _verify(demo_app)
            out.callbacks = int(fake.fake.stats["callbacks"])
        finally:
            api.stop()
            demo_app.close()
    finally:
        fake.stop()
    out.seconds = round(time.monotonic() - started, 1)
    return out


def _connect(app: App, plan: _Plan, fake: _FakeServer, api_port: int) -> None:
    """Each fake platform gets an API key of its own for its callbacks."""
    from takedown.api.auth import create_key

    keys = {
        key: create_key(
            app, f"demo platform {key}", ["referrals:respond"], platform=key, actor="demo"
        ).secret
        for key in plan.platforms
    }
    fake.fake.callback_keys.update(keys)
    app.settings.referral_callback_url = f"http://127.0.0.1:{api_port}/api/v1/referrals/callback"


def _verify(app: App) -> dict[str, int]:
    from takedown.verify.run import check_and_record, select_sightings

    checked = check_and_record(app, select_sightings(app))
    return dict(Counter(c.result.outcome for c in checked))
