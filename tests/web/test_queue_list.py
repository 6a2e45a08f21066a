"""The queue as a work list over HTTP: tabs and counts, filters, search, pages, undo, bulk,
"hold from here" and the hold form keeping what was typed."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from takedown.app import App
from tests.api.seed import Seeded
from tests.web.conftest import csrf_of
from tests.web.queue_data import add_open_items


def count_of(html: str, tab: str) -> int:
    found = re.search(rf'class="tab-{tab}"[^>]*>[^<]*<span class="count">([\d,]+)</span>', html)
    assert found, tab
    return int(found.group(1).replace(",", ""))


def item_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="item" id="item-(\d+)"', html)]


def test_tabs_count_and_page_every_open_item(app: App, web: TestClient, seeded: Seeded) -> None:
    first = web.get("/queue").text
    opened = count_of(first, "open")
    assert opened == len(seeded.sighting_ids)
    assert count_of(first, "known") + count_of(first, "new") >= opened - count_of(first, "reupload")
    added = add_open_items(app, 120, operation="Day one")
    page1 = web.get("/queue", params={"tab": "new", "per_page": 50})
    assert count_of(page1.text, "open") == opened + 120
    assert count_of(page1.text, "new") >= 120
    total = count_of(page1.text, "new")
    assert f"of {total} · page 1 of {-(-total // 50)}" in page1.text
    seen: list[int] = []
    for number in range(1, -(-total // 50) + 1):
        html = web.get("/queue", params={"tab": "new", "per_page": 50, "page": number}).text
        seen.extend(item_ids(html))
    assert set(added) <= set(seen) and len(seen) == len(set(seen)) == total
    # known material: the seeded bank hits, none of the URL-only leads
    known = item_ids(web.get("/queue", params={"tab": "known"}).text)
    assert known and not set(known) & set(added)
    # filters and sort
    day = web.get("/queue", params={"operation": "Day one", "sort": "oldest", "per_page": 10})
    assert item_ids(day.text) == added[:10]
    newest = web.get("/queue", params={"operation": "Day one", "sort": "newest", "per_page": 10})
    assert item_ids(newest.text) == added[::-1][:10]
    assert count_of(day.text, "open") == 120
    assert "English (en)" in day.text  # the language filter names languages


def test_search_by_url_text_and_hash(app: App, web: TestClient, seeded: Seeded) -> None:
    added = add_open_items(app, 30, prefix="srch")
    assert item_ids(web.get("/queue", params={"q": "srch/17"}).text) == [added[17]]
    assert item_ids(web.get("/queue", params={"q": "lead srch 23"}).text) == [added[23]]
    hits = item_ids(web.get("/queue", params={"q": f"pdq:{seeded.pdq}"}).text)
    assert set(hits) == set(seeded.sighting_ids[:3])  # the three copies of the banked image
    assert item_ids(web.get("/queue", params={"q": "%"}).text) == []  # a literal, not a wildcard


def test_decide_undo_and_bulk(app: App, web: TestClient, seeded: Seeded) -> None:
    added = add_open_items(app, 5, prefix="undo")
    html = web.get("/queue").text
    csrf = csrf_of(html)
    target = added[0]
    answer = web.post(
        f"/queue/{target}/decision",
        data={"csrf": csrf, "decision": "not_in_scope"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200 and answer.json()["ok"]
    assert target not in item_ids(web.get("/queue", params={"per_page": 100}).text)
    decided = web.get("/queue", params={"tab": "decided"}).text
    assert f'id="item-{target}"' in decided and count_of(decided, "decided") == 1
    # undo: a later "reopen" decision puts it back; both decisions stay on record
    back = web.post(
        f"/queue/{target}/decision",
        data={"csrf": csrf, "decision": "reopen", "back": "/queue?tab=decided"},
        follow_redirects=False,
    )
    assert back.status_code == 303 and back.headers["location"] == "/queue?tab=decided"
    assert target in item_ids(web.get("/queue", params={"per_page": 100}).text)
    # the redirect goes back to the queue only
    away = web.post(
        f"/queue/{target}/decision",
        data={"csrf": csrf, "decision": "second_review", "back": "//evil.test/queue"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/queue"
    # bulk: refer three; a fourth id the user cannot see is skipped
    bulk = web.post(
        "/queue/bulk",
        data={"csrf": csrf, "decision": "refer", "ids": [*added[1:4], 2**30]},
        headers={"Accept": "application/json"},
    )
    assert bulk.json()["message"] == "Refer: 3 item(s), 1 skipped"
    left = item_ids(web.get("/queue", params={"per_page": 100}).text)
    assert not set(added[1:4]) & set(left) and added[4] in left
    refused = web.post("/queue/bulk", data={"csrf": csrf, "decision": "reopen", "ids": [added[4]]})
    assert refused.status_code == 400


def test_hold_from_the_queue_prefills_and_keeps_input(web: TestClient, seeded: Seeded) -> None:
    html = web.get("/queue").text
    links = re.findall(r'class="hold-link" href="([^"]+)"', html)
    assert links
    link = links[0].replace("&amp;", "&")
    form = web.get(link).text
    assert re.search(r'name="value"[^>]*value="https://', form)
    assert "alt-hold" in form  # sha256/pdq of the item offered too
    csrf = csrf_of(form)
    typed = {
        "csrf": csrf,
        "kind": "url",
        "value": "not a url at all",
        "reason": "op X",
        "days": "7",
    }
    error = web.post("/holds", data=typed)
    assert error.status_code == 400 and 'role="alert"' in error.text
    assert 'value="not a url at all"' in error.text and 'value="op X"' in error.text
