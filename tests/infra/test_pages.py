from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select

from takedown.app import App
from takedown.infra.models import InfraEdge, InfraNode
from takedown.infra.pages import extract_identifiers, scan_pages
from takedown.store.models import Content, Sighting

PAGE = b"""<!doctype html><html><head>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABCD1234EF"></script>
<script>ga('create', 'UA-1234567-2', 'auto'); ym(12345678, "init", {});
fbq('init', '123456789012345');</script>
<ins data-ad-client="ca-pub-1234567890123456"></ins> UA-1234567-2 again</head></html>"""


def test_extract_identifiers() -> None:
    assert extract_identifiers(PAGE) == [
        "UA-1234567-2",
        "G-ABCD1234EF",
        "ca-pub-1234567890123456",
        "ym:12345678",
        "fbpixel:123456789012345",
    ]
    assert extract_identifiers(b"\xff\x00 nothing UA-12-1 G-short") == []


def test_scan_pages_links_domains_sharing_an_identifier(app: App) -> None:
    stored = app.blobs.put_bytes(PAGE)
    with app.db.session() as session:
        content = Content(
            sha256=stored.sha256,
            md5=hashlib.md5(PAGE).hexdigest(),  # noqa: S324 - a fingerprint, not security
            size=len(PAGE),
            kind="document",
            media_type="text/html",
        )
        session.add(content)
        session.flush()
        for i, domain in enumerate(["site-a.example", "site-b.test", "192.0.2.1"]):
            session.add(
                Sighting(
                    natural_key=f"k{i}",
                    url=f"https://{domain}/",
                    host=domain,
                    registrable_domain=domain,
                    content_id=content.id,
                    seen_at=datetime(2026, 11, 1 + i, tzinfo=UTC),
                )
            )
    result = scan_pages(app)
    assert result["pages"] == 1 and result["identifiers"] == 5 and result["facts"] == 10
    with app.db.session() as session:
        holders = session.scalars(
            select(InfraNode.label)
            .join(InfraEdge, InfraEdge.src_id == InfraNode.id)
            .where(InfraEdge.kind == "domain_analytics")
        ).all()
    assert set(holders) == {"site-a.example", "site-b.test"}
    assert scan_pages(app)["new"] == 0  # idempotent
