"""`ecomctl topics diff|apply` against the live cluster."""

from __future__ import annotations

import json
import subprocess

import pytest
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from tests.conftest import free_ports

pytestmark = pytest.mark.integration


def run(ecomctl: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ecomctl, "topics", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_diff_shows_drift_and_apply_repairs_it(
    kafka_bootstrap: str, ecomctl: str, cli_env: dict[str, str]
) -> None:
    clean = run(ecomctl, cli_env, "diff", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout) == {"drift": []}
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    entry = ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, "purchases", incremental_configs=[entry])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(timeout=15)
    drift = run(ecomctl, cli_env, "diff", "--json")
    assert drift.returncode == 1
    assert json.loads(drift.stdout)["drift"] == [
        {"topic": "purchases", "field": "retention.ms", "declared": "604800000", "live": "1000"}
    ]
    applied = run(ecomctl, cli_env, "apply")
    assert applied.returncode == 0, applied.stderr
    assert run(ecomctl, cli_env, "diff").returncode == 0


def test_diff_names_the_broker_when_kafka_is_unreachable(ecomctl: str, cli_env: dict[str, str]) -> None:
    env = {**cli_env, "ECOMCTL_PORTS__KAFKA": str(free_ports(1)[0])}
    answer = run(ecomctl, env, "diff")
    assert answer.returncode == 2
    assert "cannot read topics from Kafka at 127.0.0.1:" in answer.stderr
