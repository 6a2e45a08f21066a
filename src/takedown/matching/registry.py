"""The one matching subsystem of a process: every in-memory index, kept caught up with the store.

A :class:`Registry` exists once per process and :class:`~takedown.app.App`
(:meth:`Registry.shared`). It holds

- the :class:`~takedown.matching.candidates.CandidateIndex`: Hamming sets (PDQ, vPDQ frames) and
  the indexes that signal types supply themselves through ``candidate_set`` (text MinHash and
  anchors); exact types are looked up in the database;
- the plugged **stages** (:data:`STAGES`): matchers with their own index that answer some signal
  types instead of the generic candidate search, and re-examine what a first-stage type missed
  (keypoints behind PDQ, robust video behind vPDQ).

Every index is built from the store on first use (``builds`` counts these), then caught up on
each :meth:`Registry.refresh` from its marks: signals stored since (by ``signal.id``) and bank
changes since (by ``bank_change.id``: additions, removals, a bank switched on or off). Rows
committed out of id order are caught by re-reading :data:`REREAD_WINDOW` ids below each mark.
A worker calls :meth:`Registry.shared` once per task (a catch-up, not a build); the API's
``LookupService`` at most every ``FRESHNESS_SECONDS``.

A stage implements :class:`Stage`; registering one is a line in :data:`STAGES` (a lazy
``module:attr`` table, as the CLI's commands), never a branch in the matcher.
"""

from __future__ import annotations

import importlib
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.app import App
from takedown.matching.candidates import REREAD_WINDOW, CandidateIndex
from takedown.store.models import BankChange, Signal

#: Plugged stages: name -> (the signal types it answers, "module:attr" of its factory).
#: A stage is loaded only when one of its types is a registered signal type.
STAGES: dict[str, tuple[frozenset[str], str]] = {
    "keypoints": (frozenset({"keypoints"}), "takedown.robust.stage:SecondStage"),
    "video_keyframe": (frozenset({"video_keyframe"}), "takedown.robust.video_stage:VideoStage"),
}

_SHARED: dict[int, tuple[weakref.ref[App], Registry]] = {}
_SHARED_LOCK = threading.Lock()

__all__ = ["REREAD_WINDOW", "STAGES", "Found", "Registry", "Stage", "StageResult"]


@dataclass(frozen=True)
class Found:
    """A stage's candidate that passed its own verification: a bank entry or content id, its
    distance (smaller is closer) and why it matched (stored in ``match.evidence``)."""

    target_id: int
    distance: int
    evidence: dict[str, Any] | None = None


@dataclass(frozen=True)
class StageResult:
    """What a stage found for stored content, named by the signal type its hits carry."""

    signal_type: str
    bank: list[Found]
    content: list[Found]


class Stage(Protocol):
    """A plugged matcher with its own index (see :data:`STAGES`)."""

    #: The stage's name (its row in :data:`STAGES` and in the readiness report).
    name: str
    #: Signal types this stage answers (the generic candidate search never sees them).
    types: frozenset[str]
    #: The first-stage signal type whose misses this stage re-examines for stored content.
    backs: str
    #: Full builds of its indexes from the store (catch-ups do not count).
    builds: int

    def catch_up(self) -> None:
        """Take in what the store holds beyond the marks: adds and removals."""

    def status(self) -> dict[str, Any]:
        """loaded, entries, marks, seconds since the last catch-up."""

    def value_search(
        self,
        signal_type: str,
        values: Sequence[str],
        *,
        bank_radius: int | None,
        content_radius: int | None,
        exclude: int | None,
    ) -> tuple[list[Found], list[Found]]:
        """Bank entries within ``bank_radius`` and content within ``content_radius`` (None:
        not searched) of a value given on its own (a lookup)."""

    def content_search(
        self,
        session: Session,
        content_id: int,
        by_type: Mapping[str, list[str]],
        *,
        banks: bool,
        contents: bool,
        bank_radius: int,
        content_radius: int,
    ) -> StageResult | None:
        """Hits of stored content (its signals ``by_type``) where the first stage was unsure;
        None when the stage has nothing to say about this content."""

    def note_content(
        self, content_id: int, signal_id: int, value: str, attached: str | None
    ) -> None:
        """Make a newly matched content's primary value findable at once."""


def _load_stage(app: App, target: str) -> Stage:
    module, _sep, attr = target.partition(":")
    factory = getattr(importlib.import_module(module), attr)
    stage: Stage = factory(app)
    return stage


class Registry:
    """Every index of one process for one App: the candidate index and the plugged stages."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.index = CandidateIndex(app)
        known = set(self.index.types)
        self.stages: list[Stage] = [
            _load_stage(app, target) for types, target in STAGES.values() if types & known
        ]
        self._by_type: dict[str, Stage] = {t: s for s in self.stages for t in s.types}
        self.lock = threading.RLock()
        self.caught_up_at: float | None = None

    @classmethod
    def shared(cls, app: App, *, refresh: bool = True) -> Registry:
        """This process's registry for ``app``: built once, then caught up with the store on
        every call (unless ``refresh`` is False), so that a worker or server never rebuilds
        an index per task or per request."""
        with _SHARED_LOCK:
            for key in [k for k, (ref, _r) in _SHARED.items() if ref() is None]:
                del _SHARED[key]
            found = _SHARED.get(id(app))
            if found is not None and found[0]() is app:
                registry = found[1]
            else:
                registry = cls(app)
                _SHARED[id(app)] = (weakref.ref(app), registry)
        if refresh:
            registry.refresh()
        return registry

    @property
    def staged_types(self) -> frozenset[str]:
        return frozenset(self._by_type)

    def stage_for(self, signal_type: str) -> Stage | None:
        return self._by_type.get(signal_type)

    def refresh(self) -> None:
        """Catch every loaded index up with the store (indexes never used stay unbuilt)."""
        with self.lock:
            self.index.refresh()
            for stage in self.stages:
                stage.catch_up()
            self.caught_up_at = time.monotonic()

    def status(self) -> dict[str, Any]:
        """Per index: loaded, entries, marks, how far behind the store, seconds since catch-up."""
        with self.app.db.session() as session:
            change = int(session.scalar(select(func.max(BankChange.id))) or 0)
            signal = int(session.scalar(select(func.max(Signal.id))) or 0)
        with self.lock:
            indexes = [self.index.status()] + [stage.status() for stage in self.stages]
            caught_up = self.caught_up_at
        for entry in indexes:
            marks = entry.get("marks") or {}
            entry["signals_behind"] = (
                max(0, signal - marks["signal"]) if marks.get("signal") is not None else None
            )
            entry["bank_changes_behind"] = (
                max(0, change - marks["bank_change"])
                if marks.get("bank_change") is not None
                else None
            )
        return {
            "max_signal_id": signal,
            "max_bank_change_id": change,
            "caught_up_seconds_ago": (
                None if caught_up is None else round(time.monotonic() - caught_up, 3)
            ),
            "indexes": indexes,
        }
