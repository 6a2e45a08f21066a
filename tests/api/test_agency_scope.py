"""An agency sees its own sightings and its operations' — nothing else (issue #6, point 1).

One table over the route list and one over the page list: a key or user of an agency that is
not in the operation gets nothing (404 or empty lists) on every route and page, while the
owner gets the data (so the table cannot pass by showing nothing to anyone). A route or page
missing from the tables fails the test: a new one must say what it shows to whom.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from takedown.api.app import create_app, route_table
from takedown.api.auth import create_key
from takedown.app import App
from takedown.referrals.models import Referral
from tests.api.conftest import bearer
from tests.api.scope_world import OPERATION, OTHER, OUTLET, PASSWORD, World, build
from tests.web.conftest import log_in

Check = Callable[[httpx.Response], None]


@dataclass
class Case:
    """One route: how to call it and what the other agency (and the owner) must get."""

    url: str
    other: Check
    owner: Check | None = None  # None: no owner-side control (side effects or shared data)
    kwargs: dict[str, Any] = field(default_factory=dict)


def hidden(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text[:500]


def ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text[:500]


def _lists(value: Any) -> list[list[Any]]:
    if isinstance(value, list):
        return [value] + [x for v in value for x in _lists(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _lists(v)]
    return []


def empty_data(response: httpx.Response) -> None:
    ok(response)
    data = response.json()["data"]
    assert data == [] or all(not lst for lst in _lists(data) if lst != data), data


def empty_figures(response: httpx.Response) -> None:
    ok(response)
    assert all(f["rows"] == [] for f in response.json()["data"])


def some_figures(response: httpx.Response) -> None:
    ok(response)
    assert any(f["rows"] for f in response.json()["data"])


def some_data(response: httpx.Response) -> None:
    ok(response)
    assert response.json()["data"], response.text[:300]


def no_content_hits(response: httpx.Response) -> None:
    ok(response)
    data = response.json()["data"]
    results = data.get("results", [data])
    assert all(r["content_matches"] == [] for r in results)
    assert any(r["bank_matches"] for r in results)  # bank hits stay shared


def content_hits(response: httpx.Response) -> None:
    ok(response)
    data = response.json()["data"]
    assert any(r["content_matches"] for r in data.get("results", [data]))


def created(response: httpx.Response) -> None:
    assert response.status_code == 201, response.text[:300]


def status(code: int) -> Check:
    def check(response: httpx.Response) -> None:
        assert response.status_code == code, response.text[:300]

    return check


def client_error(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500 and response.status_code != 403, response.text


def contains(text: str) -> Check:
    def check(response: httpx.Response) -> None:
        assert response.status_code == 200, response.text[:300]
        assert text in response.text, text

    return check


def nothing_sent(response: httpx.Response) -> None:
    ok(response)
    assert response.json()["data"] == {"queued": 0, "sent": 0, "failed": 0}


def all_skipped(response: httpx.Response) -> None:
    """A bulk decision on another agency's items decides none of them."""
    assert response.status_code == 200, response.text[:300]
    assert response.json()["message"].endswith(": 0 item(s), 1 skipped"), response.text[:300]


def redirect_to(prefix: str) -> Check:
    def check(response: httpx.Response) -> None:
        assert response.status_code == 303, response.text[:300]
        assert response.headers["location"].startswith(prefix)

    return check


def api_cases(w: World) -> dict[tuple[str, str], Case]:
    s = w.seeded
    pdq = {"signal_type": "pdq", "value": s.pdq}
    image = {"file": ("k.png", s.known_image.read_bytes(), "image/png")}
    ref = w.references[0]
    v1 = "/api/v1"
    return {
        ("GET", f"{v1}/sightings"): Case(f"{v1}/sightings", empty_data, some_data),
        ("GET", f"{v1}/sightings/{{sighting_id}}"): Case(
            f"{v1}/sightings/{s.sighting_ids[0]}", hidden, ok
        ),
        ("POST", f"{v1}/sightings"): Case(
            f"{v1}/sightings", created, kwargs={"json": {"url": "https://x.com/b/status/77"}}
        ),
        ("POST", f"{v1}/sightings/upload"): Case(
            f"{v1}/sightings/upload", created, kwargs={"files": image}
        ),
        ("POST", f"{v1}/sightings/batch"): Case(
            f"{v1}/sightings/batch",
            created,
            kwargs={"files": {"file": ("b.txt", b"https://x.com/b/status/78\n")}},
        ),
        ("GET", f"{v1}/content/{{content_id}}"): Case(f"{v1}/content/{w.content_id}", hidden, ok),
        # sharing (takedown.access.shares): only the reporting agency shares its sighting
        ("POST", f"{v1}/sightings/{{sighting_id}}/share"): Case(
            f"{v1}/sightings/{s.sighting_ids[0]}/share", hidden, kwargs={"json": {"agency": OTHER}}
        ),
        ("POST", f"{v1}/sightings/{{sighting_id}}/share/withdraw"): Case(
            f"{v1}/sightings/{s.sighting_ids[0]}/share/withdraw",
            hidden,
            kwargs={"json": {"agency": OTHER}},
        ),
        ("GET", f"{v1}/lookup"): Case(
            f"{v1}/lookup", no_content_hits, content_hits, kwargs={"params": pdq}
        ),
        ("POST", f"{v1}/lookup"): Case(
            f"{v1}/lookup",
            no_content_hits,
            content_hits,
            kwargs={"json": {"signal_type": "pdq", "values": [s.pdq]}},
        ),
        ("POST", f"{v1}/lookup/batch"): Case(
            f"{v1}/lookup/batch",
            no_content_hits,
            content_hits,
            kwargs={"json": {"signal_type": "pdq", "hashes": [[s.pdq]]}},
        ),
        # whether this process's lookup index is loaded: no agency's data in it
        ("GET", f"{v1}/lookup/ready"): Case(f"{v1}/lookup/ready", ok),
        ("POST", f"{v1}/lookup/file"): Case(
            f"{v1}/lookup/file", no_content_hits, content_hits, kwargs={"files": image}
        ),
        # banks are shared hash lists: visible to every agency by design
        ("GET", f"{v1}/banks"): Case(f"{v1}/banks", ok),
        ("POST", f"{v1}/banks"): Case(f"{v1}/banks", created, kwargs={"json": {"name": "b-own"}}),
        ("GET", f"{v1}/banks/{{name}}"): Case(f"{v1}/banks/{s.bank}", ok),
        ("GET", f"{v1}/banks/{{name}}/entries"): Case(f"{v1}/banks/{s.bank}/entries", ok),
        ("POST", f"{v1}/banks/{{name}}/entries"): Case(
            f"{v1}/banks/b-own/entries",
            ok,
            kwargs={"json": {"entries": [{"signal_type": "pdq", "value": "0" * 64}]}},
        ),
        ("DELETE", f"{v1}/banks/{{name}}/entries/{{entry_id}}"): Case(
            f"{v1}/banks/b-own/entries/{w.entry_id}", hidden
        ),
        ("GET", f"{v1}/clusters"): Case(f"{v1}/clusters", empty_data, some_data),
        ("GET", f"{v1}/clusters/{{cluster_id}}"): Case(f"{v1}/clusters/{s.cluster_id}", hidden, ok),
        ("GET", f"{v1}/figures"): Case(f"{v1}/figures", empty_figures, some_figures),
        ("GET", f"{v1}/referrals"): Case(f"{v1}/referrals", empty_data, some_data),
        ("GET", f"{v1}/referrals/{{reference}}"): Case(f"{v1}/referrals/{ref}", hidden, ok),
        # the platform side answers "for platform keys" to every agency key alike
        ("GET", f"{v1}/platform/referrals"): Case(f"{v1}/platform/referrals", status(403)),
        ("GET", f"{v1}/platform/referrals/{{reference}}"): Case(
            f"{v1}/platform/referrals/{ref}", status(403)
        ),
        ("POST", f"{v1}/referrals/{{reference}}/answer"): Case(
            f"{v1}/referrals/{ref}/answer", hidden, kwargs={"json": {"status": "acknowledged"}}
        ),
        ("POST", f"{v1}/referrals/send"): Case(f"{v1}/referrals/send", nothing_sent),
        ("GET", f"{v1}/checks"): Case(f"{v1}/checks", empty_data, some_data),
        ("POST", f"{v1}/referrals/callback"): Case(
            f"{v1}/referrals/callback", client_error, kwargs={"content": b"{}"}
        ),
        **ops_api_cases(w),
        **hma_api_cases(w),
    }


def hma_api_cases(w: World) -> dict[tuple[str, str], Case]:
    """The HMA-compatible routes (takedown.api.hma) answer with bank hits only (shared by
    design) and hashes of the caller's own upload: the same for every agency."""
    s, hma = w.seeded, "/api/hma"
    image = {"file": ("k.png", s.known_image.read_bytes(), "image/png")}
    pdq = {"signal_type": "pdq", "signal": s.pdq}
    none = f"{hma}/c/bank/B_NONE"
    return {
        ("GET", f"{hma}/status"): Case(f"{hma}/status", contains("I-AM-ALIVE")),
        ("GET", f"{hma}/status/live"): Case(f"{hma}/status/live", contains("I-AM-ALIVE")),
        ("GET", f"{hma}/status/ready"): Case(f"{hma}/status/ready", contains("I-AM-ALIVE")),
        ("GET", f"{hma}/h/hash"): Case(f"{hma}/h/hash", status(400)),
        ("POST", f"{hma}/h/hash"): Case(f"{hma}/h/hash", ok, kwargs={"files": image}),
        ("GET", f"{hma}/m/lookup"): Case(f"{hma}/m/lookup", ok, kwargs={"params": pdq}),
        ("GET", f"{hma}/m/raw_lookup"): Case(f"{hma}/m/raw_lookup", ok, kwargs={"params": pdq}),
        ("POST", f"{hma}/m/lookup"): Case(f"{hma}/m/lookup", ok, kwargs={"files": image}),
        ("POST", f"{hma}/m/compare"): Case(
            f"{hma}/m/compare", ok, kwargs={"json": {"pdq": [s.pdq, s.pdq]}}
        ),
        ("GET", f"{hma}/m/index/status"): Case(f"{hma}/m/index/status", ok),
        ("GET", f"{hma}/c/banks"): Case(f"{hma}/c/banks", ok),
        ("POST", f"{hma}/c/banks"): Case(
            f"{hma}/c/banks", created, kwargs={"json": {"name": "B_HMA"}}
        ),
        ("GET", f"{hma}/c/bank/{{bank_name}}"): Case(f"{hma}/c/bank/{s.bank}", ok),
        ("PUT", f"{hma}/c/bank/{{bank_name}}"): Case(
            none, hidden, kwargs={"json": {"enabled": True}}
        ),
        ("DELETE", f"{hma}/c/bank/{{bank_name}}"): Case(none, hidden),
        ("POST", f"{hma}/c/bank/{{bank_name}}/signal"): Case(
            f"{none}/signal", hidden, kwargs={"json": {"pdq": s.pdq}}
        ),
        ("POST", f"{hma}/c/bank/{{bank_name}}/content"): Case(
            f"{none}/content", hidden, kwargs={"files": image}
        ),
        ("DELETE", f"{hma}/c/bank/{{bank_name}}/content/{{content_id}}"): Case(
            f"{none}/content/{w.entry_id}", hidden
        ),
    }


def ops_api_cases(w: World) -> dict[tuple[str, str], Case]:
    """Operations and holds (takedown.ops.api): A's operation is its world's first (id 1)."""
    v1, op = "/api/v1/operations", f"/api/v1/operations/{1}"
    now = datetime.now(UTC)
    own_op = {"name": "b-op", "starts_at": now.isoformat(), "ends_at": f"{now:%Y}-12-31T23:00Z"}
    own_hold = {"kind": "domain", "value": "b-own.example", "reason": "ours", "days": 1}
    return {
        ("GET", v1): Case(v1, empty_data, contains("Op-Alpha")),
        ("POST", v1): Case(v1, created, kwargs={"json": own_op}),
        ("GET", f"{v1}/{{operation_id}}"): Case(op, hidden, contains("Op-Alpha")),
        ("GET", f"{v1}/{{operation_id}}/board"): Case(f"{op}/board", hidden, contains("Op-Alpha")),
        ("GET", f"{v1}/{{operation_id}}/report"): Case(
            f"{op}/report", hidden, contains("Op-Alpha")
        ),
        ("POST", f"{v1}/{{operation_id}}/agencies"): Case(
            f"{op}/agencies", hidden, kwargs={"json": {"agency": "Other Unit"}}
        ),
        ("POST", f"{v1}/{{operation_id}}/close"): Case(f"{op}/close", hidden),
        ("GET", "/api/v1/holds"): Case("/api/v1/holds", empty_data, contains("SECRET-REASON")),
        ("POST", "/api/v1/holds"): Case("/api/v1/holds", created, kwargs={"json": own_hold}),
        ("POST", "/api/v1/holds/{hold_id}/lift"): Case(f"/api/v1/holds/{w.hold_id}/lift", hidden),
        **complaints_api_cases(w),
    }


def complaints_api_cases(w: World) -> dict[tuple[str, str], Case]:
    """Complaints and assignments (takedown.ops.complaints_api). The owner's calls run first,
    in key order: its POST records complaint 1 (about A's sighting) and decides it, so B then
    asks for a complaint that exists."""
    v1, op = "/api/v1/complaints", "/api/v1/operations/{operation_id}/assignments"
    complaint = {
        "sighting_id": w.seeded.sighting_ids[0],
        "complainant": "uploader",
        "grounds": "SECRET-REASON news reporting",
    }
    decision = {"json": {"outcome": "upheld", "reason": "context"}}
    assign = {"json": {"user": "ana", "platforms": ["x"]}}
    return {
        ("GET", v1): Case(v1, empty_data, ok),
        ("POST", v1): Case(v1, hidden, created, kwargs={"json": complaint}),
        ("GET", f"{v1}/{{complaint_id}}"): Case(f"{v1}/1", hidden),
        ("POST", f"{v1}/{{complaint_id}}/decision"): Case(f"{v1}/1/decision", hidden, ok, decision),
        ("GET", op): Case("/api/v1/operations/1/assignments", hidden, ok),
        ("POST", op): Case("/api/v1/operations/1/assignments", hidden, ok, assign),
    }


def page_cases(w: World) -> dict[tuple[str, str], Case]:
    s = w.seeded
    sid, cluster = s.sighting_ids[1], s.cluster_id
    return {
        ("GET", "/"): Case("/", redirect_to("/queue")),
        ("GET", "/queue"): Case("/queue", ok, contains("x.com/b/status/2")),
        ("POST", "/queue/{sighting_id}/decision"): Case(
            f"/queue/{sid}/decision", hidden, kwargs={"data": {"decision": "refer"}}
        ),
        ("GET", "/material/{cluster_id}"): Case(f"/material/{cluster}", hidden, ok),
        ("GET", "/material/{cluster_id}/timeline.svg"): Case(
            f"/material/{cluster}/timeline.svg", hidden, ok
        ),
        ("GET", "/referrals"): Case("/referrals", ok, contains(w.references[0])),
        ("POST", "/referrals/send"): Case("/referrals/send", redirect_to("/referrals?sent=0")),
        ("GET", "/dashboard"): Case("/dashboard", ok, ok),
        ("GET", "/dashboard/{name}.svg"): Case(
            "/dashboard/items_by_platform.svg", ok, contains("telegram")
        ),
        ("GET", "/dashboard/{name}.csv"): Case(
            "/dashboard/items_by_platform.csv", contains("platform,items\n"), contains("telegram")
        ),
        ("GET", "/media/{content_id}"): Case(f"/media/{w.content_id}", hidden, ok),
        # an image: no keyframe strip for anyone; another agency's: 404 before that
        ("GET", "/media/{content_id}/strip.png"): Case(
            f"/media/{w.content_id}/strip.png", hidden, hidden
        ),
        ("POST", "/queue/bulk"): Case(
            "/queue/bulk",
            all_skipped,
            kwargs={
                "data": {"decision": "not_in_scope", "ids": [sid]},
                "headers": {"Accept": "application/json"},
            },
        ),
        ("GET", "/operations"): Case("/operations", ok, contains("Op-Alpha")),
        ("GET", "/operations/{name:path}"): Case(
            f"/operations/{quote(OPERATION, safe='')}", hidden, contains("Op-Alpha")
        ),
        ("GET", "/reports/operation/{name:path}"): Case(
            f"/reports/operation/{quote(OPERATION, safe='')}", hidden, contains("Op-Alpha")
        ),
        ("GET", "/reports/chart/operation/{figure}.svg"): Case(
            "/reports/chart/operation/platforms.svg",
            hidden,
            contains("Op-Alpha &lt;b&gt;48h&lt;/b&gt;"),
            kwargs={"params": {"name": OPERATION}},
        ),
        ("GET", "/reports/chart/transparency/{figure}.svg"): Case(
            "/reports/chart/transparency/removed_by_platform.svg",
            contains("no data yet"),
            contains('text-anchor="end">x</text>'),
            kwargs={"params": {"from": "2026-01-01", "to": "2027-01-01"}},
        ),
        ("GET", "/reports/transparency"): Case(
            "/reports/transparency", ok, contains("Transparency report")
        ),
        ("GET", "/holds"): Case("/holds", ok, contains("SECRET-REASON")),
        ("POST", "/holds"): Case(
            "/holds",
            redirect_to("/holds"),
            kwargs={"data": {"kind": "domain", "value": "own.example", "reason": "ours"}},
        ),
        ("POST", "/holds/{hold_id}/lift"): Case(f"/holds/{w.hold_id}/lift", hidden),
        ("GET", "/complaints"): Case("/complaints", ok, ok),
        ("POST", "/complaints"): Case(
            "/complaints",
            redirect_to(f"/complaints?error=no%20sighting%20{sid}"),
            kwargs={"data": {"sighting_id": str(sid), "complainant": "c", "grounds": "g"}},
        ),
        ("POST", "/complaints/{complaint_id}/decision"): Case(
            "/complaints/1/decision", hidden, kwargs={"data": {"outcome": "upheld", "reason": "x"}}
        ),
        ("GET", "/operations/{name:path}/assignments"): Case(
            f"/operations/{quote(OPERATION, safe='')}/assignments", hidden, contains("Op-Alpha")
        ),
        # the role check comes first (an analyst may not assign): 403, nothing shown
        ("POST", "/operations/{name:path}/assignments"): Case(
            f"/operations/{quote(OPERATION, safe='')}/assignments",
            status(403),
            kwargs={"data": {"user": "olga", "platforms": "x"}},
        ),
        # the job queue is the administrators' page: an analyst is refused before anything
        ("GET", "/jobs"): Case("/jobs", status(403)),
        ("POST", "/jobs/retry"): Case("/jobs/retry", status(403)),
        ("GET", "/infra"): Case("/infra", ok, contains("Outlet-Zeta")),
        ("GET", "/infra/picture.svg"): Case(
            "/infra/picture.svg", hidden, contains("<svg"), kwargs={"params": {"outlet": OUTLET}}
        ),
        ("GET", "/infra/{outlet:path}"): Case(
            f"/infra/{quote(OUTLET, safe='')}", hidden, contains("Outlet-Zeta")
        ),
    }


def _no_leak(w: World, response: httpx.Response, where: Any) -> None:
    asked = str(response.request.url)  # an error may echo what was asked, nothing more
    for marker in w.markers:
        if quote(marker, safe="") not in asked and marker not in asked:
            assert marker not in response.text, (where, marker)


def test_another_agency_gets_nothing_on_any_api_route(app: App, tmp_path: Path) -> None:
    w = build(app, tmp_path)
    api = create_app(app)
    cases = api_cases(w)
    listed = {
        (method, path)
        for path, methods, _extra in route_table(api)
        if path.startswith("/api/") and path != "/api/v1/openapi.json"
        for method in methods
    }
    missing = sorted(listed - set(cases))
    assert not missing, f"classify these routes in api_cases (who sees what): {missing}"
    with app.db.session() as session:
        referrals_before = session.scalar(select(func.count(Referral.id)))
    with TestClient(api) as client:
        for key in sorted(cases):
            case = cases[key]
            if case.owner is not None:
                case.owner(
                    client.request(key[0], case.url, headers=bearer(w.owner_key), **case.kwargs)
                )
        for key in sorted(cases):
            case = cases[key]
            response = client.request(key[0], case.url, headers=bearer(w.other_key), **case.kwargs)
            case.other(response)
            _no_leak(w, response, key)
        # a platform key (lookup, its own referrals) sees no one's sightings either
        plat = bearer(w.platform_key)
        by_hash = client.get(
            "/api/v1/lookup", params={"signal_type": "pdq", "value": w.seeded.pdq}, headers=plat
        )
        no_content_hits(by_hash)
        assert client.get("/api/v1/platform/referrals", headers=plat).json()["data"] == []
        hidden(client.get(f"/api/v1/platform/referrals/{w.references[0]}", headers=plat))
    with app.db.session() as session:  # nothing of A's was sent or drafted by B
        assert session.scalar(select(func.count(Referral.id))) == referrals_before
        assert (
            session.scalar(select(func.count(Referral.id)).where(Referral.sent_at.is_not(None)))
            == 0
        )


def test_another_agency_gets_nothing_on_any_page(app: App, tmp_path: Path) -> None:
    w = build(app, tmp_path)
    api = create_app(app)
    cases = page_cases(w)
    listed = {
        (method, path)
        for path, methods, _extra in route_table(api)
        if not path.startswith(("/api/", "/static", "/login", "/logout"))
        for method in methods
    }
    missing = sorted(listed - set(cases))
    assert not missing, f"classify these pages in page_cases (who sees what): {missing}"
    for username, owner in (("ana", True), ("olga", False)):
        with TestClient(api) as client:
            log_in(client, username, PASSWORD)
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/queue").text)
            assert csrf
            for key in sorted(cases):
                case = cases[key]
                check = case.owner if owner else case.other
                if check is None:
                    continue
                kwargs = dict(case.kwargs)
                if key[0] == "POST":
                    kwargs["data"] = {**kwargs.get("data", {}), "csrf": csrf.group(1)}
                response = client.request(key[0], case.url, follow_redirects=False, **kwargs)
                check(response)
                if owner:  # hostile names render inert
                    assert "<img src=x" not in response.text and "<b>48h" not in response.text
                else:
                    _no_leak(w, response, key)


def test_unowned_sightings_follow_the_single_unit_rule(app: App, tmp_path: Path) -> None:
    from takedown.api.scope import Viewer, visible_ids
    from takedown.evidence.ingest import Ingestor
    from takedown.ops.agencies import create_agency
    from tests.api.seed import seed

    seeded = seed(app, tmp_path / "seed")  # owned by "Test IRU", the only agency
    source = tmp_path / "stray.txt"
    source.write_text("https://x.com/stray/status/5\n")
    Ingestor(app).ingest(source, "urls", reporter="unregistered")
    key = create_key(app, "a", ["read"], agency="Test IRU").secret

    def seen(viewer: Viewer) -> set[int]:
        with app.db.session() as session:
            return set(session.scalars(visible_ids(session, viewer)))

    with TestClient(create_app(app)) as client:
        listed = client.get("/api/v1/sightings?limit=500", headers=bearer(key)).json()["data"]
        urls = {s["url"] for s in listed}
        assert "https://x.com/stray/status/5" in urls  # one unit: unowned is its own
        with app.db.session() as session:
            create_agency(session, "Second Unit")
        listed = client.get("/api/v1/sightings?limit=500", headers=bearer(key)).json()["data"]
        assert {s["id"] for s in listed} == set(seeded.sighting_ids)
    stray = seen(Viewer(None))
    assert len(stray) == 1 and not stray & set(seeded.sighting_ids)  # no agency: unowned only
    assert seen(Viewer(None, platform_key="x")) == set()
