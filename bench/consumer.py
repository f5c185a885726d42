"""Idempotent consumer (SQLite sink) events/s against raw consumption of the same events, in one run.

Starts its own single-node Kafka through the product's LocalStack, produces N page views once, then
reads them twice with fresh consumer groups: raw (consume, no processing) and through ConsumerWorker
(decode + validate + one SQLite transaction with the event-id claim per batch + offset commit).
Prints one JSON line: {"bench": "consumer", "figures": {...}, "baseline": {...}, "ratio": x}.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from bench.common import bench_stack, report
from ingest.chaos import ChaosSwitches
from ingest.consumers.config import for_group
from ingest.consumers.metrics import ConsumerMetrics
from ingest.consumers.sinks.sqlite import SqliteSink
from ingest.consumers.worker import ConsumerWorker
from ingest.contracts import ContractRegistry
from ingest.topics import load_topics

GROUP = "page-views-aggregator"
PARTITIONS = 6


def page_views(n: int) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        session = f"s-{i % 5000}"
        event = {"event_id": str(uuid.uuid4()), "event_type": "page_view", "schema_version": 1,
                 "occurred_at": f"2026-11-24T10:{i % 60:02d}:00.000Z", "session_id": session,
                 "user_id": None, "payload": {"url": f"/p/{i % 300}", "referrer": None,
                                              "product_id": f"p{i % 300}"}}
        out.append((session.encode(), json.dumps(event).encode()))
    return out


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.size": 262144,
                         "compression.type": "lz4", "queue.buffering.max.messages": 1_000_000})
    for key, value in records:
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    assert producer.flush(60) == 0


def raw_consume(bootstrap: str, topic: str, n: int, batch: int) -> float:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"raw-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen = 0
    started: float | None = None
    while seen < n:
        messages = consumer.consume(batch, 1.0)
        if messages and started is None:
            started = time.perf_counter()  # from the first message: group join is not consumption
        seen += sum(1 for m in messages if m.error() is None)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return elapsed


def idempotent_consume(bootstrap: str, topic: str, n: int, batch: int, home: Path) -> float:
    config = for_group(load_topics(), GROUP, bootstrap, home, topic=topic, group_id=f"bench-{uuid.uuid4()}",
                       sink_url=f"sqlite:///{home / 'sink.db'}", batch=batch, poll_timeout_s=0.5)
    metrics = ConsumerMetrics(GROUP)
    worker = ConsumerWorker(config, SqliteSink(home / "sink.db"), metrics, ContractRegistry.load(),
                            ChaosSwitches(None))
    worker.start()
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stop,))
    labels = {"group": GROUP, "topic": topic}
    runner.start()
    started: float | None = None
    while True:
        done = metrics.registry.get_sample_value("consumer_batch_size_count", labels) or 0
        if done and started is None:
            started = time.perf_counter()
            first = metrics.registry.get_sample_value("consumer_batch_size_sum", labels) or 0
        processed = metrics.registry.get_sample_value(
            "consumer_events_processed_total", labels | {"event_type": "page_view"}) or 0
        if processed >= n:
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    stop.set()
    runner.join()
    worker.close()
    # The first batch was already done when the clock started: leave it out of the rate.
    return elapsed * n / max(n - first, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with bench_stack(("kafka",)) as stack:
        bootstrap = stack.settings.kafka_bootstrap
        topic = f"bench-page-views-{uuid.uuid4().hex[:8]}"
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)
        produce(bootstrap, topic, page_views(args.events))
        raw_s = raw_consume(bootstrap, topic, args.events, args.batch)
        home = stack.settings.state_dir.parent
        idem_s = idempotent_consume(bootstrap, topic, args.events, args.batch, home)
    idem_rate, raw_rate = args.events / idem_s, args.events / raw_s
    report(
        "consumer",
        figures={"idempotent_sqlite_events_per_s": round(idem_rate), "events": args.events,
                 "batch": args.batch, "seconds": round(idem_s, 3)},
        baseline={"raw_consume_events_per_s": round(raw_rate), "seconds": round(raw_s, 3)},
        ratio=idem_rate / raw_rate,
    )


if __name__ == "__main__":
    main()
