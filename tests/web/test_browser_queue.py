"""The queue worked as an analyst works it, in Chromium: clear 20 items with the keyboard
alone, page through 2,000+ items, play a video (blurred until asked, never autoplaying),
place a hold from the queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from takedown.api.models import ApiReviewDecision
from takedown.app import App
from tests.api.seed import Seeded
from tests.web.conftest import browser_log_in
from tests.web.queue_data import add_open_items, ingest_video
from tests.web.test_browser import page, server  # noqa: F401  (the same fixtures)

WAIT_NEXT = "li.item.current:not(.done)"


def current_id(tab: Any) -> str:
    tab.wait_for_selector(WAIT_NEXT)
    value: str = tab.eval_on_selector(WAIT_NEXT, "el => el.dataset.sighting")
    return value


def test_clear_20_items_with_the_keyboard_and_page_through_2000(
    server: tuple[str, Seeded],  # noqa: F811
    page: Any,  # noqa: F811
    sqlite_app: App,
) -> None:
    base, _seeded = server
    added = add_open_items(sqlite_app, 2100, prefix="kb")
    browser_log_in(page, base)
    page.goto(f"{base}/queue?tab=new&sort=oldest&per_page=10&q=/kb/")
    decided: list[str] = []
    for _ in range(20):  # two pages of ten: the page reloads itself when cleared
        sid = current_id(page)
        page.keyboard.press("r" if len(decided) % 3 else "d")
        page.wait_for_function(
            "id => { const li = document.getElementById('item-' + id);"
            " return !li || li.classList.contains('done'); }",
            arg=sid,
        )
        decided.append(sid)
    assert decided == [str(i) for i in added[:20]]  # in order, none skipped or repeated
    # j/k move; r then u: decided and undone
    sid = current_id(page)
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert current_id(page) == sid
    page.keyboard.press("r")
    page.wait_for_selector(f"#item-{sid}.done")
    page.keyboard.press("u")
    page.wait_for_selector(f"#item-{sid}:not(.done)")
    assert "back in the queue" in page.inner_text("#queue-status")
    page.keyboard.press("?")
    assert page.locator("dialog#keys").is_visible()
    page.keyboard.press("Escape")
    with sqlite_app.db.session() as session:
        closing = session.scalar(
            select(func.count()).where(ApiReviewDecision.decision.in_(("refer", "not_in_scope")))
        )
    assert closing == 21  # 20 + the undone one (kept on record; its reopen came later)

    # page through every open item, 100 a page, by the keyboard's n
    page.goto(f"{base}/queue?sort=oldest&per_page=100")
    total = int(page.inner_text("nav.tabs .tab-open .count").replace(",", ""))
    assert total >= 2000
    pages = -(-total // 100)
    for number in range(2, pages + 1):
        page.wait_for_selector("li.item.current")  # the page's script has run
        with page.expect_navigation():
            page.keyboard.press("n")
        assert f"page={number}&" in page.url
    assert f"page {pages} of {pages}" in page.inner_text("nav.pager .range")
    assert f"of {total:,}" in page.inner_text("nav.pager .range")
    assert page.locator("li.item").count() == total - (pages - 1) * 100
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors


def test_play_a_video_and_place_a_hold_from_the_queue(
    server: tuple[str, Seeded],  # noqa: F811
    page: Any,  # noqa: F811
    sqlite_app: App,
    tmp_path: Path,
) -> None:
    base, _seeded = server
    sid = ingest_video(sqlite_app, tmp_path / "video")
    browser_log_in(page, base)
    page.goto(f"{base}/queue?q=video.test")
    video = page.locator(f"#media-{sid} video")
    assert video.get_attribute("controls") is not None
    assert video.get_attribute("autoplay") is None
    assert "blur(24px)" in video.evaluate("el => getComputedStyle(el).filter")
    assert "blur(24px)" in page.locator(f"#media-{sid} .keyframes img").evaluate(
        "el => getComputedStyle(el).filter"
    )
    assert video.evaluate("el => el.paused")
    page.click(f"button.reveal[data-target='media-{sid}']")
    assert video.evaluate("el => getComputedStyle(el).filter") == "none"
    strip = page.locator(f"#media-{sid} .keyframes img")
    strip.scroll_into_view_if_needed()
    page.wait_for_function(
        "sel => { const i = document.querySelector(sel); return i.complete && i.naturalWidth > 0; }",
        arg=f"#media-{sid} .keyframes img",
    )
    assert strip.evaluate("el => el.naturalHeight") == 90  # one row of frames
    assert strip.evaluate("el => el.naturalWidth") == 3 * 120 + 2 * 2  # 0, 2 and 4 s
    video.focus()  # the video's own controls take the keyboard: Space plays
    page.keyboard.press("Space")
    page.wait_for_function(
        "sel => document.querySelector(sel).currentTime > 0.3", arg=f"#media-{sid} video"
    )

    # hold from here: the keyboard's h opens the hold form with the item's URL
    page.locator(f"#item-{sid}").click(position={"x": 5, "y": 5})
    page.keyboard.press("h")
    page.wait_for_url("**/holds?**")
    assert page.input_value("form.add-hold input[name=value]") == "https://video.test/v/1"
    assert page.locator("a.alt-hold").count() >= 1
    page.fill("form.add-hold input[name=reason]", "open investigation (test)")
    page.click("form.add-hold button[type=submit]")
    page.wait_for_url(f"{base}/holds")
    assert "https://video.test/v/1" in page.inner_text("table.holds")
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
