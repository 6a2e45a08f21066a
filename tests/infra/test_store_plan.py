from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from takedown.app import App
from takedown.infra.addressees import addressee_for_domain
from takedown.infra.facts import InfraParseError
from takedown.infra.graph import NodeKind
from takedown.infra.models import InfraEdge, InfraNode
from takedown.infra.planning import plan_outlet
from takedown.infra.store import OutletError, import_file, load_graph
from takedown.store.models import ImportRun, RejectedRecord

from .conftest import DATA, add_sighting, load_fixtures


def test_import_links_ips_to_networks_and_keeps_rejections(app: App) -> None:
    results = load_fixtures(app)
    pdns = results[-1]
    assert pdns["rejected"] == 4 and pdns["ips_linked"] >= 3
    assert sorted(pdns["cname_loops"][0]) == [
        "loop-a.news-outlet.example",
        "loop-b.news-outlet.example",
    ]
    with app.db.session() as session:
        runs = session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
        assert [r.format for r in runs][-1] == "infra-pdns" and runs[-1].rejected == 4
        reasons = session.scalars(
            select(RejectedRecord.reason).where(RejectedRecord.import_id == runs[-1].id)
        ).all()
        assert any("TXT" in r for r in reasons)
        g = load_graph(session)
        ip = g.node(NodeKind.IP, "198.51.100.10")
        assert ip is not None
        nets = [g.graph.labels[int(g.graph.dst[e])] for e in g.graph.out_edges(ip)]
        assert nets == ["AS64501"]
        net = g.node(NodeKind.NETWORK, "AS64501")
        assert net is not None
        # abuse contact from RDAP, holder from the more specific-or-equal ranges
        assert g.attrs[net]["abuse_email"] == "abuse@resilient-hosting.example"
        assert g.attrs[g.node(NodeKind.IP, "10.0.0.5")]["flags"] == ["private"]  # type: ignore[index]


def test_reimport_widens_first_last_seen_without_duplicates(app: App, tmp_path) -> None:  # type: ignore[no-untyped-def]
    f1 = tmp_path / "a.csv"
    f1.write_text(
        "rrname,rrtype,rdata,first_seen,last_seen\nsite.example,A,192.0.2.5,2026-03-01,2026-03-05\n"
    )
    f2 = tmp_path / "b.csv"
    f2.write_text(
        "rrname,rrtype,rdata,first_seen,last_seen\nsite.example,A,192.0.2.5,2026-02-01,2026-04-05\n"
    )
    with app.db.session() as session:
        import_file(session, f1, "pdns", source="pdns-feed")
        import_file(session, f2, "pdns", source="pdns-feed")
    with app.db.session() as session:
        edge = session.scalars(select(InfraEdge).where(InfraEdge.kind == "a")).one()
        assert edge.first_seen == datetime(2026, 2, 1, tzinfo=UTC)
        assert edge.last_seen == datetime(2026, 4, 5, tzinfo=UTC)


def test_unusable_file_writes_nothing(app: App, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{not json")
    with pytest.raises(InfraParseError), app.db.session() as session:
        import_file(session, bad, "rdap")
    with app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(InfraNode)) == 0
        assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_plan_ranks_dependencies_by_live_sightings_and_groups_authorities(app: App) -> None:
    load_fixtures(app)
    for i in range(3):
        add_sighting(app, f"https://news-outlet.example/post/{i}")
    add_sighting(app, "https://cdn.news-outlet.example/v.mp4")
    add_sighting(app, "https://mirror-outlet.test/a")
    add_sighting(app, "https://mirror-outlet.test/b", removed_at=datetime(2026, 11, 2, tzinfo=UTC))
    with app.db.session() as session:
        plan = plan_outlet(session, "Front Media")
        with pytest.raises(OutletError, match="unknown outlet"):
            plan_outlet(session, "nope")
    doms = {d["domain"]: d for d in plan["domains"]}
    assert doms["news-outlet.example"]["live_sightings"] == 4
    assert doms["mirror-outlet.test"]["live_sightings"] == 1
    assert doms["mirror-outlet.test"]["registrars"] == ["Registrar Two Inc."]
    top = plan["dependencies"][0]
    assert top["kind"] in ("network", "ip", "hostname", "domain")
    assert top["live_sightings"] >= 4
    # 203.0.113.7 serves both domains (cdn host and the mirror); AS64502 carries them
    by_label = {d["label"]: d for d in plan["dependencies"]}
    assert by_label["AS64502"]["domains"] == 2 and by_label["AS64502"]["live_sightings"] == 5
    hosters = plan["groups"]["hoster"]
    assert set(hosters) >= {"RESILIENT-AS Resilient Hosting", "OFFSHORE-AS Offshore VPS"}
    assert hosters["OFFSHORE-AS Offshore VPS"]["abuse_email"] == "abuse@offshore-vps.example"
    assert set(plan["groups"]["country"]) >= {"NL", "SC"}
    assert set(plan["groups"]["registrar"]) == {
        "Example Registrar <b>Ltd</b>",
        "Registrar Two Inc.",
    }
    cut = {(c["kind"], c["label"]) for c in plan["minimum_cut"]}
    assert len(cut) == 2 and plan["single_points_of_failure"] == []
    flagged = {f["label"]: f["flags"] for f in plan["flags"]}
    assert "private" in flagged["10.0.0.5"]
    assert plan["cname_loops"]


def test_addressee_prefers_hoster_then_registrar(app: App) -> None:
    load_fixtures(app)
    with app.db.session() as session:
        a = addressee_for_domain(session, "mirror-outlet.test")
        assert a == {
            "kind": "hoster",
            "key": "OFFSHORE-AS Offshore VPS",
            "name": "OFFSHORE-AS Offshore VPS",
            "contact_email": "abuse@offshore-vps.example",
            "country": "SC",
        }
        # NS-only knowledge: no IP -> registrar
        b = addressee_for_domain(session, "news-outlet.example")
        assert b is not None and b["kind"] == "hoster"
        assert addressee_for_domain(session, "unknown.invalid") is None
        assert addressee_for_domain(session, "not a domain") is None


def test_registrar_when_no_hoster_is_known(app: App, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with app.db.session() as session:
        import_file(session, DATA / "whois_domain.txt", "whois")
        a = addressee_for_domain(session, "MIRROR-OUTLET.TEST")
    assert a is not None and a["kind"] == "registrar" and a["name"] == "Registrar Two Inc."
    assert a["contact_email"] == "abuse@registrar-two.test"


def test_outlet_by_bank_label_collects_matched_domains(app: App) -> None:
    from takedown.infra.store import define_outlet, get_outlet, outlet_domains
    from takedown.store.models import Bank, BankEntry, Match, Sighting

    matched = add_sighting(app, "https://label-site.example/a", body=b"known")
    add_sighting(app, "https://other-site.example/b", body=b"unrelated")
    with app.db.session() as session:
        bank = Bank(name="partner")
        session.add(bank)
        session.flush()
        entry = BankEntry(
            bank_id=bank.id, signal_type="sha256", value="x", labels={"outlet": ["front", "b"]}
        )
        session.add(entry)
        session.flush()
        content_id = session.get(Sighting, matched).content_id  # type: ignore[union-attr]
        session.add(
            Match(
                key=f"c{content_id}:sha256:e{entry.id}",
                content_id=content_id,
                signal_type="sha256",
                bank_entry_id=entry.id,
                distance=0,
            )
        )
        define_outlet(session, "By label", ["extra.test"], label="outlet:front")
        define_outlet(session, "Other label", label="outlet:nope")
    with app.db.session() as session:
        assert outlet_domains(session, get_outlet(session, "By label")) == [
            "extra.test",
            "label-site.example",
        ]
        assert outlet_domains(session, get_outlet(session, "Other label")) == []


def test_label_outlet_leaves_out_platform_domains(app: App) -> None:
    """A label's matches on platforms (facebook.com, x.com, google.com) are not outlet domains."""
    from takedown.infra.store import define_outlet, get_outlet, outlet_domains
    from takedown.store.models import Bank, BankEntry, Match, Platform, Sighting

    ids = [
        add_sighting(app, "https://own-site.example/a", body=b"known"),
        add_sighting(app, "https://www.facebook.com/p/1", body=b"known", platform_key="facebook"),
        add_sighting(app, "https://x.com/u/status/1", body=b"known", platform_key="x"),
        # no platform claims this host, but google.com is a platform's (drive.google.com)
        add_sighting(app, "https://evil.google.com/x", body=b"known"),
        # an operator's platform row (registry override) marked known
        add_sighting(app, "https://forum.partner.example/t/1", body=b"known", platform_key="pf"),
        # a stored unknown:… key on a domain the registry claims (attributed before an update)
        add_sighting(app, "https://t.me/c/1", body=b"known", platform_key="unknown:t.me"),
    ]
    with app.db.session() as session:
        session.add(Platform(key="pf", name="Partner forum", kind="forum", known=True))
        bank = Bank(name="partner")
        session.add(bank)
        session.flush()
        entry = BankEntry(bank_id=bank.id, signal_type="sha256", value="y", labels={"net": "z"})
        session.add(entry)
        session.flush()
        content_id = session.get(Sighting, ids[0]).content_id  # type: ignore[union-attr]
        session.add(
            Match(
                key=f"c{content_id}:sha256:e{entry.id}",
                content_id=content_id,
                signal_type="sha256",
                bank_entry_id=entry.id,
                distance=0,
            )
        )
        # an explicit member stays whatever it is: the operator named it
        define_outlet(session, "Label net", ["fb.com"], label="net:z")
    with app.db.session() as session:
        assert outlet_domains(session, get_outlet(session, "Label net")) == [
            "fb.com",
            "own-site.example",
        ]
