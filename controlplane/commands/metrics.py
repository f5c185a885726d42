"""`ecomctl metrics [--json]`: ingest rate, error ratio and latency per event type, from Prometheus.

Per event type: ``rate`` is events/s summed over the gateways, ``error_ratio`` is rejected / all
events, and the latencies are the request-latency quantiles over every gateway (the histogram has no
event type: a request carries a batch of mixed types). ``stale`` is true when Prometheus failed or
any of those values has no recent sample; such values are null, never 0. Gateways and consumer
groups are reported too. Exit code 0 whenever a report was printed, stale or not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, get_args

import typer

from collectors.model import Snapshot
from collectors.prometheus import PrometheusSignalCollector
from collectors.signals import (
    CONSUMER_LATENCY_P50_MS,
    CONSUMER_LATENCY_P99_MS,
    CONSUMER_RATE,
    INGEST_ERROR_RATIO,
    INGEST_EVENT_ERROR_RATIO,
    INGEST_EVENT_RATE,
    INGEST_LATENCY_P50_MS,
    INGEST_LATENCY_P99_MS,
    INGEST_OVERALL_LATENCY_P50_MS,
    INGEST_OVERALL_LATENCY_P99_MS,
    INGEST_RATE,
    INGEST_READY,
)
from controlplane.commands.output import JSON_HELP, print_json, print_table
from controlplane.settings import load_settings
from ingest.topics import EventType

EVENT_TYPES: tuple[str, ...] = get_args(EventType)
DIGITS = 6


def _one(snapshot: Snapshot, name: str, **labels: str) -> float | None:
    found = snapshot.find(name, **labels)
    return round(found[0].value, DIGITS) if found else None


def _subjects(snapshot: Snapshot, label: str, *names: str) -> list[str]:
    return sorted({value for s in snapshot.samples if s.name in names
                   for value in [s.label(label)] if value is not None})


def metrics_document(snapshot: Snapshot, prometheus_url: str) -> dict[str, Any]:
    """The DESIGN 3.4 ``metrics`` shape (plus gateways, consumers and diagnostics) from one snapshot."""
    p50 = _one(snapshot, INGEST_OVERALL_LATENCY_P50_MS)
    p99 = _one(snapshot, INGEST_OVERALL_LATENCY_P99_MS)
    event_types: dict[str, dict[str, float | None]] = {}
    for event_type in EVENT_TYPES:
        rates = snapshot.find(INGEST_EVENT_RATE, event_type=event_type)
        event_types[event_type] = {
            "rate": round(sum(s.value for s in rates), DIGITS) if rates else None,
            "error_ratio": _one(snapshot, INGEST_EVENT_ERROR_RATIO, event_type=event_type),
            "latency_p50_ms": p50,
            "latency_p99_ms": p99,
        }
    # A gateway whose series of a type went stale leaves that type's rate short: that is stale too.
    partial = any(key.startswith(f"{INGEST_EVENT_RATE}:{t}/") for key in snapshot.stale for t in EVENT_TYPES)
    missing = any(value is None for values in event_types.values() for value in values.values())
    gateways = {
        gateway: {
            "rate": _one(snapshot, INGEST_RATE, gateway=gateway),
            "error_ratio": _one(snapshot, INGEST_ERROR_RATIO, gateway=gateway),
            "latency_p50_ms": _one(snapshot, INGEST_LATENCY_P50_MS, gateway=gateway),
            "latency_p99_ms": _one(snapshot, INGEST_LATENCY_P99_MS, gateway=gateway),
            "ready": _one(snapshot, INGEST_READY, gateway=gateway),
        }
        for gateway in _subjects(snapshot, "gateway", INGEST_RATE, INGEST_READY)
    }
    consumers = {
        group: {
            "rate": _one(snapshot, CONSUMER_RATE, group=group),
            "latency_p50_ms": _one(snapshot, CONSUMER_LATENCY_P50_MS, group=group),
            "latency_p99_ms": _one(snapshot, CONSUMER_LATENCY_P99_MS, group=group),
        }
        for group in _subjects(snapshot, "group", CONSUMER_RATE, CONSUMER_LATENCY_P99_MS)
    }
    return {
        "stale": bool(snapshot.errors) or missing or partial,
        "event_types": event_types,
        "gateways": gateways,
        "consumers": consumers,
        "stale_signals": sorted(snapshot.stale),
        "errors": dict(snapshot.errors),
        "prometheus": prometheus_url,
        "at": snapshot.at.isoformat(timespec="seconds"),
    }


def collect_snapshot(prometheus_url: str, now: datetime) -> Snapshot:
    collector = PrometheusSignalCollector(prometheus_url)
    collector.start()
    try:
        return collector.collect(now)
    finally:
        collector.stop()


def _num(value: float | None, digits: int) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def print_metrics_tables(document: dict[str, Any]) -> None:
    title = "Ingest by event type" + (" (STALE)" if document["stale"] else "")
    print_table(title, ["Event type", "Rate (ev/s)", "Error ratio", "p50 (ms)", "p99 (ms)"], [
        [name, _num(v["rate"], 2), _num(v["error_ratio"], 4), _num(v["latency_p50_ms"], 1),
         _num(v["latency_p99_ms"], 1)]
        for name, v in document["event_types"].items()
    ])
    if document["gateways"]:
        print_table("Gateways", ["Gateway", "Ready", "Rate (req/s)", "5xx ratio", "p50 (ms)", "p99 (ms)"], [
            [name, _num(v["ready"], 0), _num(v["rate"], 2), _num(v["error_ratio"], 4),
             _num(v["latency_p50_ms"], 1), _num(v["latency_p99_ms"], 1)]
            for name, v in document["gateways"].items()
        ])
    if document["consumers"]:
        print_table("Consumer groups", ["Group", "Rate (ev/s)", "p50 (ms)", "p99 (ms)"], [
            [name, _num(v["rate"], 2), _num(v["latency_p50_ms"], 1), _num(v["latency_p99_ms"], 1)]
            for name, v in document["consumers"].items()
        ])


def register(app: typer.Typer) -> None:
    @app.command()
    def metrics(json_: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Ingest rate, error ratio, latency p50/p99 per event type (from Prometheus); '-' is stale."""
        url = load_settings().prometheus_url
        document = metrics_document(collect_snapshot(url, datetime.now(UTC)), url)
        if json_:
            print_json(document)
            return
        print_metrics_tables(document)
        for source, message in document["errors"].items():
            typer.echo(f"error ({source} at {url}): {message}", err=True)
