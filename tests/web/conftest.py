from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.api.auth import create_user
from takedown.app import App
from tests.api.seed import OWNER, Seeded, seed

PASSWORD = "synthetic password"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def log_in(client: TestClient, username: str = "ana", password: str = PASSWORD) -> str:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    return response.headers["set-cookie"]


def browser_log_in(tab: Any, base: str, username: str = "ana") -> None:
    """Log in through the login form in Chromium (the tab is on the login page or goes there)."""
    if not tab.url.endswith("/login"):
        tab.goto(f"{base}/login")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form.login button[type=submit]")
    tab.wait_for_url(f"{base}/queue")


def browser_open_operation_report(tab: Any, base: str, username: str = "ana") -> None:
    """Log in in Chromium and reach the operation report as a user does: the nav's
    Operations, the first operation's board, its report link."""
    browser_log_in(tab, base, username)
    tab.click("nav >> text=Operations")
    tab.click("tr.operation a")
    tab.click("a.operation-report")
    tab.wait_for_load_state("load")
    assert "/reports/operation/" in tab.url


@pytest.fixture
def seeded(app: App, tmp_path: Path) -> Seeded:
    create_user(app, "ana", PASSWORD, agency=OWNER)
    create_user(app, "ben", PASSWORD, agency=OWNER)
    return seed(app, tmp_path / "seed")


@pytest.fixture
def web(app: App, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as client:
        log_in(client)
        yield client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures can screenshot failures."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
