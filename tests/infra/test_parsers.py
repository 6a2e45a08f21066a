from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.infra.facts import InfraParseError, ip_flags
from takedown.infra.graph import EdgeKind, NodeKind
from takedown.infra.parsers import (
    iter_pdns,
    parse_ip2asn,
    parse_pdns,
    parse_rdap,
    parse_whois,
    sniff,
)

DATA = Path(__file__).parent / "data"
T = datetime(2026, 11, 1, tzinfo=UTC)


def edges(parsed, kind):  # type: ignore[no-untyped-def]
    return {(f.src, f.dst) for f in parsed.facts if f.kind == kind}


def test_rdap_domain_registrar_abuse_nameservers_and_registrant() -> None:
    p = parse_rdap((DATA / "rdap_domain.json").read_bytes(), source="rdap-test")
    assert edges(p, EdgeKind.DOMAIN_REGISTRAR) == {
        ("news-outlet.example", "Example Registrar <b>Ltd</b>")
    }
    assert edges(p, EdgeKind.DOMAIN_NAMESERVER) == {
        ("news-outlet.example", "ns1.dns-host.example"),
        ("news-outlet.example", "ns2.dns-host.example"),
    }
    # the redacted name is skipped; the organisation identifies the registrant
    assert edges(p, EdgeKind.DOMAIN_REGISTRANT) == {("news-outlet.example", "Media Front Org")}
    reg = next(n for n in p.notes if n.kind == NodeKind.REGISTRAR)
    assert reg.attrs == {"iana_id": "9999", "abuse_email": "abuse@registrar.example"}
    dom = next(n for n in p.notes if n.kind == NodeKind.DOMAIN)
    assert dom.attrs["registered_at"].startswith("2026-01-05")
    assert all(f.first_seen == T and f.source == "rdap-test" for f in p.facts)
    assert not p.problems


def test_rdap_ip_network_becomes_a_range_with_asn_holder_country_and_abuse() -> None:
    p = parse_rdap((DATA / "rdap_ip.json").read_bytes())
    (r,) = p.ranges
    assert (r.asn, r.country, r.holder, r.abuse_email) == (
        64501,
        "NL",
        "Resilient Hosting B.V.",
        "abuse@resilient-hosting.example",
    )
    assert r.cidr == "198.51.100.0/24"


def test_rdap_search_result_with_bad_members_keeps_the_good_and_reports_the_bad() -> None:
    good = json.loads((DATA / "rdap_domain.json").read_text())
    doc = {
        "domainSearchResults": [
            good,
            "nonsense",
            {"objectClassName": "domain"},
            {"objectClassName": "domain", "ldhName": "exa mple..test"},
            {"objectClassName": "entity"},
            {"errorCode": 404, "title": "Not Found"},
        ]
    }
    p = parse_rdap(json.dumps(doc).encode())
    assert edges(p, EdgeKind.DOMAIN_REGISTRAR)
    reasons = [pr.reason for pr in p.problems]
    assert len(reasons) == 5, reasons
    assert any("RDAP error 404" in r for r in reasons)
    assert any("unsupported objectClassName 'entity'" in r for r in reasons)


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"\xff\xfe{}", b"42", b"[" * 100_000 + b"]" * 100_000, b"{}"],
)
def test_unusable_rdap_raises_a_clear_error(raw: bytes) -> None:
    with pytest.raises(InfraParseError):
        parse_rdap(raw)


def test_whois_gtld_domain() -> None:
    p = parse_whois((DATA / "whois_domain.txt").read_bytes())
    assert edges(p, EdgeKind.DOMAIN_REGISTRAR) == {("mirror-outlet.test", "Registrar Two Inc.")}
    assert edges(p, EdgeKind.DOMAIN_NAMESERVER) == {
        ("mirror-outlet.test", "ns1.dns-host.example"),
        ("mirror-outlet.test", "ns2.dns-host.example"),
    }
    # "Please query the RDDS..." is a redaction, the organisation is kept
    assert edges(p, EdgeKind.DOMAIN_REGISTRANT) == {("mirror-outlet.test", "Media Front Org")}
    assert p.facts[0].first_seen == datetime(2026, 11, 2, tzinfo=UTC)
    reg = next(n for n in p.notes if n.kind == NodeKind.REGISTRAR)
    assert reg.attrs["abuse_email"] == "abuse@registrar-two.test"


def test_whois_ripe_inetnum_uses_the_abuse_contact_comment_line() -> None:
    p = parse_whois((DATA / "whois_ripe.txt").read_bytes())
    (r,) = p.ranges
    assert r.abuse_email == "abuse@offshore-vps.example"
    assert (r.asn, r.country, r.holder, r.cidr) == (
        64502,
        "SC",
        "Offshore VPS Ltd",
        "203.0.113.0/24",
    )


@pytest.mark.parametrize(
    "raw", [b"hello world\n", b"inetnum: 1.2.3 - banana\n", b"Domain Name: a b c\n"]
)
def test_unusable_whois_raises(raw: bytes) -> None:
    with pytest.raises(InfraParseError):
        parse_whois(raw)


def test_pdns_rows_facts_flags_and_problems() -> None:
    p = parse_pdns((DATA / "pdns.csv").read_bytes())
    assert ("news-outlet.example", "198.51.100.10") in edges(p, EdgeKind.A)
    assert ("mirror-outlet.test", "2001:db8::7") in edges(p, EdgeKind.AAAA)
    assert ("www.news-outlet.example", "news-outlet.example") in edges(p, EdgeKind.CNAME)
    assert ("news-outlet.example", "mail.news-outlet.example") in edges(p, EdgeKind.MX)
    assert ("news-outlet.example", "ns1.dns-host.example") in edges(p, EdgeKind.DOMAIN_NAMESERVER)
    assert ("*.wild.example", "198.51.100.20") in edges(p, EdgeKind.A)
    notes = {(n.kind, n.label): n.attrs for n in p.notes}
    assert notes[(NodeKind.HOSTNAME, "*.wild.example")]["wildcard"] is True
    assert notes[(NodeKind.IP, "10.0.0.5")]["flags"] == ["private"]
    assert notes[(NodeKind.IP, "198.51.100.10")]["flags"] == ["documentation"]
    look = notes[(NodeKind.HOSTNAME, "xn--pple-43d.example")]
    assert look["lookalike"] is True and look["unicode"] == "аpple.example"
    reasons = sorted(pr.reason.split(" ")[0] for pr in p.problems)
    assert len(p.problems) == 4, p.problems  # bad name, bad IP, TXT, last before first
    assert any("unsupported rrtype 'TXT'" in pr.reason for pr in p.problems)
    assert any("last_seen before first_seen" in pr.reason for pr in p.problems)
    assert all(pr.ref.startswith("line ") and pr.raw for pr in p.problems), reasons
    ts = next(f for f in p.facts if f.kind == EdgeKind.DOMAIN_NAMESERVER)
    assert ts.first_seen == datetime(2026, 1, 1, tzinfo=UTC)


def test_pdns_header_must_name_the_columns() -> None:
    with pytest.raises(InfraParseError, match="rrtype"):
        parse_pdns(b"rrname,value\nexample.test,192.0.2.1\n")
    with pytest.raises(InfraParseError):
        parse_pdns(b"")
    with pytest.raises(InfraParseError, match="UTF-8"):
        parse_pdns(b"rrname,rrtype,rdata,first_seen,last_seen\n\xff\xff,A,1,1,1\n")


def test_pdns_streams_in_batches_and_loses_nothing() -> None:
    lines = ["rrname,rrtype,rdata,time_first,time_last"]
    lines += [f"h{i}.big.example,A,192.0.2.{i % 250},{1000 + i},{2000 + i}" for i in range(2500)]
    lines += ["x" * 200_000 + ",A,192.0.2.1,1,2"]  # a huge field
    data = io.BytesIO("\n".join(lines).encode())
    batches = list(iter_pdns(data, batch=1000))
    assert len(batches) >= 5
    facts = sum(len(b.facts) for b in batches)
    problems = [p for b in batches for p in b.problems]
    assert facts == 2 * 2500 and len(problems) == 1


def test_ip2asn_tsv_and_dbip_csv() -> None:
    p = parse_ip2asn((DATA / "ip2asn.tsv").read_bytes())
    assert [(r.asn, r.country, r.holder) for r in p.ranges] == [
        (64501, "NL", "RESILIENT-AS Resilient Hosting"),
        (64502, "SC", "OFFSHORE-AS Offshore VPS"),
        (None, None, None),
        (64503, "DE", "V6-AS Example"),
    ]
    assert len(p.problems) == 1 and p.problems[0].ref == "line 5"
    db = parse_ip2asn(b"192.0.2.0,192.0.2.255,64500,Example Org\n")
    assert db.ranges[0].asn == 64500 and db.ranges[0].holder == "Example Org"
    cc = parse_ip2asn(b"192.0.2.0,192.0.2.255,FR\n")
    assert cc.ranges[0].country == "FR" and cc.ranges[0].asn is None
    with pytest.raises(InfraParseError, match="columns"):
        parse_ip2asn(b"192.0.2.0\n")


def test_ip_flags() -> None:
    assert ip_flags("8.8.8.8") == ("8.8.8.8", [])
    assert ip_flags("127.0.0.1")[1] == ["loopback"]
    assert ip_flags("::ffff:192.168.1.1") == ("192.168.1.1", ["private"])
    assert ip_flags("100.64.1.1")[1] == ["shared"]
    assert ip_flags("2001:DB8::1") == ("2001:db8::1", ["documentation"])
    assert ip_flags("240.0.0.1")[1] == ["reserved"]


def test_sniff() -> None:
    assert sniff(b'  {"objectClassName": "domain"}') == "rdap"
    assert sniff((DATA / "pdns.csv").read_bytes()) == "pdns"
    assert sniff((DATA / "whois_ripe.txt").read_bytes()) == "whois"
    assert sniff((DATA / "ip2asn.tsv").read_bytes()) == "ip2asn"
    with pytest.raises(InfraParseError):
        sniff(b"\x00\x01binary")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_parsers_never_crash_on_random_bytes(raw: bytes) -> None:
    from takedown.infra.parsers import parse_certs

    for parse in (parse_rdap, parse_whois, parse_pdns, parse_ip2asn, parse_certs):
        with contextlib.suppress(InfraParseError):
            parse(raw)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.text(max_size=30), min_size=0, max_size=7), max_size=8))
def test_pdns_never_crashes_on_random_rows(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    import csv

    w = csv.writer(buf)
    w.writerow(["rrname", "rrtype", "rdata", "first_seen", "last_seen"])
    w.writerows(rows)
    p = parse_pdns(buf.getvalue().encode())
    assert len(p.problems) <= len(rows)


def test_certificate_csv() -> None:
    from takedown.infra.parsers import parse_certs

    p = parse_certs((DATA / "certs.csv").read_bytes())
    certs = edges(p, EdgeKind.HOSTNAME_CERTIFICATE)
    fp = "sha256:" + "abcdef0123456789" * 4
    assert certs == {
        ("news-outlet.example", fp),
        ("www.news-outlet.example", fp),
        ("comeback.test", fp),
    }
    assert len(p.problems) == 1 and "64 hex" in p.problems[0].reason
    assert sniff((DATA / "certs.csv").read_bytes()) == "certs"
    with pytest.raises(InfraParseError, match="sha256"):
        parse_certs(b"hostname,issuer\nx.example,y\n")


def test_ip2asn_row_with_a_stray_carriage_return_is_a_problem() -> None:
    p = parse_ip2asn(b"192.0.2.0,192.0.2.255,FR\n1\r2,3,4\n")
    assert len(p.ranges) == 1 and len(p.problems) == 1
