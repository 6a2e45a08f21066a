"""Operation reports and period transparency reports (TCO Regulation Art. 7 and 8).

Both are plain dictionaries first (the JSON output), rendered to HTML (every text escaped) or
PDF (reportlab), with charts drawn by matplotlib (Agg) as PNG images. Removal figures use the
referrals package's definitions and arithmetic (``takedown.referrals.figures.Group``): time to
removal runs from the first *sent* referral of an item to its ``removed_at``; shares within
1 h / 24 h / 7 d are of all referred items.

Transparency figures for a period [from, to):

* Art. 8 (authority): removal orders issued (sent in the period); of those, the ones that led
  to removal, removed within the hour (deadline met), and scrutiny decisions recorded in the
  period (upheld / revoked, from the referral events).
* Art. 7 (platform): items removed in the period; orders sent in the period not acted on,
  grouped by state and stated reason; complaints received in the period and their outcome;
  reinstatements in the period (upheld complaints and ``reinstated`` referral events).
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from takedown.ops.dedup import link_new
from takedown.ops.models import OpsComplaint, OpsSightingLink
from takedown.ops.operations import get_operation, operation_rows, participants, primaries_of
from takedown.referrals.figures import Group
from takedown.referrals.machine import ORDER
from takedown.referrals.models import Referral, ReferralEvent, ReferralItem
from takedown.referrals.routing import _label_strings as label_strings
from takedown.store.models import BankEntry, Match, Sighting, utcnow

FORMATS = ("json", "html", "pdf")
TOP = 15


# -- shared pieces ------------------------------------------------------------------------------
def _first_sent(session: Session, ids: Select[Any]) -> dict[int, datetime]:
    """The time each sighting of ``ids`` (a subquery) was first sent in a referral."""
    out: dict[int, datetime] = {}
    for sid, sent in session.execute(
        select(ReferralItem.sighting_id, func.min(Referral.sent_at))
        .join(Referral, Referral.id == ReferralItem.referral_id)
        .where(Referral.sent_at.is_not(None), ReferralItem.sighting_id.in_(ids))
        .group_by(ReferralItem.sighting_id)
    ):
        if sent is not None:
            out[sid] = sent
    return out


def _removal(
    removed: dict[int, datetime | None] | dict[int, datetime],
    sent: dict[int, datetime],
    key: str = "(all)",
) -> dict[str, Any]:
    """Removal figures of items (id -> removed_at) whose first referral went out at ``sent``."""
    group = Group(key)
    for sid, sent_at in sent.items():
        group.referred += 1
        removed_at = removed.get(sid)
        if removed_at is not None:
            group.removed += 1
            group.times.append(max((removed_at - sent_at).total_seconds(), 0.0))
    out = group.as_dict(live_limit=0)
    out.pop("still_live_items", None)
    out.pop("orders", None)
    out.pop("orders_missed_deadline", None)
    return out


def _labels(session: Session, ids: Select[Any]) -> dict[int, list[str]]:
    """Labels of the bank entries each sighting of ``ids`` (a subquery), or its content,
    matched: the rule of ``referrals.routing.labels_of``, as two joins instead of id lists."""
    out: dict[int, set[str]] = defaultdict(set)
    for on in (Match.content_id == Sighting.content_id, Match.sighting_id == Sighting.id):
        for sid, labels in session.execute(
            select(Sighting.id, BankEntry.labels)
            .join(Match, on)
            .join(BankEntry, BankEntry.id == Match.bank_entry_id)
            .where(Match.state == "active", Sighting.id.in_(ids))
        ):
            out[sid].update(label_strings(labels))
    return {k: sorted(v) for k, v in out.items()}


def _counted(counter: Counter[str], limit: int | None = None) -> list[dict[str, Any]]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"key": k, "count": v} for k, v in (items if limit is None else items[:limit])]


# -- operation report ---------------------------------------------------------------------------
def operation_report(session: Session, name: str) -> dict[str, Any]:
    operation = get_operation(session, name)
    rows = operation_rows(session, operation.name)
    primaries = primaries_of(session, rows)
    items = sorted(primaries)
    item_ids = (
        select(OpsSightingLink.primary_id)
        .join(Sighting, Sighting.id == OpsSightingLink.sighting_id)
        .where(Sighting.operation == operation.name)
    )
    sent = _first_sent(session, item_ids)
    removed = {pid: p.removed_at for pid, p in primaries.items()}
    labels = _labels(session, item_ids)
    by_platform: dict[str, Counter[str]] = defaultdict(Counter)
    by_language: dict[str, Counter[str]] = defaultdict(Counter)
    per_item_platform: dict[int, str] = {}
    per_item_language: dict[int, str] = {}
    agencies: Counter[str] = Counter()
    for row in rows:
        per_item_platform.setdefault(row.primary_id, row.platform)
        per_item_language.setdefault(row.primary_id, row.language)
        agencies[row.agency or "(unknown)"] += 1
    for pid in items:
        for table, key in ((by_platform, per_item_platform), (by_language, per_item_language)):
            counter = table[key.get(pid, "(none)")]
            counter["items"] += 1
            counter["referred"] += pid in sent
            counter["removed"] += removed.get(pid) is not None
    outlets: Counter[str] = Counter()
    label_counts: Counter[str] = Counter()
    for pid in items:
        for label in labels.get(pid, []):
            label_counts[label] += 1
            if label.startswith("outlet:"):
                outlets[label.removeprefix("outlet:")] += 1
    reuploads = [r for r in rows if r.reupload]
    materials = {r.material for r in rows}
    removal = _removal(removed, sent)
    report: dict[str, Any] = {
        "kind": "operation",
        "operation": operation.name,
        "starts_at": operation.starts_at.isoformat(),
        "ends_at": operation.ends_at.isoformat(),
        "closed_at": operation.closed_at.isoformat() if operation.closed_at else None,
        "final_digest": operation.final_digest,
        "participants": participants(session, operation),
        "targets": operation.targets or {},
        "generated_at": utcnow().isoformat(),
        "summary": {
            "sightings": len(rows),
            "items": len(items),
            "duplicates_across_agencies": len(rows) - len(items),
            "unique_material": len(materials),
            "platforms": len({r.platform for r in rows}),
            "languages": len({r.language for r in rows if r.language != "(none)"}),
            "referred": removal["referred"],
            "removed": removal["removed"],
            "share_removed": removal["share_removed"],
            "median_seconds_to_removal": removal["median_seconds"],
            "p90_seconds_to_removal": removal["p90_seconds"],
            "share_removed_within_1h": removal["share_within_1h"],
            "share_removed_within_24h": removal["share_within_24h"],
            "share_removed_within_7d": removal["share_within_7d"],
            "reuploads": len(reuploads),
        },
        "by_platform": _table(by_platform),
        "by_language": _table(by_language),
        "by_agency": _counted(agencies),
        "by_outlet": _counted(outlets),
        "by_label": _counted(label_counts),
    }
    return report


def _table(groups: dict[str, Counter[str]]) -> list[dict[str, Any]]:
    rows = [
        {
            "key": key,
            "items": c["items"],
            "referred": c["referred"],
            "removed": c["removed"],
            "share_removed": round(c["removed"] / c["referred"], 6) if c["referred"] else None,
        }
        for key, c in groups.items()
    ]
    return sorted(rows, key=lambda r: (-r["items"], r["key"]))


# -- transparency report ------------------------------------------------------------------------
def transparency_report(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the period must carry a time zone (UTC)")
    if end <= start:
        raise ValueError("--to must come after --from")
    link_new(session)
    orders = list(
        session.scalars(
            select(Referral).where(
                Referral.kind == ORDER, Referral.sent_at >= start, Referral.sent_at < end
            )
        )
    )
    scrutiny = Counter(
        event
        for (event,) in session.execute(
            select(ReferralEvent.event).where(
                ReferralEvent.event.in_(
                    ("scrutiny_requested", "scrutiny_upheld", "scrutiny_revoked")
                ),
                ReferralEvent.at >= start,
                ReferralEvent.at < end,
            )
        )
    )
    not_acted: Counter[str] = Counter()
    for order in orders:
        if order.removed_at is None:
            why = order.reason or {
                "paused": "paused (impossibility or missing information reported)",
                "revoked": "revoked after scrutiny",
                "sent": "no answer yet",
                "received": "received, not acted on",
                "issued": "not sent",
            }.get(order.state, order.state)
            not_acted[f"{order.state}: {why}"] += 1
    # items removed in the period (primaries only: an item reported twice is removed once)
    removed_query = (
        select(Sighting.id)
        .join(OpsSightingLink, OpsSightingLink.sighting_id == Sighting.id)
        .where(OpsSightingLink.primary_id == OpsSightingLink.sighting_id)
        .where(Sighting.removed_at >= start, Sighting.removed_at < end)
    )
    removed_rows = session.execute(
        removed_query.add_columns(Sighting.platform_key, Sighting.language)
    ).all()
    removed_ids = [r[0] for r in removed_rows]
    labels = _labels(session, removed_query)
    breakdown = {
        "platform": Counter(r[1] or "(none)" for r in removed_rows),
        "language": Counter(r[2] or "(none)" for r in removed_rows),
        "outlet": Counter(
            label.removeprefix("outlet:")
            for sid in removed_ids
            for label in labels.get(sid, [])
            if label.startswith("outlet:")
        ),
        "label": Counter(label for sid in removed_ids for label in labels.get(sid, [])),
    }
    order_items = session.execute(
        select(ReferralItem.referral_id, Sighting.platform_key, Sighting.language)
        .join(Sighting, Sighting.id == ReferralItem.sighting_id)
        .where(ReferralItem.referral_id.in_([o.id for o in orders] or [-1]))
    ).all()
    orders_by_platform: Counter[str] = Counter()
    orders_by_language: Counter[str] = Counter()
    seen_pairs: set[tuple[int, str, str]] = set()
    for rid, platform, language in order_items:
        for kind, value in (("p", platform or "(none)"), ("l", language or "(none)")):
            if (rid, kind, value) in seen_pairs:
                continue
            seen_pairs.add((rid, kind, value))
            (orders_by_platform if kind == "p" else orders_by_language)[value] += 1
    complaints = list(
        session.scalars(
            select(OpsComplaint).where(
                OpsComplaint.received_at >= start, OpsComplaint.received_at < end
            )
        )
    )
    outcome = Counter(c.outcome or "pending" for c in complaints)
    reinstated_complaints = session.scalar(
        select(func.count())
        .select_from(OpsComplaint)
        .where(OpsComplaint.reinstated_at >= start, OpsComplaint.reinstated_at < end)
    )
    reinstated_events = session.scalar(
        select(func.count())
        .select_from(ReferralEvent)
        .where(
            ReferralEvent.event == "reinstated",
            ReferralEvent.at >= start,
            ReferralEvent.at < end,
        )
    )
    sent_in_period: dict[int, datetime] = {}
    removed_at: dict[int, datetime | None] = {}
    for sid, sent, gone in session.execute(
        select(ReferralItem.sighting_id, func.min(Referral.sent_at), Sighting.removed_at)
        .join(Referral, Referral.id == ReferralItem.referral_id)
        .join(Sighting, Sighting.id == ReferralItem.sighting_id)
        .where(Referral.sent_at >= start, Referral.sent_at < end)
        .group_by(ReferralItem.sighting_id, Sighting.removed_at)
    ):
        if sent is not None:
            sent_in_period[sid], removed_at[sid] = sent, gone
    return {
        "kind": "transparency",
        "from": start.isoformat(),
        "to": end.isoformat(),
        "generated_at": utcnow().isoformat(),
        "authority_art8": {
            "removal_orders_issued": len(orders),
            "led_to_removal": sum(o.removed_at is not None for o in orders),
            "removed_within_one_hour": sum(o.deadline_met is True for o in orders),
            "scrutiny_requested": scrutiny["scrutiny_requested"],
            "scrutiny_decisions": scrutiny["scrutiny_upheld"] + scrutiny["scrutiny_revoked"],
            "scrutiny_upheld": scrutiny["scrutiny_upheld"],
            "scrutiny_revoked": scrutiny["scrutiny_revoked"],
            "orders_by_platform": _counted(orders_by_platform),
            "orders_by_language": _counted(orders_by_language),
        },
        "platform_art7": {
            "items_removed": len(removed_rows),
            "orders_not_acted_on": sum(not_acted.values()),
            "orders_not_acted_on_why": _counted(not_acted),
            "complaints": len(complaints),
            "complaints_upheld": outcome["upheld"],
            "complaints_rejected": outcome["rejected"],
            "complaints_pending": outcome["pending"],
            "complaints_answered_in_time": sum(
                c.decided_at is not None and c.decided_at <= c.deadline for c in complaints
            ),
            "reinstatements": int(reinstated_complaints or 0),
            "referral_reinstatement_events": int(reinstated_events or 0),
        },
        "referrals": _removal(removed_at, sent_in_period),
        "removed_by_platform": _counted(breakdown["platform"]),
        "removed_by_language": _counted(breakdown["language"]),
        "removed_by_outlet": _counted(breakdown["outlet"]),
        "removed_by_label": _counted(breakdown["label"]),
    }


# -- charts -------------------------------------------------------------------------------------
def bar_chart(title: str, rows: Iterable[tuple[str, float]]) -> bytes:
    """A horizontal bar chart as PNG bytes (matplotlib, Agg backend, no display)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    data = list(rows)[:TOP]
    figure = Figure(figsize=(6.4, 0.35 * max(len(data), 3) + 1.0), dpi=100)
    axes = figure.add_subplot()
    labels = [_short(k) for k, _ in data][::-1]
    values = [v for _, v in data][::-1]
    axes.barh(range(len(values)), values, color="#3465a4")
    axes.set_yticks(range(len(values)), labels, fontsize=8)
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _short(text: str, width: int = 40) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= width else text[: width - 1] + "…"


def charts(report: dict[str, Any]) -> list[tuple[str, bytes]]:
    if report["kind"] == "operation":
        specs = [
            ("Items by platform", report["by_platform"], "items"),
            ("Items by language", report["by_language"], "items"),
        ]
    else:
        specs = [
            ("Items removed by platform", report["removed_by_platform"], "count"),
            ("Items removed by language", report["removed_by_language"], "count"),
        ]
    return [
        (title, bar_chart(title, [(r["key"], r[field]) for r in rows]))
        for title, rows, field in specs
        if rows
    ]


# -- rendering ----------------------------------------------------------------------------------
def _sections(report: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    """The report as titled tables of strings (shared by HTML and PDF)."""

    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, list):
            return ", ".join(fmt(v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
        return str(value)

    def pairs(mapping: dict[str, Any]) -> list[list[str]]:
        return [
            [k.replace("_", " "), fmt(v)] for k, v in mapping.items() if not isinstance(v, list)
        ]

    def listing(rows: list[dict[str, Any]]) -> list[list[str]]:
        if not rows:
            return [["(none)"]]
        head = list(rows[0])
        return [head] + [[fmt(r[k]) for k in head] for r in rows]

    out: list[tuple[str, list[list[str]]]] = []
    if report["kind"] == "operation":
        out.append(
            (
                "Operation",
                [
                    ["name", report["operation"]],
                    ["from", report["starts_at"]],
                    ["to", report["ends_at"]],
                    ["closed", fmt(report["closed_at"])],
                    ["participants", fmt(report["participants"])],
                    ["targets", fmt(report["targets"])],
                    ["frozen record digest", fmt(report["final_digest"])],
                ],
            )
        )
        out.append(("Summary", pairs(report["summary"])))
        for key in ("by_platform", "by_language", "by_agency", "by_outlet", "by_label"):
            out.append((key.replace("_", " ").capitalize(), listing(report[key])))
    else:
        out.append(("Period", [["from", report["from"]], ["to", report["to"]]]))
        out.append(("Authority figures (TCO Art. 8)", pairs(report["authority_art8"])))
        for key in ("orders_by_platform", "orders_by_language"):
            out.append((key.replace("_", " ").capitalize(), listing(report["authority_art8"][key])))
        out.append(("Platform figures (TCO Art. 7)", pairs(report["platform_art7"])))
        out.append(
            (
                "Orders not acted on, and why",
                listing(report["platform_art7"]["orders_not_acted_on_why"]),
            )
        )
        out.append(("Referrals sent in the period", pairs(report["referrals"])))
        for key in (
            "removed_by_platform",
            "removed_by_language",
            "removed_by_outlet",
            "removed_by_label",
        ):
            out.append((key.replace("_", " ").capitalize(), listing(report[key])))
    return out


def _title(report: dict[str, Any]) -> str:
    if report["kind"] == "operation":
        return f"Operation report: {report['operation']}"
    return f"Transparency report {report['from'][:10]} – {report['to'][:10]}"


def render_html(report: dict[str, Any]) -> bytes:
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{esc(_title(report))}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style>",
        f"</head><body><h1>{esc(_title(report))}</h1>",
        f"<p>Generated {esc(report['generated_at'])}</p>",
    ]
    for title, rows in _sections(report):
        parts.append(f"<h2>{esc(title)}</h2><table>")
        for i, row in enumerate(rows):
            cell = (
                "th"
                if i == 0 and len(rows) > 1 and title.startswith(("By", "Orders", "Removed"))
                else "td"
            )
            parts.append("<tr>" + "".join(f"<{cell}>{esc(c)}</{cell}>" for c in row) + "</tr>")
        parts.append("</table>")
    for title, png in charts(report):
        data = base64.b64encode(png).decode()
        parts.append(
            f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{data}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts).encode()


def render_pdf(report: dict[str, Any]) -> bytes:
    import importlib

    colors = importlib.import_module("reportlab.lib.colors")
    A4 = importlib.import_module("reportlab.lib.pagesizes").A4
    getSampleStyleSheet = importlib.import_module("reportlab.lib.styles").getSampleStyleSheet
    cm = importlib.import_module("reportlab.lib.units").cm
    platypus = importlib.import_module("reportlab.platypus")
    Image, Paragraph, Spacer = platypus.Image, platypus.Paragraph, platypus.Spacer
    SimpleDocTemplate, Table, TableStyle = (
        platypus.SimpleDocTemplate,
        platypus.Table,
        platypus.TableStyle,
    )
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=_title(report), author="Takedown")
    story: list[Any] = [Paragraph(escape(_title(report)), styles["Title"])]
    story.append(Paragraph(escape(f"Generated {report['generated_at']}"), styles["Normal"]))
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    for title, rows in _sections(report):
        story.append(Paragraph(escape(title), styles["Heading2"]))
        data = [[Paragraph(escape(_short(c, 300)), cell) for c in row] for row in rows]
        width = (A4[0] - 4 * cm) / max(len(rows[0]), 1)
        table = Table(data, colWidths=[width] * len(rows[0]), repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
        story.append(table)
        story.append(Spacer(1, 0.3 * cm))
    for title, png in charts(report):
        story.append(Paragraph(escape(title), styles["Heading2"]))
        image = Image(io.BytesIO(png))
        scale = min(1.0, (A4[0] - 4 * cm) / image.drawWidth)
        image.drawWidth *= scale
        image.drawHeight *= scale
        story.append(image)
    doc.build(story)
    return out.getvalue()


def render(report: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        import json

        return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()
    if fmt == "html":
        return render_html(report)
    if fmt == "pdf":
        return render_pdf(report)
    raise ValueError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
