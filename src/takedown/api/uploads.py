"""Uploaded files, the same way for every route that takes one: streamed to a private
temporary file under ``<data>/uploads`` (refused past the size limit), handed to the work
in the thread pool, removed afterwards whatever happens.

Hashing a file (decode, PDQ, video frames) is the dearest thing a request can ask for, so the
routes that take a file share a bounded number of slots (``TAKEDOWN_HASH_CONCURRENCY``,
default 2): when all are taken the request is refused at once with ``503`` and
``Retry-After`` rather than queued (docs/security.md, "Concurrency limit")."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import Request, UploadFile
from starlette.concurrency import run_in_threadpool

from takedown.api.auth import Principal
from takedown.api.common import ApiError, get_app, save_upload
from takedown.api.schemas import One, SubmitResult
from takedown.app import App


def submitter(who: Principal) -> str:
    """The reporter (and audit actor) recorded for what a key submits or changes."""
    return f"api-key:{who.key_id}:{who.name}"[:200]


RETRY_AFTER_SECONDS = 5


class HashSlots:
    """A bounded number of file-hashing requests at once, per server process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.busy = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self) -> Any:
        with self._lock:
            if self.busy >= self.size:
                raise ApiError(
                    503,
                    "busy",
                    f"{self.size} files are being hashed already; retry shortly",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            self.busy += 1
        try:
            yield
        finally:
            with self._lock:
                self.busy -= 1


def upload_dir(app: App) -> Path:
    folder = app.settings.data / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.asynccontextmanager
async def received(
    request: Request, file: UploadFile, *, suffixes: tuple[str, ...] = ()
) -> AsyncIterator[Path]:
    """The upload as a private file (named with its own suffix when that is one of
    ``suffixes``, for importers that go by it), deleted when the block ends."""
    app = get_app(request)
    slots: HashSlots = request.app.state.hash_slots
    with slots.slot():
        path = await save_upload(file, upload_dir(app), app.settings.max_file_bytes)
        suffix = Path(file.filename or "").suffix.lower()
        if suffix in suffixes:
            path = path.rename(path.with_name(path.name + suffix))
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


async def submit_upload(
    request: Request,
    file: UploadFile,
    ingest: Callable[[Path], dict[str, Any]],
    *,
    refusal: str,
    suffixes: tuple[str, ...] = (),
) -> One[SubmitResult]:
    """Receive ``file``, run ``ingest(path)`` (an import report) in the thread pool; an intake
    refusal (``ValueError``) is answered 400 with the code ``refusal``."""
    async with received(request, file, suffixes=suffixes) as path:
        try:
            result = await run_in_threadpool(ingest, path)
        except ValueError as exc:
            raise ApiError(400, refusal, str(exc)) from exc
    return One(data=SubmitResult(**result))
