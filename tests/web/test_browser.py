"""The workspace in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium).

No skip: if Chromium is missing the test fails loudly (``make test`` installs it via
``scripts/browser.sh``). Screenshots of failures are kept under ``test-artifacts/``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import update

from takedown.api.app import create_app
from takedown.api.auth import create_user
from takedown.app import App
from takedown.infra.store import define_outlet
from takedown.ops.operations import create_operation
from takedown.store.models import Sighting
from tests.api.seed import OWNER, Seeded, seed
from tests.web.conftest import PASSWORD, browser_log_in

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
OPERATION = "Action day <script>window.__pwned=4</script>"
OUTLET = "Outlet <img src=x onerror=window.__pwned=3>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(sqlite_app: App, tmp_path: Path) -> Iterator[tuple[str, Seeded]]:
    create_user(sqlite_app, "ana", PASSWORD, agency=OWNER)
    seeded = seed(sqlite_app, tmp_path / "seed")
    now = datetime.now(UTC)
    with sqlite_app.db.session() as session:
        create_operation(
            session,
            OPERATION,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=47),
            agencies=[OWNER],
        )
        session.execute(
            update(Sighting)
            .where(Sighting.id.in_(seeded.sighting_ids[:2]))
            .values(operation=OPERATION)
        )
        define_outlet(session, OUTLET, ["example.org"])
    port = free_port()
    config = uvicorn.Config(
        create_app(sqlite_app),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        lifespan="off",
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", seeded
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), (
        "Chromium is required for the browser tests: run `make test` (scripts/browser.sh "
        "installs Debian's chromium) or `apt-get install -y chromium`"
    )
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
        )
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on(
            "console",
            lambda msg: errors.append(msg.text) if msg.type == "error" else None,
        )
        tab.errors = errors
        try:
            yield tab
        finally:
            failed = getattr(request.node, "rep_call", None)
            if failed is not None and failed.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
            context.close()


def filter_of(tab: Any, selector: str) -> str:
    value: str = tab.eval_on_selector(selector, "el => getComputedStyle(el).filter")
    return value


def test_review_material_and_dashboard_in_chromium(server: tuple[str, Seeded], page: Any) -> None:
    base, seeded = server
    tab = page
    tab.goto(f"{base}/queue")
    assert tab.url.endswith("/login")
    browser_log_in(tab, base)

    # every media is blurred and grey; the hostile text did not run
    images = tab.locator(".media img")
    assert images.count() >= 3
    for i in range(images.count()):
        style = images.nth(i).evaluate("el => getComputedStyle(el).filter")
        assert "blur(24px)" in style and "grayscale(1)" in style
    assert tab.evaluate("() => window.__pwned === undefined")
    assert "\u202e" not in tab.inner_text("body")

    # reveal one item: only that one unblurs; the next stays blurred
    first = seeded.sighting_ids[2]
    tab.click(f"button.reveal[data-target='media-{first}']")
    assert filter_of(tab, f"#media-{first} img") == "none"
    assert "blur" in filter_of(tab, f"#media-{seeded.sighting_ids[1]} img")
    tab.reload()
    assert "blur" in filter_of(tab, f"#media-{first} img")  # the choice is not remembered

    # decide: refer, in place; the item leaves the queue and shows on the referrals board
    tab.click(f"#item-{first} button.decision.refer")
    tab.wait_for_selector(f"#item-{first}.done")
    assert "Refer" in tab.inner_text(f"#item-{first} .done-line")
    tab.reload()
    assert tab.locator(f"#item-{first}").count() == 0
    tab.click("nav >> text=Referrals")
    assert f"#{first}" in tab.inner_text("section.decided")

    # send it: one referral per platform, delivered (file package here), shown on the board
    tab.fill("form.send-referrals input[name=basis]", "terms of service (test)")
    tab.click("form.send-referrals button.send")
    tab.wait_for_url(f"{base}/referrals?sent=1")
    assert tab.locator("section.decided").count() == 0
    row = tab.locator("tr.referral")
    assert row.count() == 1
    assert row.locator("td.state").inner_text() == "sent"

    # the material page: copies on a timeline
    tab.goto(f"{base}/material/{seeded.cluster_id}")
    assert tab.locator("tr.copy").count() == 3
    assert tab.eval_on_selector("figure.chart img", "el => el.complete && el.naturalWidth > 0")

    # the dashboard: every chart renders, every CSV link is there
    tab.click("nav >> text=Dashboard")
    charts = tab.locator("figure.chart img")
    assert charts.count() >= 6
    tab.wait_for_load_state("load")
    for i in range(charts.count()):
        assert charts.nth(i).evaluate("el => el.complete && el.naturalWidth > 0"), i
    assert tab.locator("a.csv").count() == charts.count()
    assert not [e for e in tab.errors if "Content Security Policy" in e], tab.errors

    # the operation board and the infrastructure page, hostile names inert
    tab.click("nav >> text=Operations")
    tab.click("tr.operation a")
    assert "found 2" in " ".join(tab.inner_text("p.board-total").split())
    assert tab.locator("table.by_platform tr").count() == 3  # header, telegram, x
    tab.click("nav >> text=Infrastructure")
    tab.click("tr.outlet a")
    tab.wait_for_load_state("load")
    assert "onerror" in tab.inner_text("h1")  # shown as text
    assert tab.eval_on_selector(
        "figure.infra-picture img", "el => el.complete && el.naturalWidth > 0"
    )
    assert tab.evaluate("() => window.__pwned === undefined")
    assert not [e for e in tab.errors if "Content Security Policy" in e], tab.errors
