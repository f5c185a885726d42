"""The gateway's Prometheus metrics (names in docs/METRICS.md); every series has ``gateway``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class GatewayMetrics:
    def __init__(self, gateway: str, registry: CollectorRegistry) -> None:
        self.gateway = gateway
        self.registry = registry
        label = ("gateway",)
        self.events = Counter(
            "ingest_events_total",
            "Events seen, by outcome",
            [*label, "event_type", "schema_version", "outcome"],
            registry=registry,
        )
        self.rejections = Counter(
            "ingest_rejections_total",
            "Rejected events by reason",
            [*label, "event_type", "reason"],
            registry=registry,
        )
        self.requests = Counter(
            "ingest_requests_total", "HTTP answers by status code", [*label, "code"], registry=registry
        )
        self.request_seconds = Histogram(
            "ingest_request_duration_seconds",
            "Request latency",
            [*label, "code"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.produce_seconds = Histogram(
            "ingest_produce_duration_seconds",
            "Produce to broker ack",
            [*label, "topic"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.spooled = Counter(
            "ingest_spooled_events_total",
            "Events written to the durable spool",
            [*label, "topic"],
            registry=registry,
        )
        self.replayed = Counter(
            "ingest_spool_replayed_total",
            "Spooled events delivered to Kafka",
            [*label, "topic"],
            registry=registry,
        )
        self.spool_bytes = Gauge(
            "ingest_spool_bytes", "Spool bytes not yet replayed", label, registry=registry
        )
        self.spool_events = Gauge(
            "ingest_spool_events", "Spool events not yet replayed", label, registry=registry
        )
        self.spool_capacity = Gauge("ingest_spool_capacity_bytes", "Spool bound", label, registry=registry)
        self.chaos = Gauge("ingest_chaos_fail_ratio", "Game-day failure injection", label, registry=registry)
        self.ready = Gauge("ingest_ready", "1 when /readyz answers 200", label, registry=registry)
        self._event_children: dict[tuple[str, str, str], Counter] = {}

    def count_event(self, event_type: str, version: str, outcome: str, count: int = 1) -> None:
        key = (event_type, version, outcome)
        child = self._event_children.get(key)
        if child is None:
            child = self.events.labels(self.gateway, event_type, version, outcome)
            self._event_children[key] = child
        child.inc(count)

    def observe_request(self, code: int, seconds: float) -> None:
        self.requests.labels(self.gateway, str(code)).inc()
        self.request_seconds.labels(self.gateway, str(code)).observe(seconds)
