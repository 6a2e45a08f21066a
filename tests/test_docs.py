"""Docs stay true: the CLI reference is generated and must match the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _render() -> str:
    spec = importlib.util.spec_from_file_location("cli_docs", REPO / "scripts" / "cli_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.render()
    return text


def test_cli_reference_is_up_to_date() -> None:
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == _render(), "run: .venv/bin/python scripts/cli_docs.py"


def test_every_command_takes_json() -> None:
    for block in _render().split("## `")[1:]:
        name, _, body = block.partition("`")
        if "Commands:" in body:
            continue  # a group; its subcommands are checked
        assert "--json" in body, f"{name} lacks --json"


def test_readme_names_both_commands_and_ci_runs_the_second() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
