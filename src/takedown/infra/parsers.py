"""Offline parsers of infrastructure data (pure: bytes in, records out, nothing fetched).

* ``rdap``: RDAP JSON (RFC 9083) — domain, ip network and autnum objects, a list of them or a
  search result; registrar, registrant, name servers, events and abuse contacts from the
  nested entities' jCards.
* ``whois``: raw WHOIS text in the common ``key: value`` forms (ICANN gTLD, RIPE/ARIN style
  ``inetnum``/``NetRange`` objects, RIPE's ``% Abuse contact for ... is '...'`` comment line).
* ``pdns``: passive-DNS CSV with a header naming ``rrname, rrtype, rdata, first_seen,
  last_seen`` (``time_first``/``time_last`` accepted); A, AAAA, CNAME, NS and MX rows.
* ``ip2asn``: IP-to-ASN/country tables: iptoasn.com TSV (start, end, ASN, country, holder),
  DB-IP Lite ASN CSV (start, end, ASN, holder) or DB-IP Lite country CSV (start, end, country).
* ``certs``: CSV of hostnames and SHA-256 certificate fingerprints.

One module per format (``parse_rdap``, ``parse_whois``, ``parse_pdns``, ``parse_ip2asn``,
``parse_certs``, shared pieces in ``parse_base``); this module re-exports them and guesses
the format of a file (:func:`sniff`).

A record that cannot be used becomes a :class:`Problem` (where and why, the raw text bounded),
never a crash and never silently dropped; an input that is unusable as a whole raises
:class:`InfraParseError`. Large CSV/TSV inputs are streamed in batches (``iter_pdns``,
``iter_ip2asn``).
"""

from __future__ import annotations

import re

from takedown.infra.facts import InfraParseError
from takedown.infra.parse_base import (
    BATCH,
    FORMATS,
    MAX_FIELD,
    MAX_JSON_BYTES,
    MAX_LINE,
    MAX_WHOIS_BYTES,
    Source,
)
from takedown.infra.parse_certs import iter_certs, parse_certs
from takedown.infra.parse_ip2asn import iter_ip2asn, parse_ip2asn
from takedown.infra.parse_pdns import iter_pdns, parse_pdns
from takedown.infra.parse_rdap import parse_rdap
from takedown.infra.parse_whois import parse_whois

__all__ = [
    "BATCH",
    "FORMATS",
    "MAX_FIELD",
    "MAX_JSON_BYTES",
    "MAX_LINE",
    "MAX_WHOIS_BYTES",
    "Source",
    "iter_certs",
    "iter_ip2asn",
    "iter_pdns",
    "parse_certs",
    "parse_ip2asn",
    "parse_pdns",
    "parse_rdap",
    "parse_whois",
    "sniff",
]


def sniff(head: bytes) -> str:
    """Guess the format from the first bytes of a file."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096].decode("utf-8", "replace").lower()
    if text.startswith(("{", "[")):
        return "rdap"
    first = text.splitlines()[0] if text else ""
    if "rrname" in first or "time_first" in first or "rrtype" in first:
        return "pdns"
    if "sha256" in first or "fingerprint" in first:
        return "certs"
    if re.search(r"^(domain name|domain|inetnum|inet6num|netrange|% )", text, re.MULTILINE):
        return "whois"
    if re.match(r"^[0-9a-f:.]+[\t,][0-9a-f:.]+[\t,]", first):
        return "ip2asn"
    raise InfraParseError("cannot tell the format; pass --format rdap|whois|pdns|ip2asn|certs")
