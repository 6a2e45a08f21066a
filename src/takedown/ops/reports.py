"""Operation reports and period transparency reports (TCO Regulation Art. 7 and 8).

Both are plain dictionaries first (the JSON output), rendered by :mod:`takedown.ops.render`
to HTML (every text escaped) or PDF (reportlab), with charts drawn by matplotlib (Agg).
Removal figures use the referrals package's definitions and arithmetic
(``takedown.referrals.figures.Group``): time to removal runs from the first *sent* referral of
an item to its ``removed_at``; shares within 1 h / 24 h / 7 d are of all referred items.

Transparency figures for a period [from, to):

* Art. 8 (authority): removal orders issued (sent in the period); of those, the ones that led
  to removal, removed within the hour (deadline met), and scrutiny decisions recorded in the
  period (upheld / revoked, from the referral events).
* Art. 7 (platform): items removed in the period; orders sent in the period not acted on,
  grouped by state and stated reason; complaints received in the period and their outcome;
  reinstatements in the period (upheld complaints and ``reinstated`` referral events).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from takedown.jobs import task
from takedown.ops.dedup import link_new
from takedown.ops.models import OpsComplaint, OpsSightingLink
from takedown.ops.operations import get_operation, operation_rows, participants, primaries_of
from takedown.ops.render import FORMATS, bar_chart, charts, render, render_html, render_pdf
from takedown.referrals.figures import Group
from takedown.referrals.machine import ORDER
from takedown.referrals.models import Referral, ReferralEvent, ReferralItem
from takedown.referrals.routing import _label_strings as label_strings
from takedown.store.models import BankEntry, Match, Sighting, utcnow

__all__ = [
    "FORMATS",
    "bar_chart",
    "charts",
    "operation_report",
    "render",
    "render_html",
    "render_pdf",
    "transparency_report",
]


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
            # removed after a referral, as in the summary (an item a platform took down on its
            # own is not a referral's result, and would push the share over 1)
            counter["referred"] += pid in sent
            counter["removed"] += pid in sent and removed.get(pid) is not None
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
def transparency_report(
    session: Session, start: datetime, end: datetime, *, visible: Select[Any] | None = None
) -> dict[str, Any]:
    """The period's figures; with ``visible`` (a sub-select of sighting ids, e.g.
    ``takedown.api.scope.visible_ids``) only those sightings count, and only the orders,
    scrutiny and reinstatement events and complaints that concern one of them."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the period must carry a time zone (UTC)")
    if end <= start:
        raise ValueError("--to must come after --from")
    link_new(session)
    seen: Any = Sighting.id.is_not(None)  # every sighting, unless scoped
    of_referral: Any = Referral.id.is_not(None)
    of_event: Any = ReferralEvent.id.is_not(None)
    of_complaint: Any = OpsComplaint.id.is_not(None)
    if visible is not None:
        seen = Sighting.id.in_(visible)
        ids = select(ReferralItem.referral_id).where(ReferralItem.sighting_id.in_(visible))
        of_referral = Referral.id.in_(ids)
        of_event = ReferralEvent.referral_id.in_(ids)
        of_complaint = OpsComplaint.sighting_id.in_(visible)
    orders = list(
        session.scalars(
            select(Referral).where(
                Referral.kind == ORDER,
                Referral.sent_at >= start,
                Referral.sent_at < end,
                of_referral,
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
                of_event,
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
        .where(Sighting.removed_at >= start, Sighting.removed_at < end, seen)
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
        .where(ReferralItem.referral_id.in_([o.id for o in orders] or [-1]), seen)
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
                OpsComplaint.received_at >= start, OpsComplaint.received_at < end, of_complaint
            )
        )
    )
    outcome = Counter(c.outcome or "pending" for c in complaints)
    reinstated_complaints = session.scalar(
        select(func.count())
        .select_from(OpsComplaint)
        .where(OpsComplaint.reinstated_at >= start, OpsComplaint.reinstated_at < end, of_complaint)
    )
    reinstated_events = session.scalar(
        select(func.count())
        .select_from(ReferralEvent)
        .where(
            ReferralEvent.event == "reinstated",
            ReferralEvent.at >= start,
            ReferralEvent.at < end,
            of_event,
        )
    )
    sent_in_period: dict[int, datetime] = {}
    removed_at: dict[int, datetime | None] = {}
    for sid, sent, gone in session.execute(
        select(ReferralItem.sighting_id, func.min(Referral.sent_at), Sighting.removed_at)
        .join(Referral, Referral.id == ReferralItem.referral_id)
        .join(Sighting, Sighting.id == ReferralItem.sighting_id)
        .where(Referral.sent_at >= start, Referral.sent_at < end, seen)
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


MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
}


@task("reports.build")
def build_task(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """Build an operation or transparency report and store it (``job_file``) for download.

    Arguments that cannot make a report (an unknown operation, a bad period) are a result
    (``{"error"}``), not a failed job: running it again would not help.
    """
    from takedown.jobs.results import put_file
    from takedown.ops.agencies import OpsError
    from takedown.store.audit import acting_as

    kind, fmt = args.get("kind"), args.get("format")
    if kind not in ("operation", "transparency") or fmt not in FORMATS:
        raise ValueError(f"reports.build: unknown kind or format in {dict(args)!r}")
    try:
        with acting_as(str(args.get("actor") or "worker")), app.db.session() as session:
            if kind == "operation":
                data = operation_report(session, str(args.get("operation")))
            else:
                start = datetime.fromisoformat(str(args.get("start")))
                end = datetime.fromisoformat(str(args.get("end")))
                data = transparency_report(session, start, end)
    except (OpsError, ValueError) as exc:
        return {"error": str(exc)}
    marking = args.get("marking")
    body = render(data, fmt, str(marking) if marking is not None else None)
    with app.db.engine.begin() as conn:
        file_id = put_file(conn, "report", f"{data['kind']}.{fmt}", body, MEDIA_TYPES[fmt])
    return {"file_id": file_id, "kind": data["kind"], "format": fmt, "bytes": len(body)}
