"""The review queue as a work list: tabs, filters, search, sort, counts and pages.

Counts, tabs and the order are worked out by the database (one grouped count, one ordered
page of ids), so a page costs the same at 100 or 100,000 open items; the heavy part (content
rows, match evidence, text previews, the full score) is loaded for one page only.

Priority order: the score's tiers as SQL can see them: a bank hit 40, else an earlier copy
15, plus 20 for a re-upload; newest first within a tier. The score shown on each item is the
full one of :func:`takedown.web.queue.score` (label severity and reach added): those two
parts live in JSON written by sources (hostile, not reliably numeric), so they refine what a
reviewer reads, not the order across pages.

Tabs: ``open`` (everything undecided), ``new`` (no bank hit, no earlier copy, not a
re-upload: leads nobody has seen), ``known`` (a bank hit or an earlier copy), ``reupload``
(re-uploads of removed material) and ``decided`` (closed by ``refer`` or ``not_in_scope``,
newest decision first). A sighting's state is its *latest* decision, so an ``undo`` (the
decision ``reopen``) puts it back in the queue while every decision stays on record.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
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


#: The filters' choices per viewer, for OPTIONS_TTL seconds: three scans of every visible
#: sighting are most of a page's cost, and a choice list a few seconds stale harms no one
#: (a new sighting in the store starts a new list at once).
OPTIONS_TTL = 30.0
_options_cache: dict[tuple[Any, ...], tuple[float, tuple[list[str], list[str], list[str]]]] = {}


def _options(session: Session, viewer: Viewer, app: App) -> tuple[list[str], list[str], list[str]]:
    newest = session.scalar(select(func.max(Sighting.id)))  # a new sighting: work out again
    key = (id(app), viewer.agency_id, viewer.platform_key, viewer.username, newest)
    now = time.monotonic()
    cached = _options_cache.get(key)
    if cached is not None and now - cached[0] < OPTIONS_TTL:
        return cached[1]
    seen = sighting_filter(session, viewer)
    out = []
    for column in (Sighting.operation, Sighting.platform_key, Sighting.language):
        values = session.scalars(
            select(column).where(seen, column.is_not(None)).distinct().order_by(column).limit(500)
        )
        out.append([str(v) for v in values])
    found = (out[0], out[1], out[2])
    if len(_options_cache) > 1000:
        _options_cache.clear()
    _options_cache[key] = (now, found)
    return found


def _kinds(session: Session, viewer: Viewer) -> tuple[Any, Any, Any]:
    """SQL truths per sighting: a bank hit (known), an earlier copy the viewer may see, a
    re-upload; and the priority tier they make (known 40 or copy 15, re-upload 20)."""
    known = (
        select(Match.id)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(
            Match.content_id == Sighting.content_id,
            Match.state == "active",
            Bank.allow_list.is_(False),
        )
        .exists()
    )
    copy = (
        select(Match.id)
        .where(
            Match.content_id == Sighting.content_id,
            Match.state == "active",
            Match.other_content_id.in_(visible_content_ids(session, viewer)),
        )
        .exists()
    )
    return known, copy, Sighting.reupload_of_id.is_not(None)


def _tab_where(tab: str, known: Any, copy: Any, reupload: Any) -> list[Any]:
    if tab == "new":
        return [~known, ~copy, ~reupload]
    if tab == "known":
        return [or_(known, copy)]
    if tab == "reupload":
        return [reupload]
    return []


def _order(known: Any, copy: Any, reupload: Any, sort: str) -> list[Any]:
    if sort == "newest":
        return [Sighting.seen_at.is_(None), Sighting.seen_at.desc(), Sighting.id.desc()]
    if sort == "oldest":
        return [Sighting.seen_at.is_(None), Sighting.seen_at, Sighting.id]
    tier = case((known, 40), (copy, 15), else_=0) + case((reupload, 20), else_=0)
    return [tier.desc(), Sighting.id.desc()]


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
        known, copy, reupload = _kinds(session, viewer)
        is_open = Sighting.id.not_in(closed_ids())
        one = func.sum(case((or_(known, copy), 1), else_=0))
        tally = session.execute(
            select(
                func.count(),
                func.sum(case((and_(~known, ~copy, ~reupload), 1), else_=0)),
                one,
                func.sum(case((reupload, 1), else_=0)),
            ).where(*where, is_open)
        ).one()
        counts = {
            tab: int(n or 0)
            for tab, n in zip(("open", "new", "known", "reupload"), tally, strict=True)
        }
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
        operations, platforms, languages = _options(session, viewer, app)
        result = QueuePage(
            query, counts, total, pages, [], [], operations, platforms, languages, assigned
        )
        if query.tab == "decided":
            result.decided = _decided(session, latest, decided_where, start, query.per_page)
            return result
        ids = list(
            session.scalars(
                select(Sighting.id)
                .where(*where, is_open, *_tab_where(query.tab, known, copy, reupload))
                .order_by(*_order(known, copy, reupload, query.sort))
                .offset(start)
                .limit(query.per_page)
            )
        )
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
        banked = [e for e in found if e.kind == "bank"]
        points, parts = score(
            bool(banked),
            any(e.kind != "related" for e in found),  # a related text is not a copy
            banked[0].labels if banked else {},
            s.reupload_of_id is not None,
            s.extra,
        )
        result.items.append(QueueItem(s, c, points, parts, found[:4], flags.get(sid, []), holds))
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
