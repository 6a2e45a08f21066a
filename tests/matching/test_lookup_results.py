"""``lookup`` and ``_result`` against a plain ORM reference, on a seeded store.

The store holds a bank with labels, a quarantined and a removed entry, an allow-list bank, a
bank with a wider threshold, and contents with PDQ signals and sightings (one with more
sightings than a hit lists, some without URL). Every lookup is compared with what a
straightforward per-row reading of the same hits gives, and the number of queries is counted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select

from takedown.app import App
from takedown.matching import banks
from takedown.matching.formats import BankRow
from takedown.matching.lookup import LookupResult, _result, lookup
from takedown.matching.matcher import Hit, Matcher
from takedown.store.models import Bank, BankEntry, Content, Sighting, Signal


def pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def flip(value: str, bits: Sequence[int]) -> str:
    number = int(value, 16)
    for bit in bits:
        number ^= 1 << bit
    return f"{number:064x}"


@dataclass
class World:
    values: dict[str, str]  # name -> stored PDQ value
    entries: dict[str, int]  # name -> bank entry id
    contents: dict[str, int]  # name -> content id


def seed(app: App) -> World:
    rng = random.Random(11)
    values = {n: pdq(rng) for n in ("a", "b", "held", "gone", "shared", "wide", "c1", "c2", "c3")}
    banks.create_bank(app, "known", labels={"source": "partner"})
    banks.create_bank(app, "allowed", allow_list=True)
    banks.create_bank(app, "wide", thresholds={"pdq": 60})
    banks.add_entries(
        app,
        "known",
        [
            BankRow("1", "pdq", values["a"], labels={"outlet": "Crimson Dawn Media"}),
            BankRow("2", "pdq", values["b"]),
            BankRow("3", "pdq", values["held"]),
            BankRow("4", "pdq", values["gone"]),
            BankRow("5", "pdq", values["shared"], labels={"outlet": "Grey Heron"}),
        ],
    )
    banks.add_entries(app, "allowed", [BankRow("1", "pdq", values["shared"])])
    banks.add_entries(app, "wide", [BankRow("1", "pdq", values["wide"])])
    with app.db.session() as session:
        entries = {
            n: session.scalars(select(BankEntry.id).where(BankEntry.value == values[n])).first()
            or 0
            for n in ("a", "b", "held", "gone", "wide")
        }
        entries["shared"] = session.scalars(
            select(BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(BankEntry.value == values["shared"], Bank.name == "known")
        ).one()
        entries["allowed"] = session.scalars(
            select(BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Bank.name == "allowed")
        ).one()
    banks.set_entry_status(app, entries["held"], "quarantined", "test", "flood")
    banks.remove_entry(app, entries["gone"], "test")
    contents: dict[str, int] = {}
    with app.db.session() as session:
        for n, urls in (
            ("c1", [f"https://t.me/s/chan/{i}" for i in range(25)] + [None, ""]),
            ("c2", [None]),
            ("c3", []),
        ):
            content = Content(
                sha256=f"{n:0>64}",
                md5=f"{n:0>32}",
                size=1,
                kind="image",
                media_type="image/png",
                first_name=None if n == "c3" else f"{n}.png",
            )
            session.add(content)
            session.flush()
            contents[n] = content.id
            session.add(Signal(content_id=content.id, signal_type="pdq", value=values[n]))
            # sighting ids out of URL order, so that "the first 20" and "sorted" differ
            for i, url in enumerate(reversed(urls)):
                session.add(
                    Sighting(
                        natural_key=f"{n}-{i}", url=url, canonical_url=url, content_id=content.id
                    )
                )
    return World(values, entries, contents)


def reference(
    app: App, result: LookupResult, hits: Sequence[Hit], only: Sequence[str] | None
) -> dict[str, Any]:
    """What the hits name, read row by row with the ORM (the lookup's contract)."""
    bank_matches: list[dict[str, Any]] = []
    content_matches: list[dict[str, Any]] = []
    with app.db.session() as session:
        for hit in hits:
            if hit.bank_entry_id is not None:
                entry = session.get(BankEntry, hit.bank_entry_id)
                assert entry is not None
                bank = session.get(Bank, entry.bank_id)
                assert bank is not None
                if only and bank.name not in only:
                    continue
                bank_matches.append(
                    {
                        "bank": bank.name,
                        "allow_list": bank.allow_list,
                        "entry_id": entry.id,
                        "signal_type": result.signal_type,
                        "value": entry.value,
                        "distance": hit.distance,
                        "labels": dict(entry.labels or {}),
                        "status": entry.status,
                        "evidence": hit.evidence,
                    }
                )
            elif hit.other_content_id is not None and not only:
                content = session.get(Content, hit.other_content_id)
                assert content is not None
                urls = [
                    u
                    for u in session.scalars(
                        select(Sighting.canonical_url)
                        .where(Sighting.content_id == content.id)
                        .order_by(Sighting.id)
                    )
                    if u
                ][:20]
                content_matches.append(
                    {
                        "content_id": content.id,
                        "sha256": content.sha256,
                        "signal_type": result.signal_type,
                        "distance": hit.distance,
                        "name": content.first_name,
                        "urls": sorted(urls),
                        "evidence": hit.evidence,
                    }
                )
    bank_matches.sort(key=lambda m: (m["distance"], m["bank"], m["entry_id"]))
    content_matches.sort(key=lambda m: (m["distance"], m["content_id"]))
    return {
        "signal_type": result.signal_type,
        "value": result.value,
        "bank_matches": bank_matches,
        "content_matches": content_matches,
    }


@contextmanager
def counted(app: App) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)


def test_lookups_equal_the_reference(app: App) -> None:
    world = seed(app)
    v = world.values
    queries = {
        "a": [flip(v["a"], [1, 2, 3])],
        "held": [flip(v["held"], [5])],
        "gone": [v["gone"]],
        "shared": [v["shared"]],
        "wide": [flip(v["wide"], range(0, 80, 2))],
        "c1": [flip(v["c1"], [7, 9])],
        "variants": [pdq(random.Random(3)), flip(v["b"], [0]), v["c2"], v["c3"]],
        "nothing": [pdq(random.Random(4))],
    }
    matcher = Matcher(app)
    seen: dict[str, dict[str, Any]] = {}
    for name, values in queries.items():
        for only in (None, ["known"], ["allowed", "wide"]):
            got = lookup(app, "pdq", values, banks=only, matcher=matcher).to_dict()
            with app.db.session() as session:
                hits = matcher.hits_for(session, "pdq", values, exclude=None)
            want = reference(app, LookupResult("pdq", values[0]), hits, only)
            assert got == want, (name, only)
            if only is None:
                seen[name] = got

    def entry_ids(name: str) -> list[int]:
        return [m["entry_id"] for m in seen[name]["bank_matches"]]

    e, c = world.entries, world.contents
    assert seen["a"]["bank_matches"][0] == {
        "bank": "known",
        "allow_list": False,
        "entry_id": e["a"],
        "signal_type": "pdq",
        "value": v["a"],
        "distance": 3,
        "labels": {"source": "partner", "outlet": "Crimson Dawn Media"},
        "status": "active",
        "evidence": None,
    }
    assert [m["status"] for m in seen["held"]["bank_matches"]] == ["quarantined"]
    assert entry_ids("gone") == []  # removed entries are not matched
    assert [(m["bank"], m["allow_list"]) for m in seen["shared"]["bank_matches"]] == [
        ("allowed", True),
        ("known", False),
    ]
    assert entry_ids("wide") == [e["wide"]] and seen["wide"]["bank_matches"][0]["distance"] == 40
    assert entry_ids("variants") == [e["b"]]
    assert [(m["content_id"], m["name"]) for m in seen["variants"]["content_matches"]] == [
        (c["c2"], "c2.png"),
        (c["c3"], None),
    ]
    assert all(m["urls"] == [] for m in seen["variants"]["content_matches"])
    (copy,) = seen["c1"]["content_matches"]
    assert copy["content_id"] == c["c1"] and copy["distance"] == 2
    assert len(copy["urls"]) == 20 and copy["urls"] == sorted(copy["urls"])
    assert seen["nothing"]["bank_matches"] == seen["nothing"]["content_matches"] == []


def test_result_names_any_entry_and_runs_only_the_queries_it_needs(app: App) -> None:
    world = seed(app)
    e, c = world.entries, world.contents
    evidence = {"method": "keyframe", "inliers": 30}
    hits = [
        Hit("pdq", 9, bank_entry_id=e["gone"]),  # removed since: still named, as stored
        Hit("pdq", 4, bank_entry_id=e["held"], evidence=evidence),
        Hit("pdq", 4, bank_entry_id=e["allowed"], allow_list=True),
        Hit("pdq", 0, bank_entry_id=e["wide"]),
        Hit("pdq", 12, other_content_id=c["c1"]),
        Hit("pdq", 3, other_content_id=c["c3"]),
        Hit("pdq", 3, other_content_id=c["c2"]),
    ]
    cases: list[tuple[list[Hit], list[str] | None, int]] = [
        ([], None, 0),
        ([], ["known"], 0),
        (hits[:4], None, 1),
        (hits[4:], None, 1),
        (hits[4:], ["known"], 0),  # content is not looked at when limited to banks
        (hits, ["known"], 1),
        (hits, None, 2),
    ]
    for chosen, only, queries in cases:
        with app.db.session() as session, counted(app) as statements:
            got = _result(session, LookupResult("pdq", "q"), chosen, only).to_dict()
        assert len(statements) == queries, (chosen, only, statements)
        assert got == reference(app, LookupResult("pdq", "q"), chosen, only)
    with app.db.session() as session:
        full = _result(session, LookupResult("pdq", "q"), hits, None)
    assert [(h.entry_id, h.status, h.evidence) for h in full.bank_hits] == [
        (e["wide"], "active", None),
        (e["allowed"], "active", None),
        (e["held"], "quarantined", evidence),
        (e["gone"], "active", None),
    ]
    assert [h.content_id for h in full.content_hits] == [c["c2"], c["c3"], c["c1"]]


def test_a_lookup_without_matches_runs_no_query_once_warm(app: App) -> None:
    world = seed(app)
    matcher = Matcher(app)
    lookup(app, "pdq", [world.values["a"]], matcher=matcher)  # builds the index
    with counted(app) as statements:
        result = lookup(app, "pdq", [pdq(random.Random(5))], matcher=matcher)
    assert result.bank_hits == [] and result.content_hits == []
    assert statements == []
