"""Wiring: one place that turns settings into a database, blob store, registry and runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from takedown.config import Settings
from takedown.intake.records import Limits
from takedown.jobs import InProcessRunner, Runner
from takedown.store.blobs import BlobStore
from takedown.store.db import Database

if TYPE_CHECKING:
    from takedown.urls import PlatformRegistry


@dataclass
class App:
    settings: Settings
    runner: Runner | None = field(default=None)

    @cached_property
    def db(self) -> Database:
        from takedown.store import audit

        database = Database(self.settings.resolved_database_url)
        audit.install(database.engine)  # every state change joins the audit chain
        return database

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.resolved_blob_dir, max_bytes=self.settings.max_file_bytes)

    @cached_property
    def registry(self) -> PlatformRegistry:
        from takedown.urls import PlatformRegistry

        extra = [self.settings.platforms_file] if self.settings.platforms_file else []
        return PlatformRegistry.load(*extra)

    @cached_property
    def limits(self) -> Limits:
        return Limits(
            max_file_bytes=self.settings.max_file_bytes,
            max_url_chars=self.settings.max_url_chars,
            max_image_pixels=self.settings.max_image_pixels,
        )

    @cached_property
    def jobs(self) -> Runner:
        from takedown.tasks import load

        load()
        if self.runner is not None:
            return self.runner
        if self.settings.queued:
            from takedown.jobs.queue import QueueOptions, QueueRunner

            options = QueueOptions(self.settings.job_max_attempts, self.settings.job_backoff)
            return QueueRunner(self.db.engine, self.settings.resolved_database_url, options)
        return InProcessRunner(self)

    @property
    def queued(self) -> bool:
        """True when submitted tasks are enqueued for workers instead of run here."""
        return not isinstance(self.jobs, InProcessRunner)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
