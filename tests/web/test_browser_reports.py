"""The operation report page in a real browser (Chromium via Playwright, like
``test_browser``): reached from the operation board, rendered under the page CSP with no
error, hostile names shown as text, no image or media on it."""

from __future__ import annotations

from typing import Any

from tests.api.seed import Seeded
from tests.web.conftest import browser_open_operation_report
from tests.web.test_browser import page, server  # noqa: F401  (the same fixtures)


def test_operation_report_page_in_chromium(server: tuple[str, Seeded], page: Any) -> None:  # noqa: F811
    base, _seeded = server
    tab = page
    browser_open_operation_report(tab, base)
    assert "<script>" in tab.inner_text("h1")  # the hostile name is text
    summary = tab.locator("section.report-section", has_text="Summary")
    assert "sightings" in summary.inner_text() and "2" in summary.inner_text()
    assert tab.locator("video, audio, iframe, object").count() == 0
    assert tab.locator("img:not(figure.report-chart img)").count() == 0  # charts only
    assert tab.evaluate("() => window.__pwned === undefined")
    tab.go_back()
    tab.click("a.transparency-report")
    tab.wait_for_url(f"{base}/reports/transparency")
    assert tab.locator("form.report-period input[type=date]").count() == 2
    assert "items removed" in tab.inner_text("body")
    assert not [e for e in tab.errors if "Content Security Policy" in e], tab.errors
