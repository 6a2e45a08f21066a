"""Tracking and analytics identifiers in stored pages: a strong sign two sites are one operator.

:func:`extract_identifiers` is pure (bytes in, identifiers out). :func:`scan_pages` reads the
stored HTML/text content of sightings (verified blobs, bounded size) and records
``domain -> analytics_id`` facts with the sighting's time, source ``pages``.

Recognised: Google Analytics (``UA-…``, ``G-…``), Google Tag Manager (``GTM-…``), AdSense
(``ca-pub-…``), Yandex Metrika counters, Facebook/Meta pixels.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from takedown.infra.facts import Fact, LabelError, host_name
from takedown.infra.graph import EdgeKind
from takedown.infra.store import Writer, _is_ip
from takedown.store.models import Content, Sighting

if TYPE_CHECKING:
    from takedown.app import App

MAX_PAGE = 5 * 1024 * 1024

_PATTERNS = [
    (re.compile(rb"\b(UA-\d{4,10}-\d{1,4})\b"), "{}"),
    (re.compile(rb"\b(G-[A-Z0-9]{8,12})\b"), "{}"),
    (re.compile(rb"\b(GTM-[A-Z0-9]{4,9})\b"), "{}"),
    (re.compile(rb"\b(ca-pub-\d{10,20})\b"), "{}"),
    (re.compile(rb"mc\.yandex\.ru/watch/(\d{5,12})"), "ym:{}"),
    (re.compile(rb"\bym\(\s*(\d{5,12})\s*,\s*['\"]init['\"]"), "ym:{}"),
    (re.compile(rb"fbq\(\s*['\"]init['\"]\s*,\s*['\"](\d{10,20})['\"]"), "fbpixel:{}"),
]


def extract_identifiers(page: bytes) -> list[str]:
    """Distinct identifiers in a page, in first-seen order."""
    found: dict[str, None] = {}
    head = page[:MAX_PAGE]
    for pattern, template in _PATTERNS:
        for m in pattern.finditer(head):
            found.setdefault(template.format(m.group(1).decode("ascii")), None)
    return list(found)


def scan_pages(app: App) -> dict[str, Any]:
    """Records identifiers found in stored pages of sightings; returns counts and problems."""
    problems: list[str] = []
    facts: list[Fact] = []
    pages = 0
    with app.db.session() as session:
        rows = session.execute(
            select(
                Sighting.registrable_domain,
                Sighting.seen_at,
                Sighting.created_at,
                Content.sha256,
                Content.size,
            )
            .join(Content, Content.id == Sighting.content_id)
            .where(
                Content.purged_at.is_(None),
                Sighting.registrable_domain.is_not(None),
                Content.media_type.like("text/%"),
            )
        ).all()
    cache: dict[str, list[str]] = {}
    for domain, seen, created, sha, size in rows:
        if not domain or _is_ip(domain):
            continue
        try:
            label = host_name(domain).label
        except LabelError as exc:
            problems.append(f"{domain[:80]}: {exc}")
            continue
        if sha not in cache:
            if size > MAX_PAGE:
                problems.append(f"{sha}: page larger than {MAX_PAGE} bytes, not scanned")
                cache[sha] = []
                continue
            try:
                cache[sha] = extract_identifiers(app.blobs.read_verified(sha))
                pages += 1
            except Exception as exc:  # a missing or corrupt blob is reported, never fatal
                problems.append(f"{sha}: {type(exc).__name__}: {exc}")
                cache[sha] = []
        when = seen or created
        facts += [
            Fact(EdgeKind.DOMAIN_ANALYTICS, label, ident, "pages", when, when)
            for ident in cache[sha]
        ]
    with app.db.session() as session:
        new = Writer(session).facts(facts) if facts else 0
    return {
        "pages": pages,
        "identifiers": len({f.dst for f in facts}),
        "facts": len(facts),
        "new": new,
        "problems": problems,
    }
