"""Errors that say what to do: an unknown operation at intake is refused with a hint."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from takedown.cli import main


def test_ingest_into_an_unknown_operation_is_refused_with_a_hint(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("https://example.org/a\n", encoding="utf-8")
    data = ["--data", str(tmp_path / "data")]
    result = CliRunner().invoke(main, [*data, "ingest", str(urls), "--operation", "RAD-1"])
    assert result.exit_code != 0
    assert "no operation named 'RAD-1'" in result.stderr
    assert "operation create" in result.stderr
    args = ["operation", "create", "RAD-1", "--from", "2026-04-01", "--to", "2026-04-03"]
    assert CliRunner().invoke(main, [*data, "agency", "create", "Unit A"]).exit_code == 0
    assert CliRunner().invoke(main, [*data, *args, "--agency", "Unit A"]).exit_code == 0
    done = CliRunner().invoke(main, [*data, "ingest", str(urls), "--operation", "RAD-1", "--json"])
    assert done.exit_code == 0, done.output
