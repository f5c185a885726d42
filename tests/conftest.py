"""Session fixtures: the real components (Kafka KRaft, Prometheus, moto's Route 53), started through
the product's own stack code on free loopback ports, and stopped by pid at the end of the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from controlplane.settings import Settings
from controlplane.stack.components import INFRASTRUCTURE, default_components
from controlplane.stack.components import settings_env as components_env
from controlplane.stack.ports import free_loopback_ports, free_stack_ports
from controlplane.stack.stack import LocalStack
from controlplane.stack.supervisor import pid_alive

REPO = Path(__file__).resolve().parents[1]
API_KEY = "test-key"


def free_ports(count: int) -> list[int]:
    return free_loopback_ports(count)


def make_settings(state_dir: Path, **overrides: object) -> Settings:
    return Settings(state_dir=state_dir, ports=free_stack_ports(), ingest_api_keys=(API_KEY,), **overrides)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that makes a child `ecomctl` see the same settings (console users included)."""
    return {
        **os.environ,
        **components_env(settings),
        "ECOMCTL_CONSOLE_USERS": ",".join(settings.console_users),
    }


def start_stack(settings: Settings, components: tuple[str, ...]) -> Iterator[LocalStack]:
    stack = LocalStack(settings, components)
    stack.start()
    try:
        yield stack
    finally:
        pids = stack.stop()
        left = [p for p in pids if pid_alive(p)]
        assert not left, f"processes left behind after stop: {left}"


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("stack") / ".ecomctl")


@pytest.fixture(scope="session")
def infra(stack_settings: Settings) -> Iterator[LocalStack]:
    """Kafka, Prometheus, the Route 53 emulator, both gateways and the consumers, once per session."""
    yield from start_stack(stack_settings, (*INFRASTRUCTURE, "gateways", "consumers"))


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: LocalStack) -> str:
    return infra.settings.kafka_bootstrap


@pytest.fixture(scope="session")
def prometheus_url(infra: LocalStack) -> str:
    return infra.settings.prometheus_url


@pytest.fixture(scope="session")
def route53_endpoint(infra: LocalStack) -> str:
    return infra.settings.route53_url


@pytest.fixture(scope="session")
def gateways(infra: LocalStack) -> dict[str, str]:
    return {name: infra.settings.gateway_url(name) for name in ("primary", "secondary")}


E2E_POLICIES = REPO / "tests" / "e2e" / "policies.yaml"


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The whole local stack as `ecomctl up` runs it (demo traffic included), with the e2e policies."""
    policies = (E2E_POLICIES,) if E2E_POLICIES.exists() else ()
    settings = make_settings(
        tmp_path_factory.mktemp("live") / ".ecomctl", policies=policies, loop_interval_s=2.0
    )
    for stack in start_stack(settings, default_components(settings)):
        yield stack.settings


@pytest.fixture(scope="session")
def live_env(live_stack: Settings) -> dict[str, str]:
    """Environment for a child `ecomctl` that talks to ``live_stack``."""
    return settings_env(live_stack)


@pytest.fixture(scope="session")
def cli_env(stack_settings: Settings) -> dict[str, str]:
    return settings_env(stack_settings)


@pytest.fixture(scope="session")
def ecomctl() -> str:
    return str(REPO / ".venv" / "bin" / "ecomctl")
