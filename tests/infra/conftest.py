from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from takedown.app import App
from takedown.infra.store import define_outlet, import_file
from takedown.store.models import Content, Sighting

DATA = Path(__file__).parent / "data"
OBSERVED = datetime(2026, 11, 1, tzinfo=UTC)
FILES = [
    ("ip2asn.tsv", "ip2asn"),
    ("rdap_ip.json", "rdap"),
    ("whois_ripe.txt", "whois"),
    ("rdap_domain.json", "rdap"),
    ("whois_domain.txt", "whois"),
    ("pdns.csv", "pdns"),
]


def add_sighting(
    app: App,
    url: str,
    *,
    seen_at: datetime | None = None,
    removed_at: datetime | None = None,
    body: bytes | None = None,
    platform_key: str | None = None,
) -> int:
    host = url.split("/")[2]
    parts = host.split(".")
    domain = ".".join(parts[-2:])
    with app.db.session() as session:
        content_id = None
        if body is not None:
            digest = hashlib.sha256(body).hexdigest()
            content = session.query(Content).filter_by(sha256=digest).one_or_none()
            if content is None:
                content = Content(
                    sha256=digest,
                    md5=digest[:32],
                    size=len(body),
                    kind="image",
                    media_type="image/png",
                )
                session.add(content)
                session.flush()
            content_id = content.id
        s = Sighting(
            natural_key=hashlib.sha256(url.encode() + str(seen_at).encode()).hexdigest(),
            url=url,
            canonical_url=url,
            host=host,
            registrable_domain=domain,
            platform_key=platform_key or f"unknown:{domain}",
            content_id=content_id,
            seen_at=seen_at,
            removed_at=removed_at,
        )
        session.add(s)
        session.flush()
        return s.id


def load_fixtures(app: App) -> list[dict[str, object]]:
    out = []
    with app.db.session() as session:
        for name, fmt in FILES:
            out.append(import_file(session, DATA / name, fmt, observed_at=OBSERVED))
        define_outlet(session, "Front Media", ["news-outlet.example", "mirror-outlet.test"])
    return out
