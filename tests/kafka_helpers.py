"""Reading topics back in tests, from the real broker."""

from __future__ import annotations

import time
import uuid
from collections import Counter

from confluent_kafka import Consumer, TopicPartition


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions
        }
    finally:
        consumer.close()


def read_event_ids(
    bootstrap: str,
    topic: str,
    start: dict[int, int],
    expect: int,
    timeout: float = 60.0,
    header: str = "event_id",
) -> Counter[str]:
    """Count ``header`` values of messages after ``start`` offsets until ``expect`` are seen (or timeout)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, o) for p, o in start.items()])
    seen: Counter[str] = Counter()
    deadline = time.monotonic() + timeout
    quiet_until = None
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                if sum(seen.values()) >= expect:
                    quiet_until = quiet_until or time.monotonic() + 2.0  # catch duplicates arriving late
                    if time.monotonic() > quiet_until:
                        break
                continue
            if msg.error() is None:
                headers = dict(msg.headers() or [])
                seen[headers.get(header, b"").decode()] += 1
    finally:
        consumer.close()
    return seen
