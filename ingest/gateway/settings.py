"""Gateway settings: ``ECOMCTL_INGEST_*`` environment variables (and command-line overrides)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.settings import split_csv


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECOMCTL_INGEST_", frozen=True, extra="ignore")

    name: str = Field(default="primary", pattern=r"^[a-z0-9-]{1,32}$")
    host: str = "127.0.0.1"
    port: int = Field(default=18081, ge=1, le=65535)
    bootstrap: str = "127.0.0.1:19092"
    api_keys: Annotated[tuple[str, ...], NoDecode] = ("dev-key",)
    spool_dir: Path = Path(".ecomctl/spool/primary")
    spool_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # Snowplow's 1 MB per request
    max_batch: int = Field(default=500, ge=1)
    max_event_bytes: int = Field(default=64 * 1024, ge=256)
    ack_timeout_s: float = Field(default=1.0, gt=0)  # slower than this and events go to the spool
    message_timeout_ms: int = Field(default=30000, ge=1000)
    chaos_file: Path | None = None
    topics_file: Path | None = None
    schemas_dir: Path | None = None

    @field_validator("api_keys", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("api_keys")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one producer key is required (ECOMCTL_INGEST_API_KEYS)")
        return value
