"""The review queue as a work list: tabs, filters, search, sort, counts and pages.

Every open sighting the viewer may see is scored (:func:`takedown.web.queue.score`) from a
few light columns, so counts and the priority order are exact over any number of items; the
heavy part (content rows, match evidence, text previews) is loaded for one page only.

Tabs: ``open`` (everything undecided), ``new`` (no bank hit, no earlier copy, not a
re-upload: leads nobody has seen), ``known`` (a bank hit or an earlier copy), ``reupload``
(re-uploads of removed material) and ``decided`` (closed by ``refer`` or ``not_in_scope``,
newest decision first). A sighting's state is its *latest* decision, so an ``undo`` (the
decision ``reopen``) puts it back in the queue while every decision stays on record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from takedown.api.models import ApiReviewDecision, ApiUser
from takedown.api.scope import Viewer, sighting_filter, visible_content_ids
from takedown.app import App
from takedown.ops.models import OpsAssignment, OpsOperation
from takedown.store.models import Bank, BankEntry, Content, Match, Sighting, Signal
from takedown.web.queue import CLOSING, QueueItem, evidence_for, score

TABS = {
    "open": "All open",
    "new": "New leads",
    "known": "Known material",
    "reupload": "Re-uploads",
    "decided": "Decided",
}
SORTS = {"priority": "Priority", "newest": "Newest seen", "oldest": "Oldest seen"}
PER_PAGE = (10, 25, 50, 100)
REOPEN = "reopen"
_HASH = re.compile(r"^(?:[a-z0-9_]+:)?([0-9a-f]{8,256})$")


@dataclass
class QueueQuery:
    tab: str = "open"
    operation: str = ""
    platform: str = ""
    language: str = ""
    mine: bool = False
    q: str = ""
    sort: str = "priority"
    page: int = 1
    per_page: int = 25

    def normalised(self) -> QueueQuery:
        self.tab = self.tab if self.tab in TABS else "open"
        self.sort = self.sort if self.sort in SORTS else "priority"
        self.per_page = self.per_page if self.per_page in PER_PAGE else 25
        self.page = max(1, self.page)
        self.q = self.q.strip()
        return self

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query string's parameters (defaults left out), with ``changes`` applied."""
        values = {
            "tab": self.tab,
            "operation": self.operation,
            "platform": self.platform,
            "language": self.language,
            "mine": "1" if self.mine else "",
            "q": self.q,
            "sort": self.sort,
            "page": self.page,
            "per_page": self.per_page,
        }
        values.update(changes)
        defaults = {"tab": "open", "sort": "priority", "page": 1, "per_page": 25}
        return {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}


@dataclass
class DecidedRow:
    sighting: Sighting
    content: Content | None
    decision: str
    by: str | None
    at: Any


@dataclass
class QueuePage:
    query: QueueQuery
    counts: dict[str, int]
    total: int
    pages: int
    items: list[QueueItem] = field(default_factory=list)
    decided: list[DecidedRow] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    assigned: bool = False


def latest_decisions() -> Any:
    """A subquery: each decided sighting's latest decision (``sighting_id``, ``decision``,
    ``id``)."""
    last = (
        select(func.max(ApiReviewDecision.id).label("id"))
        .group_by(ApiReviewDecision.sighting_id)
        .subquery()
    )
    return (
        select(ApiReviewDecision.sighting_id, ApiReviewDecision.decision, ApiReviewDecision.id)
        .where(ApiReviewDecision.id.in_(select(last.c.id)))
        .subquery()
    )


def closed_ids() -> Any:
    latest = latest_decisions()
    return select(latest.c.sighting_id).where(latest.c.decision.in_(CLOSING))


def _mine(session: Session, user_id: int | None) -> tuple[ColumnElement[bool], bool]:
    """What the user's operation assignments cover (operation × platforms × languages)."""
    rows = session.execute(
        select(OpsOperation.name, OpsAssignment.platforms, OpsAssignment.languages)
        .join(OpsOperation, OpsOperation.id == OpsAssignment.operation_id)
        .where(OpsAssignment.user_id == user_id)
    ).all()
    parts: list[ColumnElement[bool]] = []
    for name, platforms, languages in rows:
        terms = [Sighting.operation == name]
        if platforms:
            terms.append(Sighting.platform_key.in_([str(p) for p in platforms]))
        if languages:
            terms.append(Sighting.language.in_([str(lang) for lang in languages]))
        parts.append(and_(*terms))
    return (or_(*parts) if parts else false()), bool(rows)


def _search(q: str) -> ColumnElement[bool]:
    """URL, account or notes containing ``q``; or a content hash (SHA-256/MD5 prefix) or
    a signal value (``pdq:…`` or the bare hex) equal to it."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    terms: list[ColumnElement[bool]] = [
        Sighting.url.ilike(like, escape="\\"),
        Sighting.account.ilike(like, escape="\\"),
        Sighting.notes.ilike(like, escape="\\"),
    ]
    found = _HASH.match(q.lower())
    if found:
        hexed = found.group(1)
        terms.append(
            Sighting.content_id.in_(
                select(Content.id).where(
                    or_(Content.sha256.startswith(hexed), Content.md5.startswith(hexed))
                )
            )
        )
        terms.append(
            Sighting.content_id.in_(select(Signal.content_id).where(Signal.value == hexed))
        )
    return or_(*terms)


def _filters(
    session: Session, viewer: Viewer, query: QueueQuery, user_id: int | None
) -> tuple[list[ColumnElement[bool]], bool]:
    where: list[ColumnElement[bool]] = [sighting_filter(session, viewer)]
    if query.operation:
        where.append(Sighting.operation == query.operation)
    if query.platform:
        where.append(Sighting.platform_key == query.platform)
    if query.language:
        where.append(Sighting.language == query.language)
    assigned = False
    if query.mine:
        mine, assigned = _mine(session, user_id)
        where.append(mine)
    if query.q:
        where.append(_search(query.q))
    return where, assigned


def _options(session: Session, viewer: Viewer) -> tuple[list[str], list[str], list[str]]:
    seen = sighting_filter(session, viewer)
    out = []
    for column in (Sighting.operation, Sighting.platform_key, Sighting.language):
        values = session.scalars(
            select(column).where(seen, column.is_not(None)).distinct().order_by(column).limit(500)
        )
        out.append([str(v) for v in values])
    return out[0], out[1], out[2]


def _scored(
    session: Session, viewer: Viewer, where: list[ColumnElement[bool]]
) -> list[tuple[int, float, dict[str, float], str, Any, bool, bool, bool]]:
    """Every open sighting under ``where``: (id, score, parts, seen, ..., known, copy,
    re-upload), from light columns and two grouped match queries."""
    open_rows = select(Sighting.id).where(*where, Sighting.id.not_in(closed_ids()))
    rows = session.execute(
        select(
            Sighting.id,
            Sighting.content_id,
            Sighting.reupload_of_id,
            Sighting.extra,
            Sighting.seen_at,
        ).where(Sighting.id.in_(open_rows))
    ).all()
    contents = select(Sighting.content_id).where(Sighting.id.in_(open_rows))
    labels: dict[int, dict[str, Any]] = {}
    for content_id, entry_labels in session.execute(
        select(Match.content_id, BankEntry.labels)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(
            Match.content_id.in_(contents),
            Match.state == "active",
            Bank.allow_list.is_(False),
        )
        .order_by(Match.distance, Match.id)
    ):
        if content_id is not None and content_id not in labels:
            labels[content_id] = dict(entry_labels or {})
    copies = set(
        session.scalars(
            select(Match.content_id)
            .where(
                Match.content_id.in_(contents),
                Match.state == "active",
                Match.other_content_id.in_(visible_content_ids(session, viewer)),
            )
            .distinct()
        )
    )
    out = []
    for sid, content_id, reupload_of, extra, seen in rows:
        known = content_id in labels
        copy = content_id in copies
        total, parts = score(
            known, known or copy, labels.get(content_id, {}), bool(reupload_of), extra
        )
        out.append((sid, total, parts, seen, extra, known, copy, reupload_of is not None))
    return out


def _in_tab(tab: str, known: bool, copy: bool, reupload: bool) -> bool:
    if tab == "new":
        return not (known or copy or reupload)
    if tab == "known":
        return known or copy
    if tab == "reupload":
        return reupload
    return True


def _order(
    rows: list[tuple[int, float, dict[str, float], str, Any, bool, bool, bool]], sort: str
) -> list[int]:
    if sort == "priority":
        rows = sorted(rows, key=lambda r: (-r[1], -r[0]))
    else:
        newest = sort == "newest"
        stamped = [r for r in rows if r[3] is not None]
        stamped.sort(key=lambda r: (r[3], r[0]), reverse=newest)
        rows = stamped + sorted((r for r in rows if r[3] is None), key=lambda r: -r[0])
    return [r[0] for r in rows]


def _flags(session: Session, ids: list[int]) -> dict[int, list[str]]:
    flags: dict[int, list[str]] = {}
    for sid, user in session.execute(
        select(ApiReviewDecision.sighting_id, ApiUser.username)
        .outerjoin(ApiUser, ApiUser.id == ApiReviewDecision.user_id)
        .where(
            ApiReviewDecision.decision == "second_review", ApiReviewDecision.sighting_id.in_(ids)
        )
    ):
        flags.setdefault(sid, []).append(user or "?")
    return flags


def _hold_values(session: Session, content_ids: list[int]) -> dict[int, list[str]]:
    """Per content: ``sha256:<hex>`` and its PDQ hash (``pdq:<hex>``), for "hold from here"."""
    out: dict[int, list[str]] = {}
    if not content_ids:
        return out
    for cid, sha in session.execute(
        select(Content.id, Content.sha256).where(Content.id.in_(content_ids))
    ):
        out[cid] = [f"sha256:{sha}"]
    for cid, value in session.execute(
        select(Signal.content_id, Signal.value).where(
            Signal.content_id.in_(content_ids), Signal.signal_type == "pdq", Signal.variant == ""
        )
    ):
        out.setdefault(cid, []).append(f"pdq:{value}")
    return out


def queue_page(
    app: App, viewer: Viewer, query: QueueQuery, user_id: int | None = None
) -> QueuePage:
    """One page of the queue under ``query``, with every tab's count."""
    query.normalised()
    with app.db.session() as session:
        where, assigned = _filters(session, viewer, query, user_id)
        scored = _scored(session, viewer, where)
        counts = {tab: 0 for tab in TABS}
        for _sid, _t, _p, _s, _e, known, copy, reupload in scored:
            for tab in ("open", "new", "known", "reupload"):
                counts[tab] += _in_tab(tab, known, copy, reupload)
        latest = latest_decisions()
        decided_where = [*where, latest.c.decision.in_(CLOSING)]
        counts["decided"] = int(
            session.scalar(
                select(func.count())
                .select_from(Sighting)
                .join(latest, latest.c.sighting_id == Sighting.id)
                .where(*decided_where)
            )
            or 0
        )
        total = counts[query.tab]
        pages = max(1, -(-total // query.per_page))
        query.page = min(query.page, pages)
        start = (query.page - 1) * query.per_page
        operations, platforms, languages = _options(session, viewer)
        result = QueuePage(
            query, counts, total, pages, [], [], operations, platforms, languages, assigned
        )
        if query.tab == "decided":
            result.decided = _decided(session, latest, decided_where, start, query.per_page)
            return result
        by_id = {r[0]: r for r in scored}
        ids = _order([r for r in scored if _in_tab(query.tab, *r[5:])], query.sort)
        ids = ids[start : start + query.per_page]
        loaded = {
            s.id: (s, c)
            for s, c in session.execute(
                select(Sighting, Content)
                .outerjoin(Content, Content.id == Sighting.content_id)
                .where(Sighting.id.in_(ids))
            )
        }
        flags = _flags(session, ids)
        holdable = _hold_values(session, [c.id for _s, c in loaded.values() if c is not None])
        session.expunge_all()
    evidence = evidence_for(app, [c.id for s, c in loaded.values() if c is not None], viewer)
    for sid in ids:
        s, c = loaded[sid]
        found = evidence.get(c.id, []) if c is not None else []
        holds = holdable.get(c.id, []) if c is not None else []
        result.items.append(
            QueueItem(s, c, by_id[sid][1], by_id[sid][2], found[:4], flags.get(sid, []), holds)
        )
    return result


def _decided(
    session: Session, latest: Any, where: list[ColumnElement[bool]], start: int, size: int
) -> list[DecidedRow]:
    rows = session.execute(
        select(Sighting, Content, latest.c.decision, ApiUser.username, ApiReviewDecision.at)
        .join(latest, latest.c.sighting_id == Sighting.id)
        .join(ApiReviewDecision, ApiReviewDecision.id == latest.c.id)
        .outerjoin(ApiUser, ApiUser.id == ApiReviewDecision.user_id)
        .outerjoin(Content, Content.id == Sighting.content_id)
        .where(*where)
        .order_by(latest.c.id.desc())
        .offset(start)
        .limit(size)
    ).all()
    out = [DecidedRow(s, c, d, by, at) for s, c, d, by, at in rows]
    session.expunge_all()
    return out
