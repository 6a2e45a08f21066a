"""Charts of the workspace's report pages, as SVG images (served with the media CSP).

* ``/reports/chart/operation/{figure}.svg?name=``: a figure of the operation report of an
  operation the user's agency takes part in (others are 404, like the page).
* ``/reports/chart/transparency/{figure}.svg?from=&to=``: a figure of the period's
  transparency report, counting only what the user may see (the page's own scoping and
  period rule; a period that is none is 400).

Each figure is built from the same report dictionary the page shows
(:mod:`takedown.ops.reports`) and drawn by :mod:`takedown.web.svg`, which escapes every label
and title (operation, platform, language and agency names are hostile text). The operation
name travels in the query, not the path: a name may hold ``/``, so a path form would shadow
the report page of an operation named like ``x/chart/y.svg``. ``report.html`` links the
figures that apply with ``<img>`` tags.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from takedown.api.scope import visible_ids
from takedown.web import svg
from takedown.web.figures import Figure
from takedown.web.ops_pages import _day, _member_operation
from takedown.web.views import User, _app, _svg, needs, viewer_of

router = APIRouter(include_in_schema=False)
FigureName = Annotated[str, PathParam(min_length=1, max_length=40)]
Report = dict[str, Any]
Builders = dict[str, Callable[[], Figure]]
#: most rows one chart shows (the page's table lists them all; the title says when cut)
MAX_ROWS = 25
WITHIN = (("1h", "within 1 h"), ("24h", "within 24 h"), ("7d", "within 7 d"))
OPERATION_FIGURES = (
    "platforms",
    "shares",
    "languages",
    "agencies",
    "removal",
    "time_to_removal",
)
TRANSPARENCY_FIGURES = (
    "orders",
    "complaints",
    "orders_by_platform",
    "removed_by_platform",
    "removal",
    "time_to_removal",
)


def _missing(what: str) -> Response:
    return Response(what, status_code=404, media_type="text/plain")


def _cut(title: str, rows: list[Any]) -> str:
    return f"{title} (first {MAX_ROWS} of {len(rows)})" if len(rows) > MAX_ROWS else title


def _counts(name: str, title: str, columns: list[str], rows: list[tuple[Any, Any]]) -> Figure:
    """Bars of counts (``svg.bars``), the first MAX_ROWS rows."""
    return Figure(name, _cut(title, rows), "bars", columns, [[k, v] for k, v in rows[:MAX_ROWS]])


def _listing(name: str, title: str, key: str, what: str, rows: list[dict[str, Any]]) -> Figure:
    """Bars of one column of a report listing (rows of ``{"key": ..., what: n}``)."""
    return _counts(name, title, [key, what], [(r["key"], r[what]) for r in rows])


def _within(title: str, removal: dict[str, Any]) -> Figure:
    """Shares of the referred items removed, and removed within 1 h, 24 h, 7 d of the
    referral (``svg.grouped``: one group; none when nothing was referred)."""
    referred = int(removal.get("referred") or 0)
    keys = ["share_removed"] + [f"share_within_{w}" for w, _label in WITHIN]
    shares = [float(removal.get(k) or 0.0) for k in keys]
    rows = [[f"referred items (n={referred})", referred, *shares]] if referred else []
    labels = ["removed"] + [label for _w, label in WITHIN]
    return Figure("removal", title, "grouped", ["items", "referred", *labels], rows)


def _time_to_removal(title: str, median: Any, p90: Any) -> Figure:
    """Bars of the median and 90th percentile hours from referral to removal (if any)."""
    rows = [
        (label, round(float(seconds) / 3600, 2))
        for label, seconds in (("median", median), ("90th percentile", p90))
        if seconds is not None
    ]
    return _counts("time_to_removal", title, ["measure", "hours"], rows)


# -- operation report ---------------------------------------------------------------------------
def _shares(report: Report, end: str) -> Figure:
    """Per platform: the share of its items referred and removed (``svg.grouped``)."""
    listed = [r for r in report["by_platform"] if r["items"]]
    rows = [
        [
            f"{r['key']} (n={r['items']})",
            r["items"],
            r["referred"] / r["items"],
            r["removed"] / r["items"],
        ]
        for r in listed[:MAX_ROWS]
    ]
    title = _cut("Share of items referred and removed, by platform", listed) + end
    return Figure("shares", title, "grouped", ["platform", "items", "referred", "removed"], rows)


def _operation_figures(report: Report) -> Builders:
    summary = report["summary"]
    end = f": {report['operation']}"  # escaped by svg.py, and cut first when too long
    removal = {
        "referred": summary["referred"],
        "share_removed": summary["share_removed"],
        **{f"share_within_{w}": summary[f"share_removed_within_{w}"] for w, _l in WITHIN},
    }
    return {
        "platforms": lambda: _listing(
            "platforms", "Items by platform" + end, "platform", "items", report["by_platform"]
        ),
        "shares": lambda: _shares(report, end),
        "languages": lambda: _listing(
            "languages", "Items by language" + end, "language", "items", report["by_language"]
        ),
        "agencies": lambda: _listing(
            "agencies", "Sightings by agency" + end, "agency", "count", report["by_agency"]
        ),
        "removal": lambda: _within("Referred items removed, and how fast" + end, removal),
        "time_to_removal": lambda: _time_to_removal(
            "Hours from referral to removal" + end,
            summary["median_seconds_to_removal"],
            summary["p90_seconds_to_removal"],
        ),
    }


# -- transparency report ------------------------------------------------------------------------
def _measures(report: dict[str, Any], keys: tuple[str, ...]) -> list[tuple[Any, Any]]:
    return [(key.replace("_", " "), report[key]) for key in keys]


def _transparency_figures(report: Report) -> Builders:
    art8, art7, referrals = report["authority_art8"], report["platform_art7"], report["referrals"]
    orders = (
        "removal_orders_issued",
        "led_to_removal",
        "removed_within_one_hour",
        "scrutiny_requested",
        "scrutiny_upheld",
        "scrutiny_revoked",
    )
    complaints = (
        "complaints",
        "complaints_upheld",
        "complaints_rejected",
        "complaints_pending",
        "complaints_answered_in_time",
        "reinstatements",
    )
    return {
        "orders": lambda: _counts(
            "orders",
            "Removal orders sent in the period, and their outcome (TCO Art. 8)",
            ["measure", "count"],
            _measures(art8, orders),
        ),
        "complaints": lambda: _counts(
            "complaints",
            "Complaints received in the period, and reinstatements (TCO Art. 7)",
            ["measure", "count"],
            _measures(art7, complaints),
        ),
        "orders_by_platform": lambda: _listing(
            "orders_by_platform",
            "Removal orders by platform",
            "platform",
            "count",
            art8["orders_by_platform"],
        ),
        "removed_by_platform": lambda: _listing(
            "removed_by_platform",
            "Items removed in the period, by platform",
            "platform",
            "count",
            report["removed_by_platform"],
        ),
        "removal": lambda: _within(
            "Referrals sent in the period: items removed, and how fast", referrals
        ),
        "time_to_removal": lambda: _time_to_removal(
            "Hours from referral to removal (referrals sent in the period)",
            referrals.get("median_seconds"),
            referrals.get("p90_seconds"),
        ),
    }


def report_figure(report: Report, name: str) -> Figure | None:
    """The figure ``name`` of an operation or transparency report (None: no such figure)."""
    if report.get("kind") == "operation":
        builders = _operation_figures(report)
    else:
        builders = _transparency_figures(report)
    build = builders.get(name)
    return build() if build is not None else None


# -- routes -------------------------------------------------------------------------------------
@router.get("/reports/chart/operation/{figure}.svg", response_model=None, **needs("read"))
def operation_chart(
    request: Request,
    user: User,
    figure: FigureName,
    name: Annotated[str, Query(min_length=1, max_length=200)],
) -> Response:
    from takedown.ops.agencies import OpsError
    from takedown.ops.reports import operation_report

    if figure not in OPERATION_FIGURES:
        return _missing("no such chart")
    with _app(request).db.session() as session:
        if not _member_operation(session, viewer_of(user), name):
            return _missing("no such operation")
        try:
            report = operation_report(session, name)
        except OpsError:
            return _missing("no such operation")
    found = report_figure(report, figure)
    if found is None:
        return _missing("no such chart")
    return _svg(svg.render(found))


def _period(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """The transparency page's period (default: this calendar year); None if it is none."""
    today = datetime.now(UTC).date()
    first = _day(start, date(today.year, 1, 1))
    last = _day(end, date(today.year + 1, 1, 1))
    if first is None or last is None or last <= first:
        return None
    return (
        datetime(first.year, first.month, first.day, tzinfo=UTC),
        datetime(last.year, last.month, last.day, tzinfo=UTC),
    )


@router.get("/reports/chart/transparency/{figure}.svg", response_model=None, **needs("read"))
def transparency_chart(
    request: Request,
    user: User,
    figure: FigureName,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    from takedown.ops.reports import transparency_report

    if figure not in TRANSPARENCY_FIGURES:
        return _missing("no such chart")
    period = _period(start, end)
    if period is None:
        return Response(
            "give the period as two dates, from before to (YYYY-MM-DD)",
            status_code=400,
            media_type="text/plain",
        )
    with _app(request).db.session() as session:
        visible = visible_ids(session, viewer_of(user))
        report = transparency_report(session, *period, visible=visible)
    found = report_figure(report, figure)
    if found is None:
        return _missing("no such chart")
    return _svg(svg.render(found))
