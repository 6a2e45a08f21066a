from __future__ import annotations

from datetime import UTC, datetime

import pytest

from takedown.app import App
from takedown.infra.facts import Fact
from takedown.infra.graph import EdgeKind
from takedown.infra.resilience import (
    EventError,
    check_event,
    parse_target,
    record_event,
    reestablishment,
    timeline,
)
from takedown.infra.store import Writer, define_outlet

from .conftest import add_sighting

BEFORE = datetime(2026, 6, 1, tzinfo=UTC)
EVENT = datetime(2026, 11, 21, tzinfo=UTC)


def d(day: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=UTC)


def _facts(app: App) -> None:
    f = [
        Fact(
            EdgeKind.DOMAIN_HOSTNAME,
            "news-outlet.example",
            "www.news-outlet.example",
            "pdns",
            BEFORE,
            d(20),
        ),
        Fact(EdgeKind.A, "www.news-outlet.example", "198.51.100.10", "pdns", BEFORE, d(20)),
        Fact(EdgeKind.A, "www.news-outlet.example", "192.0.2.99", "pdns", d(22), d(28)),
        Fact(
            EdgeKind.DOMAIN_NAMESERVER,
            "news-outlet.example",
            "ns1.bp-dns.example",
            "rdap",
            BEFORE,
            d(20),
        ),
        Fact(
            EdgeKind.DOMAIN_ANALYTICS, "news-outlet.example", "UA-12345-1", "pages", BEFORE, d(20)
        ),
        # an older sibling sharing the name server: not a re-establishment
        Fact(
            EdgeKind.DOMAIN_NAMESERVER,
            "mirror-outlet.test",
            "ns1.bp-dns.example",
            "rdap",
            BEFORE,
            d(28),
        ),
        # the comeback, first seen three days after the seizure
        Fact(
            EdgeKind.DOMAIN_NAMESERVER,
            "news-outlet2.test",
            "ns1.bp-dns.example",
            "rdap",
            d(24),
            d(28),
        ),
        Fact(EdgeKind.DOMAIN_ANALYTICS, "news-outlet2.test", "UA-12345-1", "pages", d(24), d(28)),
        Fact(
            EdgeKind.DOMAIN_HOSTNAME, "news-outlet2.test", "news-outlet2.test", "pdns", d(24), d(28)
        ),
        Fact(EdgeKind.A, "news-outlet2.test", "198.51.100.10", "pdns", d(24), d(28)),
    ]
    with app.db.session() as session:
        Writer(session).facts(f)
        define_outlet(session, "Front Media", ["news-outlet.example", "mirror-outlet.test"])


def test_takedown_then_comeback_raises_alerts_with_evidence(app: App) -> None:
    _facts(app)
    add_sighting(app, "https://news-outlet.example/a", seen_at=BEFORE, body=b"statement-1")
    add_sighting(app, "https://fresh-copy.invalid/b", seen_at=d(25), body=b"statement-1")
    add_sighting(app, "https://old-copy.invalid/c", seen_at=BEFORE, body=b"statement-1")
    with app.db.session() as session:
        ev = record_event(
            session,
            action="seized",
            targets=["domain:NEWS-OUTLET.example", "ip:198.51.100.10"],
            at=EVENT,
            outlet="Front Media",
            note="court order <b>42</b>",
        )
        event_id = ev.id
    with app.db.session() as session:
        result = check_event(session, event_id)
    alerts = {(a["kind"], a["label"]): a for a in result["alerts"]}
    assert set(alerts) == {
        ("domain", "news-outlet2.test"),
        ("domain", "fresh-copy.invalid"),
        ("ip", "192.0.2.99"),
    }
    vias = {e["via"] for e in alerts[("domain", "news-outlet2.test")]["evidence"]}
    assert vias == {"nameserver", "analytics_id", "ip"}
    assert alerts[("domain", "fresh-copy.invalid")]["evidence"][0]["via"] == "content_sha256"
    assert alerts[("ip", "192.0.2.99")]["evidence"][0]["value"] == "www.news-outlet.example"
    assert result["reestablished_after_seconds"] == 86400  # the new IP, a day later
    with app.db.session() as session:
        again = check_event(session, event_id)  # idempotent
        figures = reestablishment(session)
        line = timeline(session, "Front Media")
    assert len(again["alerts"]) == 3
    assert figures[0]["alerts"] == 3 and figures[0]["reestablished_after_seconds"] == 86400
    whats = [r["what"] for r in line]
    assert "takedown (seized)" in whats and "re-established" in whats
    assert whats.index("takedown (seized)") < whats.index("re-established")


def test_common_features_are_ignored_not_alerted(app: App) -> None:
    f = [Fact(EdgeKind.DOMAIN_NAMESERVER, "gone.example", "ns.bigdns.example", "x", BEFORE, d(1))]
    f += [
        Fact(
            EdgeKind.DOMAIN_NAMESERVER, f"other{i}.example", "ns.bigdns.example", "x", d(25), d(26)
        )
        for i in range(5)
    ]
    with app.db.session() as session:
        Writer(session).facts(f)
        ev = record_event(session, action="suspended", targets=["domain:gone.example"], at=EVENT)
        result = check_event(session, ev.id, max_share=3)
    assert result["alerts"] == [] and result["ignored_common"][0]["via"] == "nameserver"


@pytest.mark.parametrize(
    "bad", ["gone.example", "planet:x", "ip:999.1.1.1", "domain:a..b", "hoster:"]
)
def test_bad_targets_are_refused(bad: str) -> None:
    with pytest.raises(EventError):
        parse_target(bad)


def test_event_needs_a_timezone_and_known_action(app: App) -> None:
    with app.db.session() as session:
        with pytest.raises(EventError, match="time zone"):
            record_event(
                session, action="seized", targets=["ip:192.0.2.1"], at=datetime(2026, 1, 1)
            )
        with pytest.raises(EventError, match="unknown action"):
            record_event(session, action="nuked", targets=["ip:192.0.2.1"], at=EVENT)


def test_shared_certificate_reveals_the_comeback(app: App) -> None:
    from takedown.infra.store import import_file

    from .conftest import DATA

    with app.db.session() as session:
        import_file(session, DATA / "certs.csv", "certs")
        ev = record_event(
            session, action="seized", targets=["domain:news-outlet.example"], at=EVENT
        )
        result = check_event(session, ev.id)
    (alert,) = result["alerts"]
    assert alert["label"] == "comeback.test"
    assert alert["evidence"][0]["via"] == "certificate"
    assert alert["evidence"][0]["shared_with"] == ["news-outlet.example"]
