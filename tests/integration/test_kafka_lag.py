"""Consumer lag against the real broker: exact lag via `ecomctl lag --json` and the collector, and lag
in seconds within 20% of the true age of the oldest unconsumed message under steady production."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from collectors.kafka_lag import KafkaLagCollector
from collectors.model import LagStatus
from collectors.settings import LagSettings

pytestmark = pytest.mark.integration


def create_topic(bootstrap: str, partitions: int) -> str:
    topic = f"lag-it-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(timeout=30)
    deadline = time.monotonic() + 30
    while len(admin.list_topics(topic, timeout=10).topics[topic].partitions) < partitions:
        assert time.monotonic() < deadline, f"topic {topic} not ready"
        time.sleep(0.2)
    return topic


def produce(bootstrap: str, topic: str, count: int, partitions: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(count):
        producer.produce(topic, value=b"x", partition=i % partitions)
    assert producer.flush(30) == 0


def consume_some(bootstrap: str, topic: str, group: str, count: int) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + 60
    while seen < count and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            seen += 1
    consumer.commit(asynchronous=False)
    consumer.close()
    assert seen >= count


def independent_lag(bootstrap: str, topic: str, group: str,
                    partitions: int) -> dict[int, tuple[int, int, int]]:
    """(committed, end, lag) per partition with a commit, read with a plain consumer, not our code."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        committed = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        result = {}
        for tp in committed:
            if tp.offset >= 0:
                end = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)[1]
                result[tp.partition] = (tp.offset, end, end - tp.offset)
        return result
    finally:
        consumer.close()


def test_lag_of_a_partly_consumed_topic_is_exact(kafka_bootstrap: str, cli_env: dict[str, str],
                                                 ecomctl: str) -> None:
    topic, group = create_topic(kafka_bootstrap, 3), f"lag-it-group-{uuid.uuid4().hex[:8]}"
    produce(kafka_bootstrap, topic, 300, 3)
    consume_some(kafka_bootstrap, topic, group, 120)
    expected = independent_lag(kafka_bootstrap, topic, group, 3)
    assert expected and sum(lag for _, _, lag in expected.values()) > 0

    proc = subprocess.run([ecomctl, "lag", "--json"], env=cli_env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    (shown,) = [g for g in document["groups"] if g["group"] == group]
    got = {p["partition"]: (p["committed"], p["end_offset"], p["lag"]) for p in shown["partitions"]
           if p["topic"] == topic}
    assert got == expected
    assert shown["lag"] == sum(lag for _, _, lag in expected.values())
    # The consumer left with lag behind it and nobody owns its partitions: stopped, not merely stalled.
    assert (shown["state"], shown["status"]) == ("Empty", "STOP")

    collector = KafkaLagCollector(kafka_bootstrap, LagSettings(allow=(f"^{group}$",)))
    collector.start()
    (direct,) = collector.collect(datetime.now(UTC))
    assert {p.partition: (p.committed, p.end_offset, p.lag) for p in direct.partitions} == expected


RATE = 50  # messages per second produced
CONSUME_RATE = 25  # the consumer is deliberately slower
DURATION_S = 40.0


def steady_producer(bootstrap: str, topic: str, stop: threading.Event) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    started = time.monotonic()
    sent = 0
    while not stop.is_set():
        while sent < (time.monotonic() - started) * RATE:
            producer.produce(topic, value=b"x")
            sent += 1
        producer.poll(0)
        time.sleep(0.005)
    producer.flush(10)


def slow_consumer(bootstrap: str, topic: str, group: str, stop: threading.Event) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    try:
        while not stop.is_set():
            msg = consumer.poll(0.2)
            if msg is None or msg.error() is not None:
                continue
            time.sleep(1 / CONSUME_RATE)
            consumer.commit(message=msg, asynchronous=False)
    finally:
        consumer.close()


def produced_at(bootstrap: str, topic: str, offset: int) -> float:
    """CreateTime (epoch s) of the message at ``offset``, read by a consumer of its own."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{uuid.uuid4().hex}",
                       "enable.auto.commit": False})
    reader.assign([TopicPartition(topic, 0, offset)])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = reader.poll(0.5)
            if msg is not None and msg.error() is None:
                assert msg.offset() == offset
                return msg.timestamp()[1] / 1000
        raise AssertionError(f"no message at offset {offset}")
    finally:
        reader.close()


def test_lag_seconds_tracks_the_age_of_the_oldest_unconsumed_message(kafka_bootstrap: str) -> None:
    topic, group = create_topic(kafka_bootstrap, 1), f"lag-it-slow-{uuid.uuid4().hex[:8]}"
    collector = KafkaLagCollector(kafka_bootstrap, LagSettings(allow=(f"^{group}$",)))
    collector.start()
    collector.collect(datetime.now(UTC))  # the table starts before the first message
    stop = threading.Event()
    threads = [threading.Thread(target=steady_producer, args=(kafka_bootstrap, topic, stop)),
               threading.Thread(target=slow_consumer, args=(kafka_bootstrap, topic, group, stop))]
    for t in threads:
        t.start()
    checks: list[tuple[float, float]] = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < DURATION_S:
            time.sleep(1.0)
            now = datetime.now(UTC)
            groups = collector.collect(now)
            if time.monotonic() - started < 15 or not groups or not groups[0].partitions:
                continue  # let a real backlog build: early ages are too small for a 20% bound
            (p,) = groups[0].partitions
            report = collector.latest()
            assert p.committed is not None and p.lag_seconds is not None and report is not None
            assert not report.lower_bounds
            checks.append((p.lag_seconds, now.timestamp() - produced_at(kafka_bootstrap, topic, p.committed)))
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert len(checks) >= 10
    for estimated, true_age in checks:
        assert abs(estimated - true_age) <= 0.2 * true_age, f"estimated {estimated:.2f} true {true_age:.2f}"
    # The consumer falls behind all along: ages grow, offsets move, lag never falls: WARN.
    assert checks[-1][1] > checks[0][1]
    assert groups[0].status is LagStatus.WARN
