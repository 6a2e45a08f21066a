"""Typed settings, read once from the environment and passed down (never global)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where data lives and the limits that protect it.

    Every field can be set from the environment with the ``TAKEDOWN_`` prefix, e.g.
    ``TAKEDOWN_DATA=/srv/takedown`` or ``TAKEDOWN_DATABASE_URL=postgresql+psycopg://...``.
    """

    model_config = SettingsConfigDict(env_prefix="TAKEDOWN_", extra="ignore")

    data: Path = Field(default=Path("takedown-data"), description="data folder (embedded)")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite")
    blob_dir: Path | None = Field(default=None, description="blob folder; default DATA/blobs")
    retention_days: int = Field(default=183, ge=0, description="preservation after removal")
    max_file_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_image_pixels: int = Field(default=100_000_000, gt=0)
    max_url_chars: int = Field(default=8192, gt=0)
    batch_size: int = Field(default=2000, gt=0, description="records per ingest transaction")
    platforms_file: Path | None = Field(default=None, description="operator overrides")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data / 'takedown.sqlite3').resolve()}"

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data / "blobs"

    @property
    def quarantine_dir(self) -> Path:
        return self.data / "quarantine"
