"""The ``takedown`` script pauses Python's cyclic garbage collector while a command starts
(its modules load), and gives it back: at once when the command ends, or after ``GC_PAUSE``
seconds when it runs longer (an import, a worker, the server must not run without it)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest

import takedown.cli as cli


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_a_short_command_runs_paused_and_the_collector_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(gc.isenabled()))
    cli.run()
    assert seen == [False] and gc.isenabled()


def test_a_long_command_gets_the_collector_back_after_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []

    def long_command() -> None:
        seen.append(gc.isenabled())
        deadline = time.monotonic() + 30
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(gc.isenabled())
        frozen = gc.get_freeze_count()
        seen.append(frozen > 0)

    monkeypatch.setattr(cli, "GC_PAUSE", 0.05)
    monkeypatch.setattr(cli, "main", long_command)
    cli.run()
    assert seen == [False, True, True]  # paused, then back (what was loaded: frozen)


def test_a_failing_command_gives_the_collector_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing() -> None:
        raise SystemExit(2)

    monkeypatch.setattr(cli, "main", failing)
    with pytest.raises(SystemExit):
        cli.run()
    assert gc.isenabled()


def test_a_caller_that_turned_the_collector_off_keeps_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "main", lambda: None)
    gc.disable()
    cli.run()
    assert not gc.isenabled() and gc.get_freeze_count() == 0
