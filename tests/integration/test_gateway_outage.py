"""Producers never break: the broker stops for 20 s under a steady post loop; every 2xx event is
in Kafka afterwards. Runs on a stack of its own (it stops that stack's broker)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from confluent_kafka.admin import AdminClient

from controlplane.stack.stack import LocalStack
from tests.conftest import API_KEY, make_settings, start_stack
from tests.factories import make_event
from tests.kafka_helpers import read_event_ids

pytestmark = pytest.mark.integration
OUTAGE_S = 20.0


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    settings = make_settings(Path(tmp_path_factory.mktemp("outage")) / ".ecomctl")
    yield from start_stack(settings, ("kafka", "gateways"))


def test_broker_outage_loses_no_acknowledged_event(own_stack: LocalStack) -> None:
    url = own_stack.settings.gateway_url("primary")
    statuses: Counter[int] = Counter()
    acked: list[tuple[str, str]] = []
    stop = threading.Event()

    def post_loop() -> None:
        with httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}, timeout=30) as client:
            i = 0
            while not stop.is_set():
                batch = [make_event(("page_view", "cart", "purchase")[(i + k) % 3]) for k in range(5)]
                answer = client.post("/v1/events", content=orjson.dumps(batch))
                statuses[answer.status_code] += 1
                if answer.status_code == 202:
                    acked.extend((e["event_type"], e["event_id"]) for e in batch)
                i += 1
                time.sleep(0.05)

    poster = threading.Thread(target=post_loop)
    poster.start()
    try:
        time.sleep(5)
        own_stack.supervisor.call("stop", name="kafka", waiting=True, timeout=60)
        time.sleep(OUTAGE_S)
        spooled = httpx.get(f"{url}/readyz").json()["spool_bytes"]
        own_stack.supervisor.call("start", name="kafka", waiting=True, timeout=60)
        time.sleep(10)
    finally:
        stop.set()
        poster.join()
    assert spooled > 0, "the outage did not reach the spool"
    assert set(statuses) == {202}, f"answers during the outage: {dict(statuses)}"
    deadline = time.monotonic() + 60
    while httpx.get(f"{url}/readyz").json()["spool_bytes"] and time.monotonic() < deadline:
        time.sleep(0.5)
    topics = {"page_view": "page-views", "cart": "cart-events", "purchase": "purchases"}
    for event_type, topic in topics.items():
        wanted = {event_id for kind, event_id in acked if kind == event_type}
        start = {p: 0 for p in _partitions(own_stack, topic)}
        seen = read_event_ids(own_stack.settings.kafka_bootstrap, topic, start, len(wanted), timeout=90)
        missing = wanted - set(seen)
        assert not missing, f"{topic}: {len(missing)} acknowledged events are not in Kafka"


def _partitions(stack: LocalStack, topic: str) -> list[int]:
    metadata = AdminClient({"bootstrap.servers": stack.settings.kafka_bootstrap}).list_topics(
        topic, timeout=10
    )
    return list(metadata.topics[topic].partitions)
