"""The bulk writer: re-imports add no rows, provenance windows widen, ranges and node
attributes are upserted, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from takedown.app import App
from takedown.infra import store_write
from takedown.infra.facts import NodeNote
from takedown.infra.graph import NodeKind
from takedown.infra.models import InfraEdge, InfraNode, InfraRange
from takedown.infra.store import Writer, import_file

from .conftest import DATA, FILES, OBSERVED


def _counts(app: App) -> dict[str, int]:
    with app.db.session() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (InfraNode, InfraEdge, InfraRange)
        }


def test_reimporting_every_fixture_adds_nothing(app: App) -> None:
    first = []
    with app.db.session() as session:
        for name, fmt in FILES:
            first.append(import_file(session, DATA / name, fmt, observed_at=OBSERVED))
    before = _counts(app)
    with app.db.session() as session:
        edges = {
            (e.kind, e.src_id, e.dst_id, e.source): (e.first_seen, e.last_seen)
            for e in session.scalars(select(InfraEdge))
        }
    again = []
    with app.db.session() as session:
        for name, fmt in FILES:
            again.append(import_file(session, DATA / name, fmt, observed_at=OBSERVED))
    assert sum(r["new_edges"] for r in first) > 0
    assert sum(r["new_ranges"] for r in first) > 0
    assert [r["new_edges"] for r in again] == [0] * len(FILES)
    assert [r["new_ranges"] for r in again] == [0] * len(FILES)
    assert [r["facts"] for r in again] == [r["facts"] for r in first]
    assert _counts(app) == before
    with app.db.session() as session:
        after = {
            (e.kind, e.src_id, e.dst_id, e.source): (e.first_seen, e.last_seen)
            for e in session.scalars(select(InfraEdge))
        }
    assert after == edges  # same facts, same provenance windows


def test_ranges_upsert_and_widen(app: App, tmp_path: Path) -> None:
    a = tmp_path / "a.tsv"
    a.write_text("192.0.2.0\t192.0.2.255\t64500\tNL\tOLD-HOLDER\n")
    b = tmp_path / "b.tsv"
    b.write_text("192.0.2.0\t192.0.2.255\t64500\tNL\tNEW-HOLDER\n")
    with app.db.session() as session:
        r1 = import_file(
            session, a, "ip2asn", source="tbl", observed_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        r2 = import_file(
            session, b, "ip2asn", source="tbl", observed_at=datetime(2026, 2, 1, tzinfo=UTC)
        )
        row = session.scalars(select(InfraRange)).one()
        assert row.holder == "NEW-HOLDER"  # the ORM object sees the Core update
    assert (r1["new_ranges"], r2["new_ranges"]) == (1, 0)
    with app.db.session() as session:
        assert session.scalars(select(InfraRange.holder)).all() == ["NEW-HOLDER"]


def test_notes_merge_flags_and_reach_loaded_objects(app: App) -> None:
    with app.db.session() as session:
        w = Writer(session)
        w.notes([NodeNote(NodeKind.IP, "10.0.0.1", {"flags": ["private"]}, "t")])
        node = session.scalars(select(InfraNode).where(InfraNode.label == "10.0.0.1")).one()
        assert node.attrs == {"flags": ["private"]}
        w.notes([NodeNote(NodeKind.IP, "10.0.0.1", {"flags": ["decoy"], "x": 1}, "t")])
        assert node.attrs == {"flags": ["decoy", "private"], "x": 1}
    with app.db.session() as session:
        assert session.scalars(select(InfraNode.attrs)).one() == {
            "flags": ["decoy", "private"],
            "x": 1,
        }


def test_large_import_renews_statistics_and_stays_idempotent(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a small threshold runs the PostgreSQL ANALYZE path several times within one import
    monkeypatch.setattr(store_write, "ANALYZE_AFTER", 100)
    monkeypatch.setattr(store_write, "INSERT_BATCH", 150)
    rows = ["rrname,rrtype,rdata,first_seen,last_seen"]
    rows += [
        f"h{i % 5}.d{i // 4}.example,A,192.0.2.{i % 250},{1_700_000_000 + i},{1_700_000_100 + i}"
        for i in range(1200)
    ]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n")
    with app.db.session() as session:
        first = import_file(session, path, "pdns")
    with app.db.session() as session:
        second = import_file(session, path, "pdns")
    assert first["facts"] == 2400 and first["rejected"] == 0
    edges = _counts(app)["infra_edge"]
    assert first["new_edges"] == edges and second["new_edges"] == 0
    assert _counts(app)["infra_edge"] == edges
    with app.db.session() as session:
        window = session.execute(
            select(InfraEdge.first_seen, InfraEdge.last_seen)
            .join(InfraNode, InfraNode.id == InfraEdge.src_id)
            .where(InfraEdge.kind == "a", InfraNode.label == "h0.d0.example")
        ).all()
    assert window == [
        (datetime.fromtimestamp(1_700_000_000, UTC), datetime.fromtimestamp(1_700_000_100, UTC))
    ]
