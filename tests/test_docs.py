"""Docs stay true: the CLI reference is generated and must match the code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import click
import pytest

from takedown.cli import main

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


# -- every command line in the README's and the docs' code blocks names real commands/options --
FENCE = re.compile(r"^```(sh|bash|console|)\s*$")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def command_lines(path: Path) -> list[tuple[int, str]]:
    """``takedown ...`` lines of the file's shell code blocks (continuations joined)."""
    out: list[tuple[int, str]] = []
    inside = False
    pending = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            inside = not inside and bool(FENCE.match(line))
            continue
        if not inside:
            continue
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1] + " "
            continue
        pending = ""
        for segment in text.split("&&"):
            segment = segment.strip().removeprefix(".venv/bin/")
            if segment.startswith("takedown "):
                out.append((number, segment))
    return out


def check_line(line: str) -> str | None:
    """None when the line's command path and options exist, else what is wrong."""
    words = line.split("#", 1)[0].split(" | ", 1)[0].split()[1:]
    ctx = click.Context(main, info_name="takedown")
    command: click.Command = main
    i = 0
    while i < len(words):
        word = words[i]
        if command is main and word in ("--data", "-v", "--verbose", "-vv"):
            i += 2 if word == "--data" else 1
            continue
        if not isinstance(command, click.Group) or not re.fullmatch(r"[a-z][a-z0-9-]*", word):
            break
        sub = command.get_command(ctx, word)
        if sub is None:
            return f"no command {word!r} under {command.name!r}"
        ctx = click.Context(sub, info_name=word, parent=ctx)
        command = sub
        i += 1
    known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
    wrong = [o for o in OPTION.findall(" ".join(words[i:])) if o not in known]
    return f"{ctx.command_path}: no option {', '.join(wrong)}" if wrong else None


DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_documented_commands_exist(path: Path) -> None:
    problems = [
        f"{path.name}:{n}: {problem} — {line}"
        for n, line in command_lines(path)
        if (problem := check_line(line)) is not None
    ]
    assert not problems, "\n".join(problems)


def test_the_line_checker_catches_wrong_commands_and_options() -> None:
    assert check_line('takedown operation board "Synthetic Action Day"') is None
    assert check_line("takedown key create --name x --scope read") is None
    assert check_line("takedown key create --nam x") is not None
    assert check_line("takedown opration board x") is not None
    assert check_line("takedown --data d infra plan X --refer --json") is None


def readme_block(title: str) -> list[str]:
    """The first shell block after the README heading ``title``, one command per line."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {title}", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.strip().splitlines() if line.strip()]


def test_the_readme_block_is_commands_only() -> None:
    lines = readme_block("Using it")
    assert lines[0].startswith("export PATH=")
    assert all(line.startswith("takedown ") for line in lines[1:])
