"""Writing parsed infra records: nodes, facts (edges), node attributes and IP ranges.

Everything goes through SQLAlchemy Core on the session's connection: chunked ``IN`` look-ups
of what is already stored, then one multi-row ``INSERT`` per batch and an ``executemany``
``UPDATE`` for what changed — no ORM object per row. A fact is one row per (kind, src, dst,
source); seen again, its first/last seen window widens, so re-importing adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from takedown.infra.facts import Fact, NodeNote, Parsed, Range
from takedown.infra.graph import EDGE_ENDPOINTS, EdgeKind, NodeKind
from takedown.infra.models import InfraEdge, InfraNode, InfraRange
from takedown.store.models import RejectedRecord, utcnow

CHUNK = 500  # values in one IN (...) look-up
PG_CHUNK = 10_000  # values in one PostgreSQL "= ANY(array)" look-up (one parameter)
INSERT_BATCH = 5000  # rows handed to one executemany
ANALYZE_AFTER = 10_000  # PostgreSQL: rows added to a table before its statistics are renewed

_NODES = cast(Table, InfraNode.__table__)
_EDGES = cast(Table, InfraEdge.__table__)
_RANGES = cast(Table, InfraRange.__table__)
# NodeKind and EdgeKind are IntEnums: equal numbers of the two are equal keys, so one map each
_NODE_NAMES = {k: k.name.lower() for k in NodeKind}
_EDGE_NAMES = {k: k.name.lower() for k in EdgeKind}
# edge kind -> (edge kind name, source node kind name, destination node kind name)
_ENDPOINTS = {
    k: (_EDGE_NAMES[k], _NODE_NAMES[s], _NODE_NAMES[d]) for k, (s, d) in EDGE_ENDPOINTS.items()
}

EdgeKey = tuple[str, int, int, str]  # kind, src id, dst id, source


def kind_name(kind: NodeKind | EdgeKind) -> str:
    return kind.name.lower()


def _key(value: int) -> str:
    return f"{value:032x}"


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _chunks(values: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _member_of(conn: Connection, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``: one parameter, one
    short statement (psycopg parses long statements on every call)."""
    if conn.dialect.name != "postgresql":
        return column.in_(values)  # type: ignore[no-any-return]
    item = Integer() if isinstance(column.type, Integer) else String()
    return column == any_(bindparam(None, values, type_=ARRAY(item)))  # type: ignore[no-any-return]


def _lookup_chunks(conn: Connection, values: list[Any]) -> Iterable[list[Any]]:
    return _chunks(values, PG_CHUNK if conn.dialect.name == "postgresql" else CHUNK)


@dataclass
class Writer:
    """Upserts facts into one session; caches node ids."""

    session: Session
    import_id: int | None = None
    _ids: dict[tuple[str, str], int] = field(default_factory=dict)
    _fresh: set[tuple[str, str]] = field(default_factory=set)  # nodes created by node_ids
    _added: dict[str, int] = field(default_factory=dict)  # rows added since last ANALYZE
    _analyzed: dict[str, int] = field(default_factory=dict)  # rows added at last ANALYZE

    def _grew(self, table: Table, rows: int) -> None:
        """Counts rows added; on PostgreSQL renews a table's planner statistics once it has
        grown by ``ANALYZE_AFTER`` rows and doubled since the last time. Without that a big
        import into fresh tables runs its look-ups on "empty table" estimates: the ``IN``
        look-ups scan instead of probing the unique index, and get slower with every batch.
        ANALYZE sees the rows this transaction added."""
        name = table.name
        total = self._added[name] = self._added.get(name, 0) + rows
        last = self._analyzed.get(name, 0)
        if total - last < max(ANALYZE_AFTER, last):
            return
        conn = self.session.connection()
        if conn.dialect.name == "postgresql":
            conn.execute(text(f'ANALYZE "{name}"'))
        self._analyzed[name] = total

    def node_ids(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Ids of (kind, label) nodes, created when missing."""
        wanted = {k for k in keys if k not in self._ids}
        if not wanted:
            return self._ids
        conn = self.session.connection()
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, label in wanted:
            by_kind[kind].append(label)
        for kind, labels in by_kind.items():
            for part in _lookup_chunks(conn, sorted(labels)):
                rows = conn.execute(
                    select(_NODES.c.label, _NODES.c.id).where(
                        _NODES.c.kind == kind, _member_of(conn, _NODES.c.label, part)
                    )
                )
                for label, nid in rows:
                    self._ids[(kind, label)] = nid
        missing = sorted(k for k in wanted if k not in self._ids)
        self._fresh.update(missing)
        now = utcnow()
        stmt = insert(_NODES).returning(_NODES.c.id, _NODES.c.kind, _NODES.c.label)
        for part in _chunks(missing, INSERT_BATCH):
            batch = [{"kind": k, "label": lab, "created_at": now} for k, lab in part]
            for nid, kind, label in conn.execute(stmt, batch):
                self._ids[(kind, label)] = nid
            self._grew(_NODES, len(batch))
        return self._ids

    def facts(self, facts: list[Fact]) -> int:
        """Upserts edges; a fact seen again widens first/last seen. Returns new edges."""
        if not facts:
            return 0
        ends = [_ENDPOINTS[f.kind] for f in facts]
        self._fresh = set()
        ids = self.node_ids(
            [(sk, f.src) for f, (_, sk, _) in zip(facts, ends, strict=True)]
            + [(dk, f.dst) for f, (_, _, dk) in zip(facts, ends, strict=True)]
        )
        merged: dict[EdgeKey, list[Any]] = {}
        for f, (ek_name, sk, dk) in zip(facts, ends, strict=True):
            ek = (ek_name, ids[(sk, f.src)], ids[(dk, f.dst)], f.source[:200])
            cur = merged.get(ek)
            if cur is None:
                merged[ek] = [f.first_seen, f.last_seen]
            else:
                cur[0] = _min(cur[0], f.first_seen)
                cur[1] = _max(cur[1], f.last_seen)
        conn = self.session.connection()
        existing: dict[EdgeKey, tuple[int, Any, Any]] = {}
        cols = (
            _EDGES.c.id,
            _EDGES.c.kind,
            _EDGES.c.src_id,
            _EDGES.c.dst_id,
            _EDGES.c.source,
            _EDGES.c.first_seen,
            _EDGES.c.last_seen,
        )
        # a node created just now has no stored fact yet: look up only the others
        fresh = {ids[k] for k in self._fresh}
        for part in _lookup_chunks(conn, sorted({k[1] for k in merged} - fresh)):
            for eid, kind, src, dst, source, first, last in conn.execute(
                select(*cols).where(_member_of(conn, _EDGES.c.src_id, part))
            ):
                existing[(kind, src, dst, source)] = (eid, first, last)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for ek, (first, last) in merged.items():
            found = existing.get(ek)
            if found is None:
                inserts.append(
                    {
                        "kind": ek[0],
                        "src_id": ek[1],
                        "dst_id": ek[2],
                        "source": ek[3],
                        "first_seen": first,
                        "last_seen": last,
                        "import_id": self.import_id,
                    }
                )
                continue
            eid, old_first, old_last = found
            new_first, new_last = _min(old_first, first), _max(old_last, last)
            if (new_first, new_last) != (old_first, old_last):
                updates.append({"b_id": eid, "b_first": new_first, "b_last": new_last})
        for part in _chunks(inserts, INSERT_BATCH):
            conn.execute(insert(_EDGES), part)
            self._grew(_EDGES, len(part))
        if updates:
            conn.execute(
                update(_EDGES)
                .where(_EDGES.c.id == bindparam("b_id"))
                .values(first_seen=bindparam("b_first"), last_seen=bindparam("b_last")),
                updates,
            )
        return len(inserts)

    def notes(self, notes: list[NodeNote]) -> None:
        """Merges attributes into nodes (``flags`` are united, other keys replaced)."""
        if not notes:
            return
        ids = self.node_ids((_NODE_NAMES[n.kind], n.label) for n in notes)
        by_id: dict[int, dict[str, Any]] = defaultdict(dict)
        for n in notes:
            attrs = by_id[ids[(_NODE_NAMES[n.kind], n.label)]]
            for k, v in n.attrs.items():
                if k == "flags":
                    attrs["flags"] = sorted(set(attrs.get("flags", [])) | set(v))
                else:
                    attrs[k] = v
        self.session.flush()  # pending ORM changes to nodes first
        conn = self.session.connection()
        stored: dict[int, dict[str, Any] | None] = {}
        for part in _lookup_chunks(conn, sorted(by_id)):
            for nid, old in conn.execute(
                select(_NODES.c.id, _NODES.c.attrs).where(_member_of(conn, _NODES.c.id, part))
            ):
                stored[nid] = old
        changes: list[dict[str, Any]] = []
        for nid, attrs in by_id.items():
            if nid not in stored:
                continue
            old = stored[nid] or {}
            merged = dict(old)
            if "flags" in attrs:
                attrs["flags"] = sorted(set(merged.get("flags", [])) | set(attrs["flags"]))
            merged.update(attrs)
            if merged != old or stored[nid] is None:
                changes.append({"b_id": nid, "b_attrs": merged})
        if changes:
            conn.execute(
                update(_NODES)
                .where(_NODES.c.id == bindparam("b_id"))
                .values(attrs=bindparam("b_attrs")),
                changes,
            )
        self._expire(InfraNode, {c["b_id"] for c in changes}, "attrs")

    def _expire(self, model: type[Any], ids: set[int], *attrs: str) -> None:
        """ORM objects of rows just changed through Core reload on next access."""
        if not ids:
            return
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, model) and obj.id in ids:
                self.session.expire(obj, list(attrs) or None)

    def ranges(self, ranges: list[Range]) -> int:
        """Upserts IP ranges (one row per span and source); returns new ranges."""
        if not ranges:
            return 0
        conn = self.session.connection()
        cols = [c.name for c in _RANGES.c if c.name not in ("import_id",)]
        have: dict[tuple[int, str, str, str], dict[str, Any]] = {}
        for version in (4, 6):
            starts = sorted({_key(r.start) for r in ranges if r.version == version})
            for part in _lookup_chunks(conn, starts):
                for row in conn.execute(
                    select(*[_RANGES.c[c] for c in cols]).where(
                        _RANGES.c.version == version,
                        _member_of(conn, _RANGES.c.start_key, part),
                    )
                ):
                    values = dict(row._mapping)
                    key = (version, values["start_key"], values["end_key"], values["source"])
                    have[key] = {**values, "_old": dict(values)}
        new: dict[tuple[int, str, str, str], dict[str, Any]] = {}
        for r in ranges:
            key = (r.version, _key(r.start), _key(r.end), r.source[:200])
            found = have.get(key) or new.get(key)
            if found is None:
                found = new[key] = {
                    "version": r.version,
                    "start_key": key[1],
                    "end_key": key[2],
                    "source": key[3],
                    "first_seen": None,
                    "last_seen": None,
                    "import_id": self.import_id,
                }
            found["asn"] = r.asn
            found["country"] = r.country
            found["holder"] = r.holder
            found["abuse_email"] = r.abuse_email
            found["handle"] = r.handle
            found["first_seen"] = _min(found["first_seen"], r.first_seen)
            found["last_seen"] = _max(found["last_seen"], r.last_seen)
        for part in _chunks(list(new.values()), INSERT_BATCH):
            conn.execute(insert(_RANGES), part)
            self._grew(_RANGES, len(part))
        fields = ("asn", "country", "holder", "abuse_email", "handle", "first_seen", "last_seen")
        changed = [
            {"b_id": row["id"], **{f"b_{f}": row[f] for f in fields}}
            for row in have.values()
            if any(row[f] != row["_old"][f] for f in fields)
        ]
        if changed:
            conn.execute(
                update(_RANGES)
                .where(_RANGES.c.id == bindparam("b_id"))
                .values(**{f: bindparam(f"b_{f}") for f in fields}),
                changed,
            )
            self._expire(InfraRange, {c["b_id"] for c in changed})
        return len(new)

    def write(self, parsed: Parsed) -> dict[str, int]:
        new_edges = self.facts(parsed.facts) if parsed.facts else 0
        if parsed.notes:
            self.notes(parsed.notes)
        new_ranges = self.ranges(parsed.ranges) if parsed.ranges else 0
        if self.import_id is not None and parsed.problems:
            rows = [
                {
                    "import_id": self.import_id,
                    "ref": p.ref[:200],
                    "reason": f"{p.reason} | {p.raw}" if p.raw else p.reason,
                }
                for p in parsed.problems
            ]
            self.session.execute(insert(RejectedRecord), rows)
        return {
            "facts": len(parsed.facts),
            "new_edges": new_edges,
            "ranges": len(parsed.ranges),
            "new_ranges": new_ranges,
            "notes": len(parsed.notes),
            "rejected": len(parsed.problems),
        }
