"""A newcomer's first hour, as a test: clone the repository into an empty folder and run the
README's commands as written there — ``make demo`` (on the small size), the "Using it" block,
and the test suite's collection (``make test`` itself is what CI runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_docs import REPO, readme_block

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: int = 1200) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAKEDOWN_", "VIRTUAL_ENV"))}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{cmd}\nstdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    )
    return done


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("make") is None, reason="no git")
def test_readme_commands_run_on_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    _run(["git", "clone", "--quiet", "--no-local", str(REPO), str(clone)], tmp_path)
    assert not (clone / ".venv").exists() and not (clone / "takedown-data").exists()
    assert "make demo" in "\n".join(readme_block("Two commands"))

    demo = _run(["make", "demo", "DEMO_ARGS=--size small"], clone)
    assert "Re-establishment alerts" in demo.stdout
    assert "unit-a-analyst" in demo.stdout and "What to try next" in demo.stdout

    script = "set -euo pipefail\n" + "\n".join(readme_block("Using it")) + "\n"
    _run(["bash", "-c", script], clone)
    assert (clone / "outlets.stix.json").stat().st_size > 0
    assert (clone / "action-day.pdf").read_bytes().startswith(b"%PDF")

    # make test's environment is make demo's plus the dev group, and make demo keeps it
    _run(["make", "setup-dev"], clone)
    _run(["make", "setup"], clone)
    assert (clone / ".venv" / "bin" / "pytest").exists()
    collected = _run([".venv/bin/pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], clone)
    assert " tests collected" in collected.stdout or "tests collected" in collected.stdout
