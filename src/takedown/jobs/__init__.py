"""Tasks: idempotent units of work with JSON-serialisable arguments.

A task is a function registered by name. The embedded default runs tasks in-process
(:class:`InProcessRunner`); a distributed runner hands the same name and arguments to a queue
engine. Submit a task only after the transaction it depends on has committed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

TaskFn = Callable[[Any, Mapping[str, Any]], Any]

_TASKS: dict[str, TaskFn] = {}


class TaskError(Exception):
    """A task that is unknown or was given arguments that cannot be serialised."""


def task(name: str) -> Callable[[TaskFn], TaskFn]:
    """Register ``fn`` as the task ``name``; ``fn(context, arguments)``."""

    def register(fn: TaskFn) -> TaskFn:
        if name in _TASKS and _TASKS[name] is not fn:
            raise TaskError(f"task {name!r} registered twice")
        _TASKS[name] = fn
        return fn

    return register


def registered() -> dict[str, TaskFn]:
    return dict(_TASKS)


def serialise(name: str, arguments: Mapping[str, Any]) -> str:
    """The wire form of a task call; raises TaskError for values JSON cannot carry."""
    if name not in _TASKS:
        raise TaskError(f"unknown task {name!r}")
    try:
        return json.dumps({"task": name, "args": dict(arguments)}, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TaskError(f"arguments of task {name!r} are not JSON-serialisable: {exc}") from exc


class Runner(Protocol):
    def submit(self, name: str, **arguments: Any) -> Any: ...


@dataclass
class InProcessRunner:
    """Runs each task at once, in this process, after a serialisation round trip.

    The round trip makes in-process runs fail the same way a distributed runner would when
    arguments cannot cross a process boundary.
    """

    context: Any
    history: list[str] = field(default_factory=list)

    def submit(self, name: str, **arguments: Any) -> Any:
        wire = serialise(name, arguments)
        call = json.loads(wire)
        self.history.append(wire)
        return _TASKS[name](self.context, call["args"])
