"""In Chromium: a reviewer sees why a crop matched, on the queue and on the material page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from takedown.app import App
from tests.api.seed import Seeded
from tests.web.conftest import browser_log_in
from tests.web.test_browser import page, server  # noqa: F401  (the same fixtures)
from tests.web.test_queue_evidence import ingest_banked_crop


def test_reviewer_sees_the_keypoint_evidence_of_a_crop_in_chromium(
    server: tuple[str, Seeded],  # noqa: F811
    page: Any,  # noqa: F811
    sqlite_app: App,
    tmp_path: Path,
) -> None:
    base, _seeded = server
    crop = ingest_banked_crop(sqlite_app, tmp_path / "crop")
    browser_log_in(page, base)
    item = page.locator(f"#item-{crop}")
    why = item.locator("p.why")
    assert why.is_visible()
    assert " inliers of " in why.inner_text() and "colour layout agrees" in why.inner_text()
    assert "blurred" in (item.locator(".media").first.get_attribute("class") or "")
    item.locator("a[href^='/material/']").click()
    page.wait_for_load_state("load")
    matched = page.locator("td.matched", has_text="keypoints").first
    assert matched.is_visible() and " inliers of " in matched.inner_text()
    # (Chromium's own favicon request is a 404 in the console: only policy errors count.)
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
