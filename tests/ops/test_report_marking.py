"""The handling marking of PDF reports: a setting, a per-report option (CLI flag, report page
field), printed on every page (read back with pdftotext, poppler-utils)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from takedown.cli import main
from takedown.config import Settings
from takedown.ops.marking import HANDLING, handling_marking
from takedown.ops.render import render_pdf

BIDI = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with form feeds)."""
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is required: run scripts/pdftools.sh (apt-get install poppler-utils)"
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        [tool, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    pages = done.stdout.decode().split("\f")
    return [p for p in pages if p.strip()]


def _cli(tmp_path: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, [*data, *args], env=env)
        return result.exit_code, result.output

    return run


def _operation(run) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert run("agency", "create", "Alpha", "--reporter", "unit-a")[0] == 0
    args = ["operation", "create", "day", "--from", "2026-04-01", "--to", "2026-04-03"]
    assert run(*args, "--agency", "Alpha")[0] == 0
    code, out = run("report", "operation", "day", "--format", "json")
    assert code == 0
    return dict(json.loads(out))


def test_marking_is_on_every_page_of_a_long_report(tmp_path: Path) -> None:
    report = _operation(_cli(tmp_path))
    long = copy.deepcopy(report)
    long["by_platform"] = [
        {"key": f"platform-{i}", "items": 300 - i, "referred": i, "removed": 0} for i in range(150)
    ]
    marking = "TLP:RED · Unit Alpha only · سري"
    pages = pdf_pages(render_pdf(long, marking), tmp_path)
    assert len(pages) >= 3
    for text in pages:
        assert "TLP:RED · Unit Alpha only" in text
        # presentation forms fold back to the letters typed; pdftotext marks the RTL run
        letters = "".join(c for c in unicodedata.normalize("NFKC", text) if c not in BIDI)
        assert "سري" in letters
        assert HANDLING not in text
    default = pdf_pages(render_pdf(long), tmp_path)
    assert len(default) == len(pages) and all(HANDLING in text for text in default)


def test_cli_flag_and_setting_choose_the_marking(tmp_path: Path) -> None:
    env = {"TAKEDOWN_HANDLING_MARKING": "OFFICIAL · set by the operator"}
    run = _cli(tmp_path, env)
    _operation(run)
    pdf = tmp_path / "day.pdf"
    code, out = run("report", "operation", "day", "--format", "pdf", "--out", str(pdf))
    assert code == 0, out
    pages = pdf_pages(pdf.read_bytes(), tmp_path)
    assert pages and all("OFFICIAL · set by the operator" in p for p in pages)
    args = ["report", "operation", "day", "--format", "pdf", "--out", str(pdf)]
    code, out = run(*args, "--marking", "TLP:GREEN  for  this report", "--json")
    assert code == 0, out
    pages = pdf_pages(pdf.read_bytes(), tmp_path)
    assert pages and all("TLP:GREEN for this report" in p for p in pages)
    assert not any("set by the operator" in p for p in pages)
    tr = ["report", "transparency", "--from", "2026-01-01", "--to", "2027-01-01"]
    code, out = run(*tr, "--format", "pdf", "--out", str(pdf), "--marking", "PERIOD MARK")
    assert code == 0, out
    assert all("PERIOD MARK" in p for p in pdf_pages(pdf.read_bytes(), tmp_path))
    # bad markings: a clear error, non-zero exit, nothing written over
    for bad, why in (("", "empty"), ("a\x07b", "control character"), ("x" * 201, "200")):
        code, out = run(*args, "--marking", bad)
        assert code != 0 and why in out, (bad, out)
    code, out = run("report", "operation", "day", "--format", "json", "--marking", "X")
    assert code != 0 and "PDF" in out


def test_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().handling_marking == HANDLING
    monkeypatch.setenv("TAKEDOWN_HANDLING_MARKING", " TLP:CLEAR\t ")
    assert Settings().handling_marking == "TLP:CLEAR"
    monkeypatch.setenv("TAKEDOWN_HANDLING_MARKING", "two\nlines\x1b[31m")
    with pytest.raises(ValueError, match="control character"):
        Settings()
    assert handling_marking(None) == HANDLING
