"""In Chromium: the review queue names each text relation (issue #23)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.matching.pipeline import process_new_content
from takedown.store.models import Sighting
from tests.api.seed import REPORTER, Seeded
from tests.text.test_relations import SAME_EVENT
from tests.text.test_text_workflow import SOURCE, SPUN
from tests.web.conftest import browser_log_in
from tests.web.test_browser import page, server  # noqa: F401  (the same fixtures)


def test_reviewer_sees_a_rewrite_linked_and_a_same_event_report_related_in_chromium(
    server: tuple[str, Seeded],  # noqa: F811
    page: Any,  # noqa: F811
    sqlite_app: App,
    tmp_path: Path,
) -> None:
    base, _seeded = server
    urls = [f"https://t.me/s/relations/{n}" for n in (1, 2, 3)]
    rows = [{"url": u, "text": t} for u, t in zip(urls, (SOURCE, SPUN, SAME_EVENT), strict=True)]
    source = tmp_path / "posts.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = Ingestor(sqlite_app).ingest(source, reporter=REPORTER)
    process_new_content(sqlite_app, report.new_content_ids)
    with sqlite_app.db.session() as session:
        ids = dict(session.execute(select(Sighting.url, Sighting.id)).all())
    browser_log_in(page, base)
    spun = page.locator(f"#item-{ids[urls[1]]} .side.match")
    assert spun.locator("strong", has_text="Spun rewrite").first.is_visible()
    other = page.locator(f"#item-{ids[urls[2]]} .side.match")
    related = other.locator("p.related").first
    assert related.is_visible() and "same event (not a copy)" in related.inner_text()
    why = other.locator("p.why").first.inner_text()
    assert "different texts sharing" in why and "(not linked)" in why
    page.screenshot(path=str(tmp_path / "queue-relations.png"), full_page=True)
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
