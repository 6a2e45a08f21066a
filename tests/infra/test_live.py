from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from takedown.cli import main
from takedown.infra.facts import LabelError
from takedown.infra.graph import EdgeKind
from takedown.infra.live import resolve_names

NOW = datetime(2026, 11, 30, tzinfo=UTC)


class FakeResolver:
    """Answers from a table; no network."""

    def __init__(self, table: dict[tuple[str, str], list[str]]) -> None:
        self.table = table
        self.asked: list[tuple[str, str]] = []

    def answers(self, name: str, rrtype: str) -> list[str]:
        self.asked.append((name, rrtype))
        if name == "slow.example":
            raise LabelError("timeout resolving slow.example A")
        return self.table.get((name, rrtype), [])


def test_resolve_names_follows_cnames_flags_and_stops_at_loops() -> None:
    fake = FakeResolver(
        {
            ("www.site.example", "CNAME"): ["edge.cdn.test."],
            ("edge.cdn.test", "A"): ["198.51.100.5", "10.1.1.1"],
            ("site.example", "NS"): ["ns1.dns.test."],
            ("site.example", "MX"): ["10 mail.site.example."],
            ("loop1.example", "CNAME"): ["loop2.example."],
            ("loop2.example", "CNAME"): ["loop1.example."],
            ("site.example", "AAAA"): ["not-an-address"],
        }
    )
    p = resolve_names(
        ["www.site.example", "site.example", "loop1.example", "slow.example", "bad..name"],
        fake,
        now=NOW,
    )
    facts = {(f.kind, f.src, f.dst) for f in p.facts}
    assert (EdgeKind.CNAME, "www.site.example", "edge.cdn.test") in facts
    assert (EdgeKind.A, "edge.cdn.test", "198.51.100.5") in facts
    assert (EdgeKind.DOMAIN_NAMESERVER, "site.example", "ns1.dns.test") in facts
    assert (EdgeKind.MX, "site.example", "mail.site.example") in facts
    assert (EdgeKind.CNAME, "loop2.example", "loop1.example") in facts
    assert all(f.first_seen == NOW and f.source == "live-dns" for f in p.facts)
    assert [n.attrs for n in p.notes] == [{"flags": ["documentation"]}, {"flags": ["private"]}]
    reasons = " ".join(pr.reason for pr in p.problems)
    assert "timeout" in reasons and "not an IP" in reasons and "bad..name" in reasons
    assert len(fake.asked) == len(set(fake.asked))  # every name asked once


def test_resolve_command_refuses_without_live(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data", str(tmp_path), "infra", "resolve", "X"])
    assert result.exit_code == 1 and "--live" in result.stderr
