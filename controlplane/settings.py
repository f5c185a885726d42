"""Settings of the whole local stack and control plane.

Declared with pydantic-settings, frozen, validated at load. Sources, strongest first: constructor
arguments, ``ECOMCTL_*`` environment variables (nested with ``__``, e.g. ``ECOMCTL_PORTS__KAFKA``),
then ``ecomctl.yaml`` in the working directory (or the file named by ``ECOMCTL_CONFIG``).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from ingest.settings import split_csv

CONFIG_ENV = "ECOMCTL_CONFIG"
DEFAULT_CONFIG_FILE = "ecomctl.yaml"

Port = Annotated[int, Field(ge=1024, le=65535)]


class Ports(BaseModel):
    """Loopback ports of the local stack; defaults avoid the well-known ones (9092, 9090, 5000...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kafka: Port = 19092
    kafka_controller: Port = 19093
    prometheus: Port = 19090
    route53: Port = 15053
    gateway_primary: Port = 18081
    gateway_secondary: Port = 18082
    controlplane: Port = 18060
    console: Port = 18050
    circus: Port = 15555
    circus_pubsub: Port = 15556

    def taken_by(self) -> dict[str, int]:
        return self.model_dump()


class Settings(BaseSettings):
    """Everything `ecomctl` needs to run the local stack and the control loop."""

    model_config = SettingsConfigDict(
        env_prefix="ECOMCTL_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
    )

    state_dir: Path = Path(".ecomctl")
    cache_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ecomctl"
    )
    kafka_version: str = "4.3.1"
    host: str = "127.0.0.1"
    ports: Ports = Ports()
    ingest_api_keys: Annotated[tuple[str, ...], NoDecode] = ("dev-key",)
    console_users: Annotated[tuple[str, ...], NoDecode] = ("sre:change-me",)
    hosted_zone: str = "ecommerce-domain.com"
    ingest_record: str = "events.ecommerce-domain.com"
    record_ttl: int = Field(default=5, ge=1, le=86400)
    aws_region: str = "us-east-1"
    # Route 53 / ECS endpoint: the local emulator unless set (production: leave None, use AWS).
    aws_endpoint_url: str | None = None
    # Where the services are when they are not all on ``host`` (docker-compose, production):
    kafka_servers: str | None = None  # bootstrap servers, e.g. "kafka:9092"
    prometheus_endpoint_url: str | None = None  # e.g. "http://prometheus:9090"
    gateway_addresses: dict[str, str] = Field(default_factory=dict)  # name -> "host:port"
    controlplane_endpoint_url: str | None = None  # e.g. "http://controlplane:8060"
    policies: tuple[Path, ...] = ()
    loop_interval_s: float = Field(default=5.0, gt=0)
    dry_run: bool = False
    scaling_backend: str = "local"
    consumer_replicas: int = Field(default=1, ge=0)
    demo_rate: float = Field(default=50.0, ge=0)

    @field_validator("state_dir", "cache_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Generated configs (Prometheus file-SD, circus) resolve relative paths from their own
        # directory, not from where `ecomctl` ran: only absolute paths mean the same everywhere.
        return value.expanduser().absolute()

    @field_validator("ingest_api_keys", "console_users", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("console_users")
    @classmethod
    def _users_have_passwords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            name, sep, password = entry.partition(":")
            if not sep or not name or not password:
                # Never echo the value: it holds a password.
                raise ValueError("each console user must be 'name:password'")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG_FILE))
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file=config_file))

    # Derived locations ---------------------------------------------------------------------------
    @cached_property
    def kafka_libs(self) -> Path:
        return self.cache_dir / f"kafka-{self.kafka_version}" / "libs"

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_servers or f"{self.host}:{self.ports.kafka}"

    @property
    def prometheus_url(self) -> str:
        return self.prometheus_endpoint_url or f"http://{self.host}:{self.ports.prometheus}"

    @property
    def route53_url(self) -> str:
        return self.aws_endpoint_url or f"http://{self.host}:{self.ports.route53}"

    def gateway_url(self, name: str) -> str:
        if name in self.gateway_addresses:
            return f"http://{self.gateway_addresses[name]}"
        port = self.ports.gateway_primary if name == "primary" else self.ports.gateway_secondary
        return f"http://{self.host}:{port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.host}:{self.ports.console}"

    @property
    def controlplane_url(self) -> str:
        return self.controlplane_endpoint_url or f"http://{self.host}:{self.ports.controlplane}"

    @property
    def console_credentials(self) -> dict[str, str]:
        return dict(entry.partition(":")[::2] for entry in self.console_users)


class SettingsError(Exception):
    """A settings problem, phrased for the person who wrote the file or the variable."""


def load_settings(**overrides: Any) -> Settings:
    """Load and validate settings; errors name the source, the field and the offending value."""
    source = os.environ.get(CONFIG_ENV, DEFAULT_CONFIG_FILE)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            value = "<hidden>" if field.startswith("console_users") else repr(err.get("input"))
            lines.append(
                f"{source} / ECOMCTL_{field.upper().replace('.', '__')}: field '{field}' "
                f"value {value}: {err['msg']}"
            )
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
