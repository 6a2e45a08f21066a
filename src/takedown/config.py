"""Typed settings, read once from the environment and passed down (never global)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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
    smtp_host: str | None = Field(default=None, description="referrals: SMTP server host")
    smtp_port: int = Field(default=25, gt=0, lt=65536, description="referrals: SMTP port")
    smtp_sender: str = Field(default="referrals@takedown.invalid", description="From address")
    webhook_secrets: dict[str, SecretStr] = Field(default_factory=dict, description="per key")
    referral_callback_url: str | None = Field(default=None, description="sent in webhooks")
    referral_timeout: float = Field(default=10.0, gt=0, description="seconds per delivery")
    referral_backoff: float = Field(default=30.0, gt=0, description="first retry delay, s")
    referral_backoff_max: float = Field(default=3600.0, gt=0, description="longest delay, s")
    referral_lease: float = Field(default=300.0, ge=0, description="resend a stuck send after")
    referral_skew: float = Field(default=300.0, gt=0, description="callback timestamp window")
    referral_outbox: Path | None = Field(default=None, description="file packages; DATA/outbox")
    jobs: Literal["auto", "inprocess", "queue"] = Field(
        default="auto",
        description="task runner: auto = queue (Procrastinate) on PostgreSQL, in-process on SQLite",
    )
    job_max_attempts: int = Field(default=5, ge=1, description="attempts before a job fails")
    job_backoff: int = Field(default=2, ge=0, description="retry waits B, B**2, B**3... s")
    verify_concurrency: int = Field(default=2, ge=1, description="checks at once per host")
    verify_host_interval: float = Field(
        default=0.0, ge=0, description="seconds between requests to one host, all workers"
    )
    verify_timeout: float = Field(default=10.0, gt=0, description="seconds per check request")
    verify_max_body: int = Field(default=65536, ge=1024, description="bytes read per answer")
    verify_vantage: str = Field(default="default", description="name of this vantage point")
    verify_allow_loopback: bool = Field(default=False, description="TEST ONLY: allow loopback")
    verify_host_map: str = Field(default="", description="demo: 'pattern=addr:port,...'")
    text_encoder_path: Path | None = Field(
        default=None,
        description="folder of a local multilingual sentence-embedding model (model2vec "
        "layout); registers the text_encoder signal type (translations). Never downloaded",
    )
    verify_host_map_plain_http: bool = Field(
        default=False, description="demo: reach mapped hosts over plain HTTP"
    )
    secure_cookies: bool = Field(
        default=False, description="always mark cookies Secure (TLS ends at a proxy)"
    )
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="addresses whose X-Forwarded-For/-Proto are believed ('*' = any)",
    )
    hash_concurrency: int = Field(
        default=2, ge=1, le=64, description="file hashing requests at once (lookup, uploads)"
    )
    handling_marking: str = Field(
        default="TLP:AMBER · law enforcement and named recipients only",
        description="printed at the top of every PDF report page (a report may give its own)",
    )

    @field_validator("handling_marking")
    @classmethod
    def _marking(cls, value: str) -> str:
        from takedown.ops.render import handling_marking

        return handling_marking(value)  # ValueError: pydantic names the setting

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data / 'takedown.sqlite3').resolve()}"

    @property
    def queued(self) -> bool:
        """Whether tasks run as queued jobs (for workers) rather than in this process."""
        if self.jobs == "auto":
            return self.resolved_database_url.startswith(("postgresql", "postgres:"))
        return self.jobs == "queue"

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data / "blobs"

    @property
    def quarantine_dir(self) -> Path:
        return self.data / "quarantine"
