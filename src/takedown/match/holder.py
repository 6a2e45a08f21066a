"""Keeps a matcher answering health checks while its index loads."""

from __future__ import annotations

import threading
from pathlib import Path

from takedown.match.hamming import HammingIndex


class IndexHolder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: HammingIndex | None = None
        self._state = "empty"
        self._error: str | None = None
        self._thread: threading.Thread | None = None

    def start_loading(self, path: Path) -> None:
        """Load in a background thread; the current index (if any) keeps answering."""
        with self._lock:
            self._state = "loading"
            self._error = None
        self._thread = threading.Thread(target=self._load, args=(path,), daemon=True)
        self._thread.start()

    def _load(self, path: Path) -> None:
        try:
            index = HammingIndex.load(path)
        except (OSError, ValueError) as exc:
            with self._lock:
                self._state, self._error = "failed", str(exc)
            return
        with self._lock:
            self._index, self._state = index, "ready"

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> dict[str, object]:
        with self._lock:
            entries = len(self._index) if self._index is not None else 0
            return {"state": self._state, "entries": entries, "error": self._error}

    def index(self) -> HammingIndex | None:
        with self._lock:
            return self._index
