"""The demo's second story, run end to end: an outlet network mapped, taken down, and caught
coming back on new domains.

1. The files of :mod:`takedown.demo.network` go through the importers a user runs
   (``takedown infra import``: RDAP, WHOIS, passive DNS, IP-to-ASN, certificates) and the
   outlet sites' pages through ``takedown ingest``; ``infra scan-pages`` reads their analytics
   tags.
2. Each outlet gets its takedown plan (single points of failure, minimum cut, groups by
   country, hoster and registrar), and the plan becomes referrals to hosters and registrars
   (``infra plan --refer``).
3. The local fake platforms answer for the hosters and registrars: the referrals reach them as
   signed webhooks (in the field an abuse desk gets the email or the file package; the demo
   has no SMTP server, so it gives each drafted referral the fake server's webhook address),
   they take the sites down (one offshore hoster ignores the request) and call back through
   Takedown's API; the sites are checked again.
4. The action is recorded as takedown events (simulated time: 2026-04-29), and four days later
   the next batch of files shows new domains sharing name servers, a certificate, an analytics
   ID or content with the seized ones: ``infra event check`` raises the alerts with their
   evidence, and the analyst adds the new domains to their outlets.

Re-running the demo adds nothing twice: imports and sightings are idempotent, events and
outlets are looked up before they are created, referrals are drafted only for sightings never
referred.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from takedown.app import App
from takedown.config import SecretStr
from takedown.demo import network
from takedown.demo.followup import _ApiServer, _FakeServer, _send_all, _wait
from takedown.store.models import Sighting

OUTLET_OPERATION = "Synthetic Outlet Takedown"
REPORTER = "analyst-2@unit-b.example"
IGNORING_HOSTER = 5  # the offshore hoster ignores the request; the seizure deals with it


@dataclass
class OutletDay:
    """What the second story did, for the demo's output."""

    folder: str = ""
    imported: list[dict[str, Any]] = field(default_factory=list)
    sightings: int = 0
    analytics_ids: int = 0
    plans: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    callbacks: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    removed: int = 0  # outlet-site sightings known removed after the answers and checks
    confirmed: dict[str, list[str]] = field(default_factory=dict)  # outlet -> new domains
    events: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _import(app: App, files: list[tuple[Path, str]], observed: Any) -> list[dict[str, Any]]:
    from takedown.infra.store import import_file

    out = []
    for path, fmt in files:
        with app.db.session() as session:
            r = import_file(session, path, fmt, observed_at=observed, submitted_by="demo")
        keys = ("file", "format", "facts", "new_edges", "ranges", "ips_linked", "rejected")
        out.append({k: r[k] for k in keys})
    return out


def _ingest(app: App, source: Path) -> int:
    from takedown.evidence.ingest import Ingestor
    from takedown.matching.pipeline import process_new_content

    report = Ingestor(app).ingest(source, "jsonl", reporter=REPORTER, operation=OUTLET_OPERATION)
    if report.new_content_ids:
        process_new_content(app, report.new_content_ids)
    return report.created


def _files(folder: Path) -> list[tuple[Path, str]]:
    """The order an analyst would use: IP data first, then names, resolutions, certificates."""
    first = [(folder / "ip2asn.tsv", "ip2asn"), (folder / "rdap-networks.json", "rdap")]
    first += [(p, "whois") for p in sorted(folder.glob("whois-AS*.txt"))]
    names = [(folder / "rdap-domains.json", "rdap")]
    names += [(p, "whois") for p in sorted(folder.glob("whois-*.txt")) if "-AS" not in p.name]
    return [*first, *names, (folder / "pdns.csv", "pdns"), (folder / "certs.csv", "certs")]


def _open_operation(app: App, agencies: list[str]) -> None:
    from takedown.ops.agencies import OpsError
    from takedown.ops.operations import create_operation

    with app.db.session() as session:
        try:
            create_operation(
                session,
                OUTLET_OPERATION,
                starts_at=network.SEEN - timedelta(hours=3),
                ends_at=network.COMEBACK_AT + timedelta(days=1),
                agencies=agencies,
                outlets=[o.name for o in network.OUTLETS],
                actor="demo",
            )
        except OpsError as exc:
            if "exists already" not in str(exc):
                raise


def _plans(app: App, out: OutletDay) -> None:
    from takedown.infra.planning import plan_outlet

    with app.db.session() as session:
        for outlet in network.OUTLETS:
            plan = plan_outlet(session, outlet.name)
            out.plans.append(
                {
                    "outlet": outlet.name,
                    "domains": [d["domain"] for d in plan["domains"]],
                    "single_points_of_failure": [
                        f"{n['kind']} {n['label']}" for n in plan["single_points_of_failure"]
                    ],
                    "minimum_cut": [f"{n['kind']} {n['label']}" for n in plan["minimum_cut"]],
                    "countries": sorted(plan["groups"]["country"]),
                    "hosters": sorted(plan["groups"]["hoster"]),
                    "registrars": sorted(plan["groups"]["registrar"]),
                }
            )


def _refer(app: App, webhook: str, out: OutletDay) -> list[str]:
    """Drafts the plans' referrals; returns the addressee keys. The demo's abuse desks take
    webhooks: each drafted referral gets the fake server's address as its webhook contact."""
    from takedown.infra.planning import refer_plan
    from takedown.referrals.models import Referral

    drafted: list[dict[str, Any]] = []
    for outlet in network.OUTLETS:
        drafted += refer_plan(app, outlet.name, actor="demo")["drafted"]
    out.referrals = drafted
    keys: set[str] = set()
    with app.db.session() as session:
        rows = session.scalars(
            select(Referral).where(Referral.addressee_kind.in_(("hoster", "registrar")))
        )
        for referral in rows:
            keys.add(referral.addressee_key)
            if referral.state in ("drafted", "issued"):
                referral.contact = {**(referral.contact or {}), "webhook": webhook}
    return sorted(keys)


def _hosters_answer(app: App, sightings: list[int], out: OutletDay, seed: int) -> None:
    """Refer, let the fake hosters and registrars act and call back, check the sites."""
    from takedown.api.auth import create_key

    rng = random.Random(seed)
    hosts = network.outlet_hosts()
    behaviour: dict[str, dict[str, Any]] = {}
    for host, (_outlet, hoster) in hosts.items():
        behaviour[host] = {"delay": round(rng.uniform(0.2, 1.0), 2), "removed": 404}
        if hoster == IGNORING_HOSTER:
            behaviour[host]["ignore"] = True
    with app.db.session() as session:
        rows = session.execute(
            select(Sighting.canonical_url, Sighting.host).where(Sighting.id.in_(sightings))
        ).all()
    for _url, sighted in rows:
        if sighted:
            behaviour.setdefault(sighted, {"delay": 0.5, "removed": 404})
    items = [{"url": url, "status": "live"} for url, _h in rows if url]
    scenario = {"secret": secrets.token_hex(16), "platforms": behaviour, "items": items}
    fake = _FakeServer(scenario)
    fake.start()
    try:
        webhook = f"http://127.0.0.1:{fake.port}/_fake/referral"
        keys = _refer(app, webhook, out)
        secret = SecretStr(str(scenario["secret"]))
        demo_app = App(
            app.settings.replace(
                webhook_secrets={**app.settings.webhook_secrets, **dict.fromkeys(keys, secret)},
                verify_host_map=",".join(f"{h}=127.0.0.1:{fake.port}" for h in sorted(behaviour)),
                verify_host_map_plain_http=True,
                verify_allow_loopback=True,
                verify_timeout=5.0,
                verify_concurrency=4,
                referral_timeout=5.0,
            )
        )
        api = _ApiServer(demo_app)
        api.start()
        try:
            fake.fake.callback_keys.update(
                {
                    key: create_key(
                        demo_app, f"demo {key}", ["referrals:respond"], platform=key, actor="demo"
                    ).secret
                    for key in keys
                }
            )
            demo_app.settings.referral_callback_url = (
                f"http://127.0.0.1:{api.port}/api/v1/referrals/callback"
            )
            out.sent, out.failed = _send_all(demo_app)
            _wait(fake, 15)
            out.checks = _verify(demo_app, sightings)
            with demo_app.db.session() as session:
                out.removed = len(
                    session.scalars(
                        select(Sighting.id).where(
                            Sighting.id.in_(sightings), Sighting.removed_at.is_not(None)
                        )
                    ).all()
                )
            out.callbacks = int(fake.fake.stats["callbacks"])
        finally:
            api.stop()
            demo_app.close()
    finally:
        fake.stop()


def _verify(app: App, ids: list[int]) -> dict[str, int]:
    from collections import Counter

    from takedown.verify.run import check_and_record, select_sightings

    checked = check_and_record(app, select_sightings(app, ids=ids))
    return dict(Counter(c.result.outcome for c in checked))


def _events(app: App, out: OutletDay) -> list[int]:
    """One takedown event per outlet: its domains suspended and servers seized (simulated)."""
    from takedown.infra.models import InfraEvent
    from takedown.infra.resilience import record_event
    from takedown.infra.store import get_outlet

    ids = []
    with app.db.session() as session:
        for outlet in network.OUTLETS:
            row = get_outlet(session, outlet.name)
            found = session.scalar(
                select(InfraEvent).where(
                    InfraEvent.outlet_id == row.id, InfraEvent.operation == OUTLET_OPERATION
                )
            )
            targets = [f"domain:{s.domain}" for s in outlet.sites]
            targets += sorted(
                {
                    f"ip:{network._ip(hoster, 3 * k + i)}"
                    for k, o in enumerate(network.OUTLETS)
                    if o is outlet
                    for s in o.sites
                    for i, (_h, hoster) in enumerate(s.hosts)
                }
            )
            if found is None:
                found = record_event(
                    session,
                    action="seized",
                    targets=targets,
                    at=network.TAKEDOWN_AT,
                    outlet=outlet.name,
                    note="coordinated action day (synthetic): servers seized, domains suspended",
                    actor="demo",
                    operation=OUTLET_OPERATION,
                )
            ids.append(found.id)
            out.events.append({"event": found.id, "outlet": outlet.name, "targets": targets})
    return ids


def _comeback(
    app: App, folder: Path, posters: list[Path], events: list[int], out: OutletDay
) -> None:
    from takedown.infra.pages import scan_pages
    from takedown.infra.resilience import check_event
    from takedown.infra.store import define_outlet

    written = network.write_comeback(folder, posters)
    day = Path(written["folder"])
    out.imported += _import(
        app,
        [
            (day / "rdap-domains.json", "rdap"),
            (day / "pdns.csv", "pdns"),
            (day / "certs.csv", "certs"),
        ],
        network.COMEBACK_AT,
    )
    out.sightings += _ingest(app, day / "comeback-sites.jsonl")
    out.analytics_ids = int(scan_pages(app)["identifiers"])
    for event_id, outlet in zip(events, network.OUTLETS, strict=True):
        with app.db.session() as session:
            result = check_event(session, event_id)
        new = []
        for a in result["alerts"]:
            out.alerts.append({"event": event_id, "outlet": outlet.name, **a})
            if a["kind"] == "domain" and {e["via"] for e in a["evidence"]} - {"nameserver"}:
                new.append(a["label"])
        # the analyst confirms: the outlet is back on these domains (a shared name server
        # alone is weak evidence: DNS providers serve many unrelated customers)
        if new:
            with app.db.session() as session:
                define_outlet(session, outlet.name, new)
            out.confirmed[outlet.name] = sorted(new)


def run_outlet_day(
    app: App, root: Path, posters: list[Path], agencies: list[str], seed: int
) -> OutletDay:
    """The whole second story; files under ``root`` (rewritten each run, same content)."""
    from takedown.infra.pages import scan_pages
    from takedown.infra.store import define_outlet

    started = time.monotonic()
    out = OutletDay(folder=str(root))
    network.write_network(root, posters)
    out.imported = _import(app, _files(root), network.LAST_SEEN)
    with app.db.session() as session:
        for outlet in network.OUTLETS:
            define_outlet(
                session,
                outlet.name,
                [s.domain for s in outlet.sites],
                description="invented outlet of the demo (synthetic)",
            )
    _open_operation(app, agencies)
    _ingest(app, root / "outlet-sites.jsonl")
    with app.db.session() as session:
        sightings = list(
            session.scalars(
                select(Sighting.id)
                .where(Sighting.operation == OUTLET_OPERATION)
                .order_by(Sighting.id)
            )
        )
    out.sightings = len(sightings)
    scan_pages(app)
    _plans(app, out)
    _hosters_answer(app, sightings, out, seed)
    events = _events(app, out)
    _comeback(app, root, posters, events, out)
    out.seconds = round(time.monotonic() - started, 1)
    return out
