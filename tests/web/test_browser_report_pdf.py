"""In Chromium: an Arabic-named operation's report, downloaded as PDF from its page; the
name, in Arabic and Cyrillic, is in the PDF's text (pdftotext, poppler-utils: installed by
``scripts/pdftools.sh`` like ``scripts/browser.sh`` installs Chromium)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from takedown.app import App
from takedown.ops.operations import create_operation
from takedown.store.models import Sighting
from tests.api.seed import OWNER, Seeded
from tests.web.conftest import browser_log_in
from tests.web.test_browser import page, server  # noqa: F401  (the same fixtures)

ARABIC = "عملية Операция 2026"
BIDI_MARKS = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is required: run scripts/pdftools.sh (apt-get install poppler-utils)"
    done = subprocess.run(
        [tool, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode()


def test_print_an_arabic_named_operations_pdf(
    server: tuple[str, Seeded],  # noqa: F811
    page: Any,  # noqa: F811
    sqlite_app: App,
    tmp_path: Path,
) -> None:
    base, seeded = server
    now = datetime.now(UTC)
    with sqlite_app.db.session() as session:
        create_operation(
            session,
            ARABIC,
            starts_at=now - timedelta(hours=2),
            ends_at=now + timedelta(hours=46),
            agencies=[OWNER],
        )
        session.execute(
            update(Sighting)
            .where(Sighting.id.in_(seeded.sighting_ids[2:4]))
            .values(operation=ARABIC)
        )
    browser_log_in(page, base)
    page.click("nav >> text=Operations")
    page.click(f"tr.operation a >> text={ARABIC}")
    page.click("a.operation-report")
    page.wait_for_load_state("load")
    # the summary comes before the charts
    assert page.locator("section.report-section").first.inner_text().startswith("Summary")
    with page.expect_download() as download:
        page.click("a.report-pdf")
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"DejaVuSans" in data  # the Unicode font, embedded
    text = pdf_text(saved)
    # The PDF holds the shaped letters (Arabic presentation forms, joined as printed);
    # NFKC folds them back to the letters typed, and pdftotext marks the right-to-left run.
    plain = "".join(c for c in unicodedata.normalize("NFKC", text) if c not in BIDI_MARKS)
    assert "عملية" in plain and "Операция 2026" in plain
    assert "عمليةОперация2026" in "".join(plain.split(" "))  # in the name's order
    assert "TLP:AMBER" in text and "page 1" in text  # the default handling marking
    assert text.index("Summary") < text.index("Items by platform")  # the summary first
