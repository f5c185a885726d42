"""One full lag snapshot (20 groups x 1,000 partitions) against a naive one-request-per-partition read.

Starts its own single-node Kafka through the product's LocalStack, creates a 1,000-partition topic,
writes a few messages per partition and commits offsets for 20 groups. Then, in the same run:
- figure: KafkaLagCollector.collect() (batched: one describe, one offset fetch per group in flight at
  once, one list_offsets for every partition), median over several snapshots after a warm-up;
- baseline: for each group and partition, one committed-offset request and one end-offset request,
  awaited one by one (what a per-partition exporter loop does).
Both must find the same total lag. Goal: a snapshot under 1 s.
Prints one JSON line: {"bench": "lag", "figures": {...}, "baseline": {...}, "ratio": x}.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from bench.common import bench_stack, report
from collectors.kafka_lag import KafkaLagCollector
from collectors.settings import LagSettings
from controlplane.stack.topics import wait_for_leaders

GROUP_PREFIX = "bench-lag-"
TIMEOUT_S = 30.0


def prepare(bootstrap: str, topic: str, partitions: int, groups: int, per_partition: int) -> int:
    """Topic, messages and committed offsets; returns the total lag the groups must show."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(TIMEOUT_S)
    wait_for_leaders(admin, [topic], timeout=120)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for p in range(partitions):
        for _ in range(per_partition):
            producer.produce(topic, value=b"x", partition=p)
        producer.poll(0)
    assert producer.flush(60) == 0
    rng = random.Random(4)  # fixed seed: the same offsets every run
    total = 0
    for g in range(groups):
        offsets = [TopicPartition(topic, p, rng.randint(0, per_partition)) for p in range(partitions)]
        total += sum(per_partition - tp.offset for tp in offsets)
        committer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{GROUP_PREFIX}{g}",
                              "enable.auto.commit": False})
        committer.commit(offsets=offsets, asynchronous=False)
        committer.close()
    return total


def batched_snapshots(bootstrap: str, rounds: int) -> tuple[list[float], int, int]:
    collector = KafkaLagCollector(bootstrap, LagSettings(allow=(f"^{GROUP_PREFIX}",)))
    collector.start()
    collector.collect(datetime.now(UTC))  # warm-up: connections and metadata
    durations = []
    for _ in range(rounds):
        started = time.perf_counter()
        groups = collector.collect(datetime.now(UTC))
        durations.append(time.perf_counter() - started)
    report = collector.latest()
    assert report is not None and not report.errors, report and report.errors
    return durations, sum(g.lag for g in groups), sum(g.partition_count for g in groups)


def naive_snapshot(bootstrap: str, topic: str, partitions: int, groups: int) -> tuple[float, int, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.list_topics(timeout=TIMEOUT_S)  # same warm-up as the batched side
    started = time.perf_counter()
    total, requests = 0, 0
    for g in range(groups):
        group = f"{GROUP_PREFIX}{g}"
        for p in range(partitions):
            tp = TopicPartition(topic, p)
            request = [ConsumerGroupTopicPartitions(group, [tp])]
            committed = admin.list_consumer_group_offsets(request, request_timeout=TIMEOUT_S)[group]
            (got,) = committed.result(TIMEOUT_S).topic_partitions
            end = admin.list_offsets({tp: OffsetSpec.latest()}, request_timeout=TIMEOUT_S)[tp]
            total += max(end.result(TIMEOUT_S).offset - got.offset, 0)
            requests += 2
    return time.perf_counter() - started, total, requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--messages-per-partition", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with bench_stack(("kafka",)) as stack:
        bootstrap = stack.settings.kafka_bootstrap
        topic = f"bench-lag-{int(time.time())}"
        expected = prepare(bootstrap, topic, args.partitions, args.groups, args.messages_per_partition)
        durations, batched_lag, seen = batched_snapshots(bootstrap, args.rounds)
        naive_s, naive_lag, requests = naive_snapshot(bootstrap, topic, args.partitions, args.groups)
    assert batched_lag == naive_lag == expected, (batched_lag, naive_lag, expected)
    assert seen == args.partitions * args.groups, seen
    snapshot_s = statistics.median(durations)
    report(
        "lag",
        figures={"snapshot_s_median": round(snapshot_s, 4), "snapshot_s_max": round(max(durations), 4),
                    "groups": args.groups, "partitions": args.partitions, "group_partitions": seen,
                    "total_lag": batched_lag, "rounds": args.rounds, "goal_s": 1.0,
                 "within_goal": snapshot_s < 1.0},
        baseline={"naive_snapshot_s": round(naive_s, 3), "requests": requests,
                  "approach": "one committed-offset and one end-offset request per group partition"},
        ratio=naive_s / snapshot_s,
    )


if __name__ == "__main__":
    main()
