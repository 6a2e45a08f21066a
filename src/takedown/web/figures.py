"""The dashboard's figures, computed from the store: one table per figure (also its CSV).

Removal times run from when a sighting was seen (``sighting.seen_at``) to when its removal
was established (``sighting.removed_at``). When the referrals package provides figures
measured from the referral instead, :func:`all_figures` uses them (see ``REFERRAL_FIGURES``).
"""

from __future__ import annotations

import csv
import importlib
import io
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from takedown.app import App
from takedown.store.models import Sighting

if TYPE_CHECKING:
    from takedown.api.scope import Viewer

#: Survival curve sample points (hours after being seen).
SURVIVAL_HOURS = (0, 1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 336, 720)
WITHIN = (("1 h", 1.0), ("24 h", 24.0), ("7 d", 168.0))
TOP_PLATFORMS = 12
#: Optional module of the referrals feature; used when it offers ``dashboard_figures(app)``.
REFERRAL_FIGURES = "takedown.referrals.figures"


#: How many of the worst removal shares the per-platform charts always keep (beside the
#: largest platforms), so a platform that removes nothing never drops off the chart.
WORST_KEPT = 4


@dataclass(frozen=True)
class Scope:
    """The dashboard's filters: seen from ``since`` (inclusive) until ``until`` (exclusive),
    in one operation."""

    since: datetime | None = None
    until: datetime | None = None
    operation: str | None = None

    def where(self) -> list[Any]:
        out: list[Any] = []
        if self.since is not None:
            out.append(Sighting.seen_at >= self.since)
        if self.until is not None:
            out.append(Sighting.seen_at < self.until)
        if self.operation:
            out.append(Sighting.operation == self.operation)
        return out


NO_SCOPE = Scope()


def keep_worst(
    rows: list[list[Any]], share_index: int, limit: int = TOP_PLATFORMS
) -> list[list[Any]]:
    """Rows (largest first) cut to ``limit``: the largest ``limit - WORST_KEPT`` and the
    ``WORST_KEPT`` lowest shares in column ``share_index`` of the rest, in the input order."""
    if len(rows) <= limit:
        return rows
    head = rows[: limit - WORST_KEPT]
    rest = sorted(rows[limit - WORST_KEPT :], key=lambda r: float(r[share_index]))
    worst = {id(r) for r in rest[:WORST_KEPT]}
    return head + [r for r in rows if id(r) in worst]


@dataclass
class Figure:
    name: str
    title: str
    kind: str  # "bars", "grouped", "boxes", "lines"
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_csv_cell(v) for v in row])
        return out.getvalue()


def _csv_cell(value: Any) -> Any:
    # spreadsheet formula injection: a cell starting with =, +, -, @ is quoted as text
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _rows(
    app: App, viewer: Viewer | None = None, scope: Scope = NO_SCOPE
) -> list[tuple[str, str, datetime | None, datetime | None, int | None]]:
    from takedown.api.scope import sighting_filter

    with app.db.session() as session:
        query = select(
            Sighting.platform_key,
            Sighting.language,
            Sighting.seen_at,
            Sighting.removed_at,
            Sighting.reupload_of_id,
        )
        if viewer is not None:
            query = query.where(sighting_filter(session, viewer))
        query = query.where(*scope.where())
        return [
            (p or "unknown", lang or "unknown", seen, removed, reup)
            for p, lang, seen, removed, reup in session.execute(query)
        ]


def _survival(durations: list[tuple[float, bool]]) -> list[tuple[float, float]]:
    """Kaplan-Meier share still online at each of SURVIVAL_HOURS (``True`` = removed)."""
    events = sorted(durations)
    at_risk = len(events)
    share = 1.0
    out: list[tuple[float, float]] = []
    i = 0
    for hour in SURVIVAL_HOURS:
        while i < len(events) and events[i][0] <= hour:
            t = events[i][0]
            removed = 0
            leaving = 0
            while i < len(events) and events[i][0] == t:
                removed += int(events[i][1])
                leaving += 1
                i += 1
            if at_risk > 0:
                share *= 1 - removed / at_risk
            at_risk -= leaving
        out.append((float(hour), round(share, 4)))
    return out


def store_figures(app: App, viewer: Viewer | None = None, scope: Scope = NO_SCOPE) -> list[Figure]:
    rows = _rows(app, viewer, scope)
    now = datetime.now(UTC)
    by_platform = Counter(r[0] for r in rows)
    top = [p for p, _n in by_platform.most_common(TOP_PLATFORMS)]
    by_language = Counter(r[1] for r in rows)
    removal: dict[str, list[float]] = defaultdict(list)
    durations: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    seen_count: Counter[str] = Counter()
    reuploads: Counter[str] = Counter()
    for platform, _lang, seen, removed, reup in rows:
        if reup is not None and seen is not None:
            reuploads[seen.date().isoformat()] += 1
        if seen is None:
            continue
        seen_count[platform] += 1
        if removed is not None:
            hours = max(0.0, (removed - seen).total_seconds() / 3600)
            removal[platform].append(hours)
            if platform in top:
                durations[platform].append((hours, True))
        elif platform in top:
            durations[platform].append((max(0.0, (now - seen).total_seconds() / 3600), False))
    figures = [
        Figure(
            "items_by_platform",
            "Items by platform",
            "bars",
            ["platform", "items"],
            [[p, n] for p, n in by_platform.most_common(TOP_PLATFORMS * 2)],
        ),
        Figure(
            "items_by_language",
            "Items by language",
            "bars",
            ["language", "items"],
            [[lang, n] for lang, n in by_language.most_common(20)],
        ),
    ]
    box_rows = []
    for p in top:
        values = sorted(removal.get(p, []))
        if values:
            box_rows.append(
                [p, len(values)]
                + [round(_quantile(values, q), 2) for q in (0.1, 0.25, 0.5, 0.75, 0.9)]
            )
    figures.append(
        Figure(
            "time_to_removal",
            "Time to removal per platform (hours: 10th, 25th, median, 75th, 90th percentile)",
            "boxes",
            ["platform", "removed", "p10_h", "p25_h", "median_h", "p75_h", "p90_h"],
            box_rows,
            note="from when the item was seen to when its removal was established",
        )
    )
    within_rows = []
    for p, _n in seen_count.most_common():
        values = removal.get(p, [])
        total = seen_count[p]
        within_rows.append(
            [p, total]
            + [
                round(sum(1 for v in values if v <= h) / total, 4) if total else 0.0
                for _l, h in WITHIN
            ]
        )
    figures.append(
        Figure(
            "removed_within",
            "Share removed within 1 h, 24 h, 7 d",
            "grouped",
            ["platform", "items", *[f"within_{label.replace(' ', '')}" for label, _h in WITHIN]],
            keep_worst(within_rows, 4),
            note="the largest platforms and always the lowest shares at 7 d",
        )
    )
    series = {p: _survival(durations[p]) for p in top[:8] if durations.get(p)}
    figures.append(
        Figure(
            "removal_survival",
            "Share still online by hours after being seen (Kaplan-Meier)",
            "lines",
            ["platform", *[f"h{h}" for h in SURVIVAL_HOURS]],
            [[p, *[s for _h, s in curve]] for p, curve in series.items()],
            series=series,
        )
    )
    days = sorted(reuploads)
    figures.append(
        Figure(
            "reuploads",
            "Re-uploads per day",
            "bars",
            ["day", "reuploads"],
            [[d, reuploads[d]] for d in days[-60:]],
        )
    )
    return figures


def referral_figures(groups: list[Any]) -> list[Figure]:
    """Time to removal measured from the referral, from ``takedown.referrals.figures.compute``.

    Each group has ``key`` (platform), ``referred`` and ``times`` (seconds from referral to
    removal, one per removed item).
    """
    box_rows: list[list[Any]] = []
    within_rows: list[list[Any]] = []
    for n, g in enumerate(groups):
        hours = sorted(float(t) / 3600 for t in g.times)
        if hours and n < TOP_PLATFORMS:
            box_rows.append(
                [g.key, len(hours)]
                + [round(_quantile(hours, q), 2) for q in (0.1, 0.25, 0.5, 0.75, 0.9)]
            )
        if g.referred:
            within_rows.append(
                [g.key, g.referred]
                + [round(sum(1 for h in hours if h <= lim) / g.referred, 4) for _l, lim in WITHIN]
            )
    note = "from when the referral was sent to when removal was established"
    return [
        Figure(
            "time_to_removal",
            "Time to removal after referral (hours: 10th, 25th, median, 75th, 90th percentile)",
            "boxes",
            ["platform", "removed", "p10_h", "p25_h", "median_h", "p75_h", "p90_h"],
            box_rows,
            note=note,
        ),
        Figure(
            "removed_within",
            "Share of referred items removed within 1 h, 24 h, 7 d of the referral",
            "grouped",
            ["platform", "referred", *[f"within_{lbl.replace(' ', '')}" for lbl, _h in WITHIN]],
            keep_worst(within_rows, 4),
            note=note + "; the largest platforms and always the lowest shares at 7 d",
        ),
    ]


@dataclass
class _Group:
    key: str
    referred: int = 0
    times: list[float] = field(default_factory=list)


def scoped_referral_groups(app: App, viewer: Viewer, scope: Scope = NO_SCOPE) -> list[_Group]:
    """Per platform: the viewer's referred sightings and their seconds from first sending to
    removal (the same measure as ``takedown.referrals.figures.compute``, over what the viewer
    may see)."""
    from takedown.api.scope import sighting_filter
    from takedown.referrals.models import Referral, ReferralItem

    groups: dict[str, _Group] = {}
    with app.db.session() as session:
        first = (
            select(ReferralItem.sighting_id, func.min(Referral.sent_at).label("sent_at"))
            .join(Referral, Referral.id == ReferralItem.referral_id)
            .where(Referral.sent_at.is_not(None))
            .group_by(ReferralItem.sighting_id)
            .subquery()
        )
        rows = session.execute(
            select(Sighting.platform_key, Sighting.removed_at, first.c.sent_at)
            .join(first, first.c.sighting_id == Sighting.id)
            .where(sighting_filter(session, viewer), *scope.where())
        )
        for platform, removed_at, sent_at in rows:
            group = groups.setdefault(platform or "(none)", _Group(platform or "(none)"))
            group.referred += 1
            if removed_at is not None:
                group.times.append(max((removed_at - sent_at).total_seconds(), 0.0))
    return sorted(groups.values(), key=lambda g: (-g.referred, g.key))


def all_figures(app: App, viewer: Viewer | None = None, scope: Scope = NO_SCOPE) -> list[Figure]:
    """The store's figures; where referrals exist, removal times are counted from the referral.

    Uses ``takedown.referrals.figures``: ``dashboard_figures(app)`` (ready-made figures) if it
    has it, else ``compute(app)`` (per-platform groups, see :func:`referral_figures`). With a
    ``viewer`` (every face passes one), only the sightings it may see are counted.
    """
    figures = store_figures(app, viewer, scope)
    if viewer is not None:
        scoped = scoped_referral_groups(app, viewer, scope)
        extra = {f.name: f for f in referral_figures(scoped)} if scoped else {}
        return [extra.pop(f.name, f) for f in figures] + list(extra.values())
    try:
        module = importlib.import_module(REFERRAL_FIGURES)
    except ImportError:
        return figures
    provider = getattr(module, "dashboard_figures", None)
    compute = getattr(module, "compute", None)
    if callable(provider):
        extra = {f.name: f for f in provider(app) if isinstance(f, Figure)}
    elif callable(compute):
        groups = [g for g in compute(app) if getattr(g, "referred", 0)]
        extra = {f.name: f for f in referral_figures(groups)} if groups else {}
    else:
        return figures
    return [extra.pop(f.name, f) for f in figures] + list(extra.values())


def figure(
    app: App, name: str, viewer: Viewer | None = None, scope: Scope = NO_SCOPE
) -> Figure | None:
    for item in all_figures(app, viewer, scope):
        if item.name == name:
            return item
    return None


def platform_table(
    app: App, viewer: Viewer | None = None, scope: Scope = NO_SCOPE
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Headline figures and one row per platform: items, removed, removed share, still live,
    median hours from seen to removed; worst removal shares first, flagged ``worst``."""
    rows = _rows(app, viewer, scope)
    per: dict[str, dict[str, Any]] = {}
    all_hours: list[float] = []
    for platform, _lang, seen, removed, reup in rows:
        row = per.setdefault(
            platform,
            {"platform": platform, "items": 0, "removed": 0, "reuploads": 0, "hours": []},
        )
        row["items"] += 1
        row["reuploads"] += int(reup is not None)
        if removed is not None:
            row["removed"] += 1
            if seen is not None:
                hours = max(0.0, (removed - seen).total_seconds() / 3600)
                row["hours"].append(hours)
                all_hours.append(hours)
    table = []
    for row in per.values():
        taken = sorted(row.pop("hours"))
        row["live"] = row["items"] - row["removed"]
        row["share"] = row["removed"] / row["items"] if row["items"] else 0.0
        row["median_h"] = _quantile(taken, 0.5) if taken else None
        table.append(row)
    table.sort(key=lambda r: (r["share"], -r["items"], r["platform"]))
    shares = sorted({r["share"] for r in table if r["items"] >= 1})
    for row in table:
        row["worst"] = row["share"] == 0.0 or (len(table) > 3 and row["share"] in shares[:1])
    total = len(rows)
    removed = sum(r["removed"] for r in table)
    all_hours.sort()
    headline = {
        "items": total,
        "removed": removed,
        "share": removed / total if total else None,
        "live": total - removed,
        "median_h": _quantile(all_hours, 0.5) if all_hours else None,
        "reuploads": sum(r["reuploads"] for r in table),
        "platforms": len(table),
        "none_removed": sum(1 for r in table if r["removed"] == 0),
    }
    return headline, table
