"""All configuration, read once from the environment (prefix ``SLUICE_``) by the app factory."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; every field is ``SLUICE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="SLUICE_", extra="ignore")

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("SLUICE_HOST", "HOST"))
    port: int = Field(8000, ge=1, le=65535, validation_alias=AliasChoices("SLUICE_PORT", "PORT"))
    workers: int = Field(1, ge=1, le=64)
    models_dir: Path = Path("models")
    data_dir: Path = Path("var")
    database_url: str | None = None
    migrate_on_start: bool = True
    secret_key: str | None = Field(
        None, description="HMAC secret for API keys and hashed e-mails/IPs; generated if unset"
    )
    admin_token: str | None = Field(None, description="bearer token for /admin endpoints")
    max_body_bytes: int = Field(1_000_000, ge=1024)
    max_batch: int = Field(1000, ge=1, le=10_000)
    request_timeout_seconds: float = Field(10.0, gt=0)
    model_reload_seconds: float = Field(5.0, ge=0, description="0 disables hot reload polling")
    metrics_public: bool = Field(
        False, description="serve /metrics on the public port (off: use metrics_port)"
    )
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="serve /metrics on METRICS_HOST:PORT apart from the API"
    )
    metrics_host: str = Field(
        "127.0.0.1", description="interface for metrics_port (0.0.0.0: reachable from other hosts)"
    )
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    database_lock_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=60,
        description="how long a statement waits for another's lock (SQLite busy_timeout, "
        "PostgreSQL lock_timeout), then the request spools",
    )
    spool_replay_seconds: float = Field(
        2.0, gt=0, description="how often spooled checks/feedback are retried while pending"
    )
    rate_limit_key_per_minute: int = Field(1200, ge=0, description="per API key; 0 disables")
    rate_limit_ip_per_minute: int = Field(2400, ge=0, description="per client IP; 0 disables")
    redis_url: str | None = Field(
        None, description="share rate limits and flood counters between processes and hosts"
    )
    flood_threshold: int = Field(
        4, ge=0, description="near-duplicates within the window that make a flood; 0 disables"
    )
    flood_window_seconds: int = Field(600, ge=1, le=86_400)
    cors_origins: list[str] = Field(
        default_factory=list, description="origins allowed to call the API from a browser"
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if value and value.startswith(("postgres://", "postgresql://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sluice.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.touch(mode=0o600)
        path.write_text(key, encoding="utf-8")
        return key
