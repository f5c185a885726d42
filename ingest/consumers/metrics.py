"""The consumer series of docs/METRICS.md, in a registry of the worker's own, every one with ``group``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# occurred_at -> commit: sub-second when keeping up, minutes while catching up on a backlog.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class ConsumerMetrics:
    def __init__(self, group: str, registry: CollectorRegistry | None = None) -> None:
        self.group = group
        self.registry = registry or CollectorRegistry()
        self.processed = Counter("consumer_events_processed_total", "Events committed to the sink",
                                 ["group", "topic", "event_type"], registry=self.registry)
        self.duplicates = Counter("consumer_duplicates_total",
                                  "Events ignored because their event_id was already in the sink",
                                  ["group", "topic"], registry=self.registry)
        self.failed = Counter("consumer_events_failed_total", "Events sent to the DLQ",
                              ["group", "topic", "reason"], registry=self.registry)
        self.latency = Histogram("consumer_processing_latency_seconds",
                                 "Event occurred_at -> offset committed", ["group", "topic"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram("consumer_batch_size", "Messages per poll batch", ["group", "topic"],
                                    buckets=BATCH_BUCKETS, registry=self.registry)
        self.chaos_delay = Gauge("consumer_chaos_delay_seconds", "Game-day delay per event", ["group"],
                                 registry=self.registry)
        self.chaos_delay.labels(group=group).set(0)

    def record_batch(self, topic: str, size: int) -> None:
        self.batch_size.labels(group=self.group, topic=topic).observe(size)

    def record_processed(self, topic: str, event_type: str, count: int) -> None:
        self.processed.labels(group=self.group, topic=topic, event_type=event_type).inc(count)

    def record_duplicates(self, topic: str, count: int) -> None:
        self.duplicates.labels(group=self.group, topic=topic).inc(count)

    def record_failed(self, topic: str, reason: str) -> None:
        self.failed.labels(group=self.group, topic=topic, reason=reason).inc()

    def record_latencies(self, topic: str, seconds: list[float]) -> None:
        child = self.latency.labels(group=self.group, topic=topic)
        for value in seconds:
            child.observe(max(value, 0.0))

    def set_chaos_delay(self, seconds: float) -> None:
        self.chaos_delay.labels(group=self.group).set(seconds)
