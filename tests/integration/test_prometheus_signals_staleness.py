"""Staleness on a real Prometheus: a gateway that stops answering scrapes reads not ready, and its
rate-based signals turn stale at once although rate() keeps answering for a whole window.

A private Prometheus (the product's own config, free loopback port, stopped by pid) scrapes a
stand-in gateway exporter (the gateway's real metrics class) so the session's targets are untouched.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, start_http_server

from collectors.model import Snapshot
from collectors.prometheus import PrometheusSignalCollector
from collectors.signals import INGEST_ERROR_RATIO, INGEST_RATE, INGEST_READY
from controlplane.stack.prometheus import PrometheusServer, write_sd_file
from ingest.gateway.metrics import GatewayMetrics
from tests.conftest import free_ports

pytestmark = pytest.mark.integration
HOST = "127.0.0.1"
GATEWAY = "ghost"


@pytest.fixture
def private_prometheus(tmp_path: Path) -> Iterator[tuple[PrometheusServer, int]]:
    """(server, exporter port): a Prometheus of our own and the port its gateway job scrapes."""
    prometheus_port, exporter_port = free_ports(2)
    server = PrometheusServer(home=tmp_path / "prometheus", host=HOST, port=prometheus_port)
    server.prepare()
    write_sd_file(server.sd_dir / f"gateway-{GATEWAY}.json", [f"{HOST}:{exporter_port}"], {})
    process = subprocess.Popen(server.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while not server.healthy() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.healthy(), "private Prometheus did not become ready"
        yield server, exporter_port
    finally:
        process.terminate()
        process.wait(timeout=15)


def poll(collector: PrometheusSignalCollector, until: Callable[[Snapshot], bool], seconds: float,
         between: Callable[[], None] = lambda: None) -> Snapshot:
    deadline = time.monotonic() + seconds
    while True:
        between()
        snapshot = collector.collect(datetime.now(UTC))
        if until(snapshot) or time.monotonic() > deadline:
            return snapshot
        time.sleep(1.0)


def ready_is(value: float) -> Callable[[Snapshot], bool]:
    return lambda s: [x.value for x in s.find(INGEST_READY, gateway=GATEWAY)] == [value]


def test_a_gateway_that_stops_answering_scrapes_is_not_ready_and_its_rates_are_stale(
    private_prometheus: tuple[PrometheusServer, int],
) -> None:
    server, exporter_port = private_prometheus
    registry = CollectorRegistry()
    metrics = GatewayMetrics(GATEWAY, registry)
    metrics.ready.labels(GATEWAY).set(1)
    http_server, thread = start_http_server(exporter_port, addr=HOST, registry=registry)

    def traffic() -> None:
        for _ in range(20):
            metrics.observe_request(202, 0.004)
            metrics.count_event("cart", "1", "accepted")

    collector = PrometheusSignalCollector(server.url)
    collector.start()
    try:
        # Two scrapes with traffic between them, so rate() has a value.
        live = poll(collector, lambda s: bool(s.find(INGEST_RATE, gateway=GATEWAY)) and ready_is(1.0)(s),
                    seconds=40, between=traffic)
        assert [s.value > 0 for s in live.find(INGEST_RATE, gateway=GATEWAY)] == [True], live
        assert [s.value for s in live.find(INGEST_ERROR_RATIO, gateway=GATEWAY)] == [0.0], live

        http_server.shutdown()
        http_server.server_close()
        thread.join(timeout=5)
        down = poll(collector, ready_is(0.0), seconds=30)
    finally:
        collector.stop()
    assert ready_is(0.0)(down), down
    assert not down.errors, down.errors
    for name in (INGEST_RATE, INGEST_ERROR_RATIO):
        assert f"{name}:{GATEWAY}" in down.stale, down.stale
        assert down.find(name, gateway=GATEWAY) == [], down
