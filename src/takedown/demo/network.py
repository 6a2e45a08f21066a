"""The demo's second story: a synthetic outlet network, as the files an analyst brings.

Modelled on the 2018 coordinated action against branded media outlets (several outlets, each
with sites and mirrors on domains at several registrars, servers at hosters in several
countries, shared name servers, certificates and analytics IDs; new domains days later).
Everything is invented and reserved: ``.example``/``.test`` names, the documentation networks
192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24, documentation AS numbers 64496-64511. The
documentation addresses are flagged ``documentation`` by ``takedown.infra.facts`` but still
count as served (only private, loopback, ... addresses are "unserved"), so the plan treats them
as the public servers they stand for.

:func:`write_network` writes RDAP JSON, WHOIS text, passive-DNS CSV, an IP-to-ASN table,
a certificate CSV and JSON Lines sightings (HTML pages with analytics tags, posters) for the
days before the takedown; :func:`write_comeback` the same kinds of files for the comeback.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIRST_SEEN = datetime(2026, 1, 12, tzinfo=UTC)
LAST_SEEN = datetime(2026, 4, 28, 18, 0, tzinfo=UTC)
SEEN = datetime(2026, 4, 28, 9, 0, tzinfo=UTC)  # the outlet sites' pages as the analysts saw them
TAKEDOWN_AT = datetime(2026, 4, 29, 6, 0, tzinfo=UTC)
COMEBACK_AT = datetime(2026, 5, 3, 7, 30, tzinfo=UTC)  # four days later


@dataclass(frozen=True)
class Hoster:
    name: str
    country: str
    asn: int
    cidr: str
    abuse: str
    source: str  # "rdap", "whois" or "ip2asn" (the table only: no abuse contact known)


HOSTERS = (
    Hoster(
        "Dike Hosting B.V. (synthetic)", "NL", 64496, "192.0.2.0/26", "abuse@dike.example", "rdap"
    ),
    Hoster(
        "Maple Racks Inc. (synthetic)", "CA", 64497, "192.0.2.64/26", "abuse@maple.example", "rdap"
    ),
    Hoster(
        "Prairie Cloud LLC (synthetic)",
        "US",
        64498,
        "192.0.2.128/26",
        "abuse@prairie.example",
        "rdap",
    ),
    Hoster(
        "Rheinwerk Server GmbH (synthetic)",
        "DE",
        64499,
        "198.51.100.0/26",
        "abuse@rheinwerk.example",
        "whois",
    ),
    Hoster(
        "Carpathia VPS SRL (synthetic)",
        "RO",
        64500,
        "198.51.100.64/26",
        "abuse@carpathia.example",
        "whois",
    ),
    Hoster("Lagoon Offshore Ltd (synthetic)", "SC", 64501, "198.51.100.128/26", "", "ip2asn"),
    Hoster(
        "Bosphorus Net A.S. (synthetic)",
        "TR",
        64502,
        "203.0.113.0/26",
        "abuse@bosphorus.example",
        "rdap",
    ),
    Hoster(
        "Pampas Hosting S.A. (synthetic)",
        "AR",
        64503,
        "203.0.113.64/26",
        "abuse@pampas.example",
        "rdap",
    ),
)
# Registrar name, IANA id, abuse contact
REGISTRARS = (
    ("Harbour Names Ltd (synthetic)", "90001", "abuse@harbour-names.example"),
    ("Quillpoint Registrar Inc. (synthetic)", "90002", "abuse@quillpoint.example"),
    ("Tessera Domains SARL (synthetic)", "90003", "abuse@tessera.example"),
    ("Nimbus Registry Services (synthetic)", "90004", "abuse@nimbus-registry.example"),
)
SHARED_NS = ("ns1.veil-dns.example", "ns2.veil-dns.example")
OTHER_NS = ("ns1.quietzone-dns.test", "ns2.quietzone-dns.test")


@dataclass(frozen=True)
class Site:
    """One domain of an outlet: registrar, WHOIS or RDAP, name servers, hostnames -> hosters."""

    domain: str
    registrar: int
    whois: bool
    nameservers: tuple[str, ...]
    hosts: tuple[tuple[str, int], ...]  # (hostname or "" for the apex, hoster index)
    cname: tuple[tuple[str, str], ...] = ()  # (hostname, target)


@dataclass(frozen=True)
class OutletNet:
    name: str  # one of the action day's invented outlets
    analytics: str
    sites: tuple[Site, ...]


OUTLETS = (
    OutletNet(
        "Crimson Dawn Media",
        "UA-7301010-1",
        (
            Site("crimson-dawn.example", 0, False, SHARED_NS, (("", 0), ("media", 1))),
            Site("crimsondawn-news.test", 1, False, SHARED_NS, (("", 2),)),
            Site("cdawn-mirror.example", 0, True, SHARED_NS, (("", 0),)),
        ),
    ),
    OutletNet(
        "Northern Lantern Network",
        "G-NLN4PX72Q1",
        (
            Site("northern-lantern.example", 2, False, SHARED_NS, (("", 3), ("files", 4))),
            Site("nlantern-archive.test", 2, False, SHARED_NS, (("", 4),)),
            # parked: no resolution known, so its registrar is the one to ask
            Site("lantern-relay.example", 1, True, SHARED_NS, ()),
        ),
    ),
    OutletNet(
        "Silver Dune Bulletin",
        "UA-8842177-3",
        (  # every name goes through one CDN host on one offshore server: a single point
            Site(
                "silver-dune.example",
                1,
                False,
                OTHER_NS,
                (("edge.dune-cdn.test", 5),),
                (("", "edge.dune-cdn.test"), ("www", "edge.dune-cdn.test")),
            ),
            Site("sdune-files.test", 0, True, OTHER_NS, (), (("", "edge.dune-cdn.test"),)),
        ),
    ),
)
# The comeback, four days after the takedown: (outlet index, domain, registrar, hoster index,
# what it shares with the taken-down sites)
COMEBACK = (
    (0, "crimson-dawn-live.example", 3, 7, ("nameserver", "analytics")),
    (1, "northern-lantern-24.test", 3, 7, ("nameserver", "certificate")),
    (2, "silver-dune-bulletin.example", 3, 6, ("content",)),
)


def _ip(hoster: int, n: int) -> str:
    net = ipaddress.ip_network(HOSTERS[hoster].cidr)
    return str(net.network_address + 10 + n)


def _fqdn(site: Site, host: str) -> str:
    return site.domain if host == "" else host if "." in host else f"{host}.{site.domain}"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _cert(*parts: str) -> str:
    return hashlib.sha256("|".join(("synthetic certificate", *parts)).encode()).hexdigest()


def _vcard(name: str, email: str | None = None) -> list[Any]:
    card: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if email:
        card.append(["email", {}, "text", email])
    return ["vcard", card]


def _rdap_domain(domain: str, registrar: int, registered: datetime) -> dict[str, Any]:
    name, iana, abuse = REGISTRARS[registrar]
    return {
        "objectClassName": "domain",
        "ldhName": domain,
        "status": ["active"],
        "events": [
            {"eventAction": "registration", "eventDate": _iso(registered)},
            {"eventAction": "expiration", "eventDate": _iso(registered + timedelta(days=365))},
        ],
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": iana}],
                "vcardArray": _vcard(name),
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": _vcard("Abuse desk", abuse),
                    }
                ],
            },
            {
                "objectClassName": "entity",
                "roles": ["registrant"],
                "vcardArray": _vcard("REDACTED FOR PRIVACY"),
            },
        ],
        "nameservers": [],
    }


def _whois_domain(domain: str, registrar: int, ns: tuple[str, ...], registered: datetime) -> str:
    name, iana, abuse = REGISTRARS[registrar]
    lines = [
        f"Domain Name: {domain.upper()}",
        f"Creation Date: {_iso(registered)}",
        f"Registry Expiry Date: {_iso(registered + timedelta(days=365))}",
        f"Registrar: {name}",
        f"Registrar IANA ID: {iana}",
        f"Registrar Abuse Contact Email: {abuse}",
        "Domain Status: clientTransferProhibited",
        "Registrant Organization: REDACTED FOR PRIVACY",
        *[f"Name Server: {n.upper()}" for n in ns],
        f">>> Last update of WHOIS database: {_iso(LAST_SEEN)} <<<",
    ]
    return "\n".join(lines) + "\n"


def _rdap_network(h: Hoster) -> dict[str, Any]:
    net = ipaddress.ip_network(h.cidr)
    return {
        "objectClassName": "ip network",
        "handle": f"NET-{h.asn}",
        "startAddress": str(net.network_address),
        "endAddress": str(net.broadcast_address),
        "ipVersion": "v4",
        "name": h.name.split()[0].upper() + "-NET",
        "country": h.country,
        "arin_originas0_originautnums": [h.asn],
        "entities": [
            {"objectClassName": "entity", "roles": ["registrant"], "vcardArray": _vcard(h.name)},
            {
                "objectClassName": "entity",
                "roles": ["abuse"],
                "vcardArray": _vcard("Abuse", h.abuse),
            },
        ],
    }


def _whois_network(h: Hoster) -> str:
    net = ipaddress.ip_network(h.cidr)
    span = f"{net.network_address} - {net.broadcast_address}"
    return (
        "% This is a synthetic RIPE-style answer.\n\n"
        f"% Abuse contact for '{span}' is '{h.abuse}'\n\n"
        f"inetnum:        {span}\n"
        f"netname:        {h.name.split()[0].upper()}-NET\n"
        f"country:        {h.country}\n"
        f"org:            ORG-{h.asn}-TEST\n\n"
        f"organisation:   ORG-{h.asn}-TEST\n"
        f"org-name:       {h.name}\n"
        f"country:        {h.country}\n\n"
        f"route:          {h.cidr}\n"
        f"origin:         AS{h.asn}\n"
    )


def _page(outlet: OutletNet, domain: str, poster: str | None) -> bytes:
    img = f'<img src="/media/{poster}" alt="poster">' if poster else ""
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{outlet.name} (synthetic demo)</title>\n"
        f"<script>gtag('config', '{outlet.analytics}');</script></head>\n"
        f"<body><h1>{outlet.name}</h1><p>Invented outlet of the Takedown demo, served at "
        f"{domain}. Nothing here is real.</p>{img}</body></html>\n"
    ).encode()


def _pdns(rows: list[list[str]], name: str, kind: str, data: str, a: datetime, b: datetime) -> None:
    rows.append([name, kind, data, _iso(a), _iso(b)])


def _write_csv(path: Path, header: str, rows: list[list[str]]) -> None:
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")


def write_network(root: Path, posters: list[Path]) -> dict[str, Any]:
    """Files of the outlet network before the takedown; returns what was written."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pages").mkdir(exist_ok=True)
    tsv = [
        "\t".join(
            [
                str(ipaddress.ip_network(h.cidr).network_address),
                str(ipaddress.ip_network(h.cidr).broadcast_address),
                str(h.asn),
                h.country,
                h.name,
            ]
        )
        for h in HOSTERS
    ]
    (root / "ip2asn.tsv").write_text("\n".join(tsv) + "\n", encoding="utf-8")
    networks = [_rdap_network(h) for h in HOSTERS if h.source == "rdap"]
    (root / "rdap-networks.json").write_text(json.dumps(networks, indent=1), encoding="utf-8")
    for h in HOSTERS:
        if h.source == "whois":
            (root / f"whois-AS{h.asn}.txt").write_text(_whois_network(h), encoding="utf-8")
    rdap: list[dict[str, Any]] = []
    pdns: list[list[str]] = []
    certs: list[list[str]] = []
    lines: list[str] = []
    for k, outlet in enumerate(OUTLETS):
        for j, site in enumerate(outlet.sites):
            registered = FIRST_SEEN + timedelta(days=9 * k + 4 * j)
            if site.whois:
                text = _whois_domain(site.domain, site.registrar, site.nameservers, registered)
                (root / f"whois-{site.domain}.txt").write_text(text, encoding="utf-8")
            else:
                obj = _rdap_domain(site.domain, site.registrar, registered)
                obj["nameservers"] = [
                    {"objectClassName": "nameserver", "ldhName": n} for n in site.nameservers
                ]
                rdap.append(obj)
            for n in site.nameservers:
                _pdns(pdns, site.domain, "NS", n, registered, LAST_SEEN)
            for i, (host, hoster) in enumerate(site.hosts):
                _pdns(pdns, _fqdn(site, host), "A", _ip(hoster, 3 * k + i), registered, LAST_SEEN)
            for host, target in site.cname:
                _pdns(pdns, _fqdn(site, host), "CNAME", target, registered, LAST_SEEN)
            names = " ".join(sorted({site.domain, f"www.{site.domain}"}))
            fingerprint = _cert(outlet.name, site.domain)
            certs.append([names, fingerprint, _iso(registered), _iso(registered + timedelta(90))])
            poster = posters[(3 * k + j) % len(posters)] if posters else None
            lines += _sightings(root, outlet, site.domain, poster, SEEN + timedelta(hours=j))
    (root / "rdap-domains.json").write_text(json.dumps(rdap, indent=1), encoding="utf-8")
    _write_csv(root / "pdns.csv", "rrname,rrtype,rdata,first_seen,last_seen", pdns)
    _write_csv(root / "certs.csv", "hostname,sha256,not_before,not_after", certs)
    (root / "outlet-sites.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"files": sorted(p.name for p in root.iterdir() if p.is_file())}


def _sightings(
    root: Path, outlet: OutletNet, domain: str, poster: Path | None, when: datetime
) -> list[str]:
    """A JSON line for the site's front page (HTML, with the analytics tag) and its poster."""
    page = root / "pages" / f"{domain}.html"
    page.write_bytes(_page(outlet, domain, poster.name if poster else None))
    out = [
        json.dumps(
            {
                "url": f"https://{domain}/",
                "file": f"pages/{page.name}",
                "seen_at": _iso(when),
                "notes": f"front page of {outlet.name} (synthetic outlet site)",
            }
        )
    ]
    if poster is not None:
        (root / "media").mkdir(exist_ok=True)
        copy = root / "media" / poster.name
        if not copy.exists():
            copy.write_bytes(poster.read_bytes())
        out.append(
            json.dumps(
                {
                    "url": f"https://{domain}/media/{poster.name}",
                    "file": f"media/{poster.name}",
                    "seen_at": _iso(when),
                    "notes": f"poster on {outlet.name}'s site (synthetic)",
                }
            )
        )
    return out


def outlet_hosts() -> dict[str, tuple[str, int]]:
    """Every host name of the sites before the takedown -> (outlet, hoster index serving it)."""
    out: dict[str, tuple[str, int]] = {}
    for outlet in OUTLETS:
        for site in outlet.sites:
            for host, hoster in site.hosts:
                out[_fqdn(site, host)] = (outlet.name, hoster)
            for host, target in site.cname:
                out[_fqdn(site, host)] = (outlet.name, out.get(target, ("", 5))[1])
    return out


def write_comeback(root: Path, posters: list[Path]) -> dict[str, Any]:
    """The new domains four days after the takedown, as the next batch of files."""
    day = root / "day-5"
    (day / "pages").mkdir(parents=True, exist_ok=True)
    rdap: list[dict[str, Any]] = []
    pdns: list[list[str]] = []
    certs: list[list[str]] = []
    lines: list[str] = []
    for k, domain, registrar, hoster, shares in COMEBACK:
        outlet = OUTLETS[k]
        old = outlet.sites[0]
        obj = _rdap_domain(domain, registrar, COMEBACK_AT - timedelta(hours=20))
        ns = SHARED_NS if "nameserver" in shares else (f"ns1.{domain}",)
        obj["nameservers"] = [{"objectClassName": "nameserver", "ldhName": n} for n in ns]
        rdap.append(obj)
        for n in ns:
            _pdns(pdns, domain, "NS", n, COMEBACK_AT, COMEBACK_AT + timedelta(days=1))
        ip = _ip(hoster, 20 + k)
        _pdns(pdns, domain, "A", ip, COMEBACK_AT, COMEBACK_AT + timedelta(days=1))
        names = f"{domain} www.{domain}"
        fingerprint = (
            _cert(outlet.name, old.domain)
            if "certificate" in shares
            else _cert(outlet.name, domain)
        )
        certs.append([names, fingerprint, _iso(COMEBACK_AT), _iso(COMEBACK_AT + timedelta(90))])
        poster = posters[3 * k % len(posters)] if posters and "content" in shares else None
        tagged = outlet if "analytics" in shares else OutletNet(outlet.name, "", outlet.sites)
        lines += _sightings(day, tagged, domain, poster, COMEBACK_AT + timedelta(hours=2))
    (day / "rdap-domains.json").write_text(json.dumps(rdap, indent=1), encoding="utf-8")
    _write_csv(day / "pdns.csv", "rrname,rrtype,rdata,first_seen,last_seen", pdns)
    _write_csv(day / "certs.csv", "hostname,sha256,not_before,not_after", certs)
    (day / "comeback-sites.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"folder": str(day), "domains": [d for _k, d, *_ in COMEBACK]}
