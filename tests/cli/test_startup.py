"""Commands start fast: ``takedown --help`` and light commands import no heavy library.

Not a timing test: it asks a fresh interpreter which modules a command imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from takedown.cli import COMMANDS, main

HEAVY = (
    "numba",
    "cv2",
    "scipy",
    "av",
    "matplotlib",
    "reportlab",
    "stix2",
    "wordllama",
    "faiss",
    "networkx",
    "numpy",
    "PIL",
    "aiohttp",
    "uvicorn",
)

PROBE = """
import json, sys
from takedown.cli import main
try:
    main(sys.argv[1:], prog_name="takedown")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "modules": sorted(sys.modules)}) + "\\n")
"""


def _imported(args: list[str]) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("PROBE ")][-1]
    data = json.loads(line.removeprefix("PROBE "))
    return int(data["code"] or 0), set(data["modules"])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["infra", "--help"],
        ["export", "--help"],
        ["demo", "--help"],
        ["bank", "--help"],
        ["sightings", "--help"],
        ["text", "--help"],
        ["text", "compare", "--help"],
        ["match", "--help"],
        ["hash", "--help"],
        ["bank", "feedback", "--help"],
        ["agency", "list", "--json"],
        ["user", "list", "--json"],
        ["operation", "list", "--json"],
        ["referrals", "list", "--json"],
        ["key", "list", "--json"],
        ["platforms", "list", "--json"],
    ],
)
def test_light_commands_import_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    code, modules = _imported(["--data", str(tmp_path / "data"), *args])
    assert code == 0
    loaded = sorted(m for m in HEAVY if m in modules)
    assert loaded == [], f"takedown {' '.join(args)} imported {loaded}"
    if args[-1] == "--help" and args[0] != "demo":  # help needs no database nor settings
        assert not {"sqlalchemy", "pydantic"} & modules, args


#: Light commands on a store that exists already (created and migrated before the probe).
LIGHT_ON_A_STORE = [
    ["operation", "list", "--json"],
    ["referrals", "list", "--json"],
    ["bank", "list", "--json"],
    ["sightings", "--json"],
    ["jobs", "--json"],
    ["agency", "list", "--json"],
    ["db", "status", "--json"],
]


@pytest.fixture(scope="module")
def existing_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("store") / "data"
    code, modules = _imported(["--data", str(data), "agency", "list", "--json"])
    assert code == 0 and "alembic" in modules  # a new store is created by migrating it
    return data


@pytest.mark.parametrize("args", LIGHT_ON_A_STORE, ids=" ".join)
def test_opening_an_existing_store_imports_no_alembic_nor_heavy_library(
    args: list[str], existing_store: Path
) -> None:
    """Opening a current store compares its revisions with a head kept in code: no Alembic
    (see tests/store/test_schema_head.py), no numba/OpenCV/SciPy/PyAV, no rich for --json, no
    pydantic (the settings are read with the standard library, tests/test_config.py)."""
    code, modules = _imported(["--data", str(existing_store), *args])
    assert code == 0
    loaded = sorted(m for m in (*HEAVY, "alembic", "rich", "pydantic") if m in modules)
    assert loaded == [], f"takedown {' '.join(args)} imported {loaded}"


def test_no_info_logs_on_stderr_unless_verbose(tmp_path: Path) -> None:
    """A fresh data folder is migrated (Alembic logs INFO lines): quiet by default, -v shows."""
    data = ["--data", str(tmp_path / "data")]
    quiet = subprocess.run(
        [sys.executable, "-c", PROBE, *data, "agency", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert quiet.returncode == 0
    assert not [x for x in quiet.stderr.splitlines() if x.startswith("INFO")], quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-c", PROBE, "-v", "--data", str(tmp_path / "other"), "agency", "list"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "INFO:alembic" in loud.stderr


def test_help_imports_no_command_module() -> None:
    code, modules = _imported(["--help"])
    assert code == 0
    assert not {m for m in modules if m.startswith("takedown.cli.")} - {"takedown.cli.output"}
    assert "sqlalchemy" not in modules


def test_lazy_table_matches_the_commands() -> None:
    """Each entry loads a command whose own first help line is the one ``--help`` shows."""
    ctx = click.Context(main)
    for name, (_target, short) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None, name
        assert command.get_short_help_str(limit=1000) == short, name


def test_piped_tables_keep_whole_lines(tmp_path: Path) -> None:
    """Rich assumes 80 columns when not on a terminal; a pipe gets whole rows instead."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--data", str(tmp_path / "d"), "platforms", "list"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0
    row = next(line for line in done.stdout.splitlines() if "youtube.com" in line)
    assert "ytimg.com" in row and len(row) > 80
