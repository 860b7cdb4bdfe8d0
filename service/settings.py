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
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

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
