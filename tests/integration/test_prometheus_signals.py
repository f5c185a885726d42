"""Signals from the real Prometheus scraping the real gateways: the collector and `ecomctl metrics`."""

from __future__ import annotations

import json
import math
import subprocess
import time
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from collectors.model import Snapshot
from collectors.prometheus import PrometheusSignalCollector
from collectors.signals import (
    INGEST_ERROR_RATIO,
    INGEST_EVENT_RATE,
    INGEST_LATENCY_P99_MS,
    INGEST_RATE,
    INGEST_READY,
)
from tests.conftest import API_KEY, free_ports
from tests.factories import EVENT_TYPES, mixed_events

pytestmark = pytest.mark.integration
TRAFFIC_S = 22.0  # several 5 s scrapes inside the collector's [1m] rate window
BATCH = 10
BATCHES_PER_S = 3  # 30 events/s, alternating gateways


@pytest.fixture(scope="module")
def traffic(gateways: dict[str, str], prometheus_url: str) -> None:
    """Post mixed events to both gateways at a modest rate, long enough for rate() to have data."""
    events = mixed_events(int(TRAFFIC_S * BATCH * BATCHES_PER_S) + BATCH, seed=23)
    names = sorted(gateways)
    headers = {"X-API-Key": API_KEY}
    clients = {n: httpx.Client(base_url=gateways[n], headers=headers, timeout=10) for n in names}
    try:
        start = time.monotonic()
        sent = 0
        while time.monotonic() - start < TRAFFIC_S:
            batch = events[sent : sent + BATCH]
            client = clients[names[(sent // BATCH) % len(names)]]
            answer = client.post("/v1/events", content=orjson.dumps(batch))
            assert answer.status_code == 202, answer.text
            sent += BATCH
            time.sleep(max(0.0, start + sent / (BATCH * BATCHES_PER_S) - time.monotonic()))
    finally:
        for client in clients.values():
            client.close()


def run_metrics(ecomctl: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run([ecomctl, "metrics", "--json"], env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def collect(prometheus_url: str) -> Snapshot:
    collector = PrometheusSignalCollector(prometheus_url)
    collector.start()
    try:
        return collector.collect(datetime.now(UTC))
    finally:
        collector.stop()


def test_metrics_json_shows_a_positive_rate_per_event_type(traffic: None, ecomctl: str,
                                                           cli_env: dict[str, str]) -> None:
    document = run_metrics(ecomctl, cli_env)
    assert document["stale"] is False, document
    event_types = document["event_types"]
    assert isinstance(event_types, dict) and set(event_types) == set(EVENT_TYPES)
    for event_type, values in event_types.items():
        assert set(values) == {"rate", "error_ratio", "latency_p50_ms", "latency_p99_ms"}
        assert values["rate"] > 0, (event_type, document)
        assert values["error_ratio"] == 0, (event_type, document)  # every event sent was valid
        assert 0 < values["latency_p50_ms"] <= values["latency_p99_ms"], (event_type, document)


@pytest.mark.parametrize("gateway", ["primary", "secondary"])
def test_collector_reads_each_gateway(traffic: None, prometheus_url: str, gateway: str) -> None:
    snapshot = collect(prometheus_url)
    assert not snapshot.errors
    values = {name: [s.value for s in snapshot.find(name, gateway=gateway)]
              for name in (INGEST_READY, INGEST_RATE, INGEST_ERROR_RATIO, INGEST_LATENCY_P99_MS)}
    assert values[INGEST_READY] == [1.0], snapshot
    assert values[INGEST_RATE][0] > 0, snapshot
    assert values[INGEST_ERROR_RATIO] == [0.0], snapshot
    assert math.isfinite(values[INGEST_LATENCY_P99_MS][0]) and values[INGEST_LATENCY_P99_MS][0] > 0
    for event_type in EVENT_TYPES:
        assert [s.value > 0 for s in snapshot.find(INGEST_EVENT_RATE, event_type=event_type,
                                                   gateway=gateway)] == [True], snapshot


def test_collection_round_is_well_under_a_second(traffic: None, prometheus_url: str) -> None:
    collector = PrometheusSignalCollector(prometheus_url)
    collector.start()
    try:
        collector.collect(datetime.now(UTC))  # the first round opens the connections
        started = time.monotonic()
        collector.collect(datetime.now(UTC))
        elapsed = time.monotonic() - started
    finally:
        collector.stop()
    assert elapsed < 0.5, f"one round took {elapsed:.3f}s"


def test_metrics_json_is_stale_with_nulls_when_prometheus_does_not_answer(ecomctl: str,
                                                                         cli_env: dict[str, str]) -> None:
    (nobody,) = free_ports(1)
    document = run_metrics(ecomctl, {**cli_env, "ECOMCTL_PORTS__PROMETHEUS": str(nobody)})
    assert document["stale"] is True
    assert "prometheus" in document["errors"]  # type: ignore[operator]
    event_types = document["event_types"]
    assert isinstance(event_types, dict) and set(event_types) == set(EVENT_TYPES)
    assert all(value is None for values in event_types.values() for value in values.values()), document
