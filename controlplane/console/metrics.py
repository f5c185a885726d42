"""Range queries behind the console's figures: one PromQL query per figure, the last hour at 5 s.

``RangeSource`` answers a query with Prometheus' matrix result (``[{"metric": {...}, "values":
[[ts, "v"], ...]}]``); ``PrometheusRangeSource`` asks a real Prometheus through prometheus_api_client,
``InMemoryRangeSource`` answers from matrices it was given (tests, benchmark).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_api_client import PrometheusConnect

Matrix = list[dict[str, Any]]

WINDOW = timedelta(hours=1)
STEP_S = 5


class RangeSource(Protocol):
    def query_range(self, query: str, start: datetime, end: datetime, step_s: int) -> Matrix: ...


class PrometheusRangeSource:
    """prometheus_api_client's custom_query_range; the HTTP session opens on the first query."""

    def __init__(self, url: str, timeout_s: float = 2.0) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._prometheus: PrometheusConnect | None = None

    def query_range(self, query: str, start: datetime, end: datetime, step_s: int) -> Matrix:
        if self._prometheus is None:
            self._prometheus = PrometheusConnect(url=self._url, disable_ssl=True, timeout=self._timeout_s)
        result = self._prometheus.custom_query_range(query, start_time=start, end_time=end, step=f"{step_s}s")
        return list(result)


class InMemoryRangeSource:
    """Answers each query with the matrix registered for it (a missing query has no data)."""

    def __init__(self, matrices: Mapping[str, Matrix]) -> None:
        self._matrices = dict(matrices)

    def query_range(self, query: str, start: datetime, end: datetime, step_s: int) -> Matrix:
        lo, hi = start.timestamp(), end.timestamp()
        return [{"metric": s["metric"], "values": [v for v in s["values"] if lo <= v[0] <= hi]}
                for s in self._matrices.get(query, [])]


@dataclass(frozen=True, slots=True)
class FigureSpec:
    """One figure: its query, how a series is named, its unit and how values are shown."""

    key: str
    title: str
    query: str
    legend: Callable[[Mapping[str, str]], str]
    axis: str  # y axis title, with the unit
    hover: str  # d3 format of the value in the hover label
    suffix: str = ""  # unit after the hovered value
    scale: float = 1.0  # value multiplier (e.g. seconds -> milliseconds)
    shape: str = "linear"  # "hv" for values that change in steps (weights, replicas)


def by(label: str) -> Callable[[Mapping[str, str]], str]:
    return lambda metric: metric.get(label, "(none)")


_5XX_BY_GATEWAY = 'sum by (gateway) (rate(ingest_requests_total{code=~"5.."}[1m]))'
_ALL_BY_GATEWAY = "sum by (gateway) (rate(ingest_requests_total[1m]))"
_LATENCY = "histogram_quantile({q}, sum by (le) (rate(ingest_request_duration_seconds_bucket[1m])))"

SPECS: dict[str, FigureSpec] = {spec.key: spec for spec in (
    FigureSpec("ingest-rate", "Ingest rate by event type",
               'sum by (event_type) (rate(ingest_events_total{outcome="accepted"}[1m]))',
               by("event_type"), "events/s", ",.1f", " ev/s"),
    FigureSpec("error-ratio", "Gateway error ratio (5xx share)",
               # Zero-filled so a healthy gateway shows 0 %, not a gap.
               f"({_5XX_BY_GATEWAY} or {_ALL_BY_GATEWAY} * 0) / {_ALL_BY_GATEWAY}",
               by("gateway"), "5xx share (%)", ".2f", " %", scale=100.0),
    FigureSpec("latency", "Ingest latency p50 / p99",
               # Both quantiles in one query (one query per figure), told apart by a label.
               f'label_replace({_LATENCY.format(q="0.5")}, "quantile", "p50", "", "")'
               f' or label_replace({_LATENCY.format(q="0.99")}, "quantile", "p99", "", "")',
               by("quantile"), "latency (ms)", ",.1f", " ms", scale=1000.0),
    FigureSpec("weights", "Route 53 weights", "max by (set_identifier) (ecomctl_route53_weight)",
               by("set_identifier"), "weight (0-255)", "d", "", shape="hv"),
    FigureSpec("replicas", "Consumer replicas", "max by (group) (ecomctl_consumer_replicas)",
               by("group"), "replicas", "d", "", shape="hv"),
    FigureSpec("spool", "Gateway spool depth", "max by (gateway) (ingest_spool_events)",
               by("gateway"), "spooled events", ",d", " events"),
    FigureSpec("group-lag", "Lag per group (messages)", "max by (group) (kafka_consumergroup_group_lag)",
               by("group"), "lag (messages)", ",d", " msgs"),
    FigureSpec("group-lag-seconds", "Lag per group (time behind)",
               "max by (group) (kafka_consumergroup_group_lag_seconds)",
               by("group"), "lag (s)", ",.1f", " s"),
    FigureSpec("gateway-traffic", "Requests per gateway", _ALL_BY_GATEWAY,
               by("gateway"), "requests/s", ",.1f", " req/s"),
    FigureSpec("gateway-p99", "p99 latency per gateway",
               "histogram_quantile(0.99, sum by (gateway, le) "
               "(rate(ingest_request_duration_seconds_bucket[1m])))",
               by("gateway"), "latency (ms)", ",.1f", " ms", scale=1000.0),
    FigureSpec("consumer-rate", "Events processed per group",
               "sum by (group) (rate(consumer_events_processed_total[1m]))",
               by("group"), "events/s", ",.1f", " ev/s"),
    FigureSpec("consumer-latency", "Processing latency p99 per group",
               "histogram_quantile(0.99, sum by (group, le) "
               "(rate(consumer_processing_latency_seconds_bucket[1m])))",
               by("group"), "occurred -> committed (s)", ",.2f", " s"),
    FigureSpec("members", "Group members", "max by (group) (kafka_consumergroup_members)",
               by("group"), "members", "d", "", shape="hv"),
)}


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    end = now or datetime.now(UTC)
    return end - WINDOW, end
