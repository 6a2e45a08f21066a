"""A bad value in the environment stops a command with one line on stderr naming the variable
(exit 1), not a traceback; a secret in it is not echoed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_commands import TAKEDOWN


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("TAKEDOWN_RETENTION_DAYS", "-1", "TAKEDOWN_RETENTION_DAYS: must be >= 0"),
        ("takedown_smtp_port", "seventy", "TAKEDOWN_SMTP_PORT: not a whole number"),
        ("TAKEDOWN_JOBS", "later", "TAKEDOWN_JOBS: one of auto, inprocess, queue"),
        ("TAKEDOWN_WEBHOOK_SECRETS", '{"k": hunter2}', "TAKEDOWN_WEBHOOK_SECRETS: not a JSON"),
    ],
)
def test_bad_setting_is_one_line_on_stderr(
    tmp_path: Path, variable: str, value: str, words: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("takedown_")}
    env[variable] = value
    done = subprocess.run(
        [TAKEDOWN, "--data", str(tmp_path / "data"), "operation", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(f"Error: {words}")
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr
    assert not (tmp_path / "data").exists()  # stopped before opening a store
