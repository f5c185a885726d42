"""The Prometheus signals: their names, the PromQL behind them and the pure rules that judge a result.

No I/O here (``collectors/prometheus.py`` runs the queries), so every rule is testable on its own.

Signals (``Sample.name``, labels; rates over a ``[1m]`` window):

=================================  ======================  ==================================================
name                               labels                  value
=================================  ======================  ==================================================
``ingest_rate``                    gateway                 HTTP requests answered per second
``ingest_error_ratio``             gateway                 requests answered 5xx / all requests answered
``ingest_latency_p50_ms``/``p99``  gateway                 request latency quantile (ms) from the histogram
``ingest_ready``                   gateway                 last ``ingest_ready`` x ``up`` (0 while unscraped)
``ingest_event_rate``              event_type, gateway     events seen per second (accepted and rejected)
``ingest_event_error_ratio``       event_type              rejected events / all events, over all gateways
``ingest_overall_latency_p50_ms``  (none)                  request latency quantile over every gateway; the
  / ``_p99_ms``                                            histogram has no event type, so this is also the
                                                           per-event-type latency
``consumer_rate``                  group                   events committed per second by the whole group
``consumer_latency_p50_ms``/p99    group                   occurred_at -> commit quantile (ms)
=================================  ======================  ==================================================

``ingest_rate`` counts requests, not events, because that is what the traffic-shift policy reads
(``policies/signals.py``); events per type are ``ingest_event_rate``. A request carries a batch of
events of any types, so per-type 5xx answers do not exist: the per-type error ratio is rejections.

Staleness (a stale series is left out of the samples and named in ``Snapshot.stale``, never read as
zero): a series is stale when its value is not a finite number (0/0, a quantile of an empty window),
when its sample is older than ``max_age_s``, or when its subject (gateway or consumer group) has not
been scraped successfully for ``max_age_s`` (``rate()`` keeps answering for a whole window after its
target died). Keys are ``"<signal>:<subject>"`` with the subject the label values joined by ``/``
(``"ingest_event_rate:cart/primary"``), or the bare ``"<signal>"`` when nothing at all can be said
about that signal (its query failed or found no series).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.model import Sample, Snapshot

SOURCE = "prometheus"  # the key of Snapshot.errors for this source

INGEST_RATE = "ingest_rate"
INGEST_ERROR_RATIO = "ingest_error_ratio"
INGEST_LATENCY_P50_MS = "ingest_latency_p50_ms"
INGEST_LATENCY_P99_MS = "ingest_latency_p99_ms"
INGEST_READY = "ingest_ready"
INGEST_EVENT_RATE = "ingest_event_rate"
INGEST_EVENT_ERROR_RATIO = "ingest_event_error_ratio"
INGEST_OVERALL_LATENCY_P50_MS = "ingest_overall_latency_p50_ms"
INGEST_OVERALL_LATENCY_P99_MS = "ingest_overall_latency_p99_ms"
CONSUMER_RATE = "consumer_rate"
CONSUMER_LATENCY_P50_MS = "consumer_latency_p50_ms"
CONSUMER_LATENCY_P99_MS = "consumer_latency_p99_ms"

ALL_SIGNALS: tuple[str, ...] = (
    INGEST_RATE, INGEST_ERROR_RATIO, INGEST_LATENCY_P50_MS, INGEST_LATENCY_P99_MS, INGEST_READY,
    INGEST_EVENT_RATE, INGEST_EVENT_ERROR_RATIO, INGEST_OVERALL_LATENCY_P50_MS,
    INGEST_OVERALL_LATENCY_P99_MS, CONSUMER_RATE, CONSUMER_LATENCY_P50_MS, CONSUMER_LATENCY_P99_MS,
)

WINDOW = "1m"


def _quantile(q: float, bucket: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by ({by}le) (rate({bucket}[{WINDOW}])))"


_GW_BUCKET = "ingest_request_duration_seconds_bucket"
_CONSUMER_BUCKET = "consumer_processing_latency_seconds_bucket"

# Query names -> PromQL. Ratios are divided in Python (``ratio``) so that "no failures counted"
# and "no traffic" stay distinguishable: PromQL's 0/0 and a missing numerator series look alike.
QUERIES: dict[str, str] = {
    "requests": f"sum by (gateway) (rate(ingest_requests_total[{WINDOW}]))",
    "requests_5xx": f'sum by (gateway) (rate(ingest_requests_total{{code=~"5.."}}[{WINDOW}]))',
    "events": f"sum by (gateway, event_type, outcome) (rate(ingest_events_total[{WINDOW}]))",
    "latency_p50": _quantile(0.5, _GW_BUCKET, "gateway, "),
    "latency_p99": _quantile(0.99, _GW_BUCKET, "gateway, "),
    "overall_latency_p50": _quantile(0.5, _GW_BUCKET, ""),
    "overall_latency_p99": _quantile(0.99, _GW_BUCKET, ""),
    # The gateway's own gauge, zeroed while its target is down (``up`` is written on every attempt,
    # the gauge only on success; the gateways' discovery files carry no gateway label, hence the join).
    "ready": "max by (gateway) (last_over_time(ingest_ready[5m]) * on (job, instance) group_left () up)",
    # Last successful scrape per subject: these gauges exist from process start and vanish (staleness
    # marker) as soon as a scrape fails.
    "gateway_seen": "max by (gateway) (timestamp(ingest_ready))",
    "consumer_rate": f"sum by (group) (rate(consumer_events_processed_total[{WINDOW}]))",
    "consumer_latency_p50": _quantile(0.5, _CONSUMER_BUCKET, "group, "),
    "consumer_latency_p99": _quantile(0.99, _CONSUMER_BUCKET, "group, "),
    "consumer_seen": "max by (group) (timestamp(consumer_chaos_delay_seconds))",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One series of an instant-query answer."""

    labels: Mapping[str, str]
    at: float  # unix seconds of the value
    value: float


def parse_rows(result: list[dict[str, Any]]) -> list[Row]:
    """The ``data.result`` list of an instant vector query, as rows."""
    rows = []
    for item in result:
        at, value = item["value"]
        rows.append(Row(labels=dict(item.get("metric", {})), at=float(at), value=float(value)))
    return rows


def stale_key(signal: str, *subject: str) -> str:
    return f"{signal}:{'/'.join(subject)}" if subject else signal


def ratio(part: float | None, whole: float | None) -> float | None:
    """``part / whole``, or None when there is no whole (no traffic: the ratio is undefined, not 0).

    A missing ``part`` with a positive ``whole`` is 0: the failure series only exists once a failure
    was counted, while the whole shows the subject was measured.
    """
    if whole is None or not math.isfinite(whole) or whole <= 0:
        return None
    if part is None:
        return 0.0
    if not math.isfinite(part) or part < 0:
        return None
    # The two queries are evaluated a moment apart, so a burst can put part a hair above whole.
    return min(part / whole, 1.0)


def is_recent(at: float | None, now: float, max_age_s: float) -> bool:
    """True when ``at`` (unix seconds) is known and no older than ``max_age_s`` before ``now``."""
    return at is not None and now - at <= max_age_s


def usable(row: Row, seen: float | None, now: float, max_age_s: float) -> bool:
    """The staleness rule for one series: a finite value, recent, of a recently scraped subject."""
    return math.isfinite(row.value) and is_recent(row.at, now, max_age_s) and is_recent(seen, now, max_age_s)


# A query's answer: its rows, or the reason it failed.
Results = Mapping[str, "list[Row] | str"]


class _Builder:
    def __init__(self, results: Results, now: float, max_age_s: float) -> None:
        self.results = results
        self.now = now
        self.max_age_s = max_age_s
        self.samples: list[Sample] = []
        self.stale: set[str] = set()

    def rows(self, query: str) -> list[Row] | None:
        found = self.results.get(query)
        return found if isinstance(found, list) else None

    def seen(self, query: str, label: str) -> dict[str, float] | None:
        """Last successful scrape (unix seconds) per subject, or None when that query failed."""
        rows = self.rows(query)
        if rows is None:
            return None
        return {r.labels[label]: r.value for r in rows if label in r.labels and math.isfinite(r.value)}

    def usable(self, row: Row, seen: float | None) -> bool:
        return usable(row, seen, self.now, self.max_age_s)

    def add(self, signal: str, value: float, at: float, labels: tuple[tuple[str, str], ...]) -> None:
        self.samples.append(Sample(signal, value, datetime.fromtimestamp(at, UTC), labels))

    def per_subject(self, signal: str, query: str, label: str, seen_query: str, scale: float = 1.0) -> None:
        """One sample per subject (gateway or group); known subjects without a usable row are stale."""
        rows, seen = self.rows(query), self.seen(seen_query, label)
        if rows is None or seen is None:
            self.stale.add(signal)
            return
        by_subject = {r.labels[label]: r for r in rows if label in r.labels}
        subjects = sorted(set(by_subject) | set(seen))
        if not subjects:
            self.stale.add(signal)
        for subject in subjects:
            row = by_subject.get(subject)
            if row is not None and self.usable(row, seen.get(subject)):
                self.add(signal, row.value * scale, row.at, ((label, subject),))
            else:
                self.stale.add(stale_key(signal, subject))

    def gateway_error_ratio(self) -> None:
        whole_rows, part_rows = self.rows("requests"), self.rows("requests_5xx")
        seen = self.seen("gateway_seen", "gateway")
        if whole_rows is None or part_rows is None or seen is None:
            self.stale.add(INGEST_ERROR_RATIO)
            return
        wholes = {r.labels["gateway"]: r for r in whole_rows if "gateway" in r.labels}
        parts = {r.labels["gateway"]: r.value for r in part_rows if "gateway" in r.labels}
        subjects = sorted(set(wholes) | set(seen))
        if not subjects:
            self.stale.add(INGEST_ERROR_RATIO)
        for gateway in subjects:
            whole = wholes.get(gateway)
            value = None
            if whole is not None and self.usable(whole, seen.get(gateway)):
                value = ratio(parts.get(gateway), whole.value)
            if whole is None or value is None:
                self.stale.add(stale_key(INGEST_ERROR_RATIO, gateway))
            else:
                self.add(INGEST_ERROR_RATIO, value, whole.at, (("gateway", gateway),))

    def ready(self) -> None:
        rows, seen = self.rows("ready"), self.seen("gateway_seen", "gateway") or {}
        if rows is None:
            self.stale.add(INGEST_READY)
            return
        by_gateway = {r.labels["gateway"]: r for r in rows if "gateway" in r.labels}
        subjects = sorted(set(by_gateway) | set(seen))
        if not subjects:
            self.stale.add(INGEST_READY)
        for gateway in subjects:
            row = by_gateway.get(gateway)
            # Judged on its own time only: a gateway that stopped answering scrapes reads 0, not stale.
            if row is not None and self.usable(row, row.at):
                self.add(INGEST_READY, row.value, row.at, (("gateway", gateway),))
            else:
                self.stale.add(stale_key(INGEST_READY, gateway))

    def events(self) -> None:
        rows, seen = self.rows("events"), self.seen("gateway_seen", "gateway")
        if rows is None or seen is None or not rows:
            self.stale.update((INGEST_EVENT_RATE, INGEST_EVENT_ERROR_RATIO))
            return
        series: dict[tuple[str, str], list[Row]] = {}
        for row in rows:
            if "event_type" in row.labels and "gateway" in row.labels:
                series.setdefault((row.labels["event_type"], row.labels["gateway"]), []).append(row)
        # Per event type, over the gateways whose series are usable: (rejected, all, newest time).
        totals: dict[str, tuple[float, float, float]] = {}
        for (event_type, gateway), group in sorted(series.items()):
            if not all(self.usable(r, seen.get(gateway)) for r in group):
                self.stale.add(stale_key(INGEST_EVENT_RATE, event_type, gateway))
                continue
            at = max(r.at for r in group)
            rate = sum(r.value for r in group)
            self.add(INGEST_EVENT_RATE, rate, at, (("event_type", event_type), ("gateway", gateway)))
            rejected = sum(r.value for r in group if r.labels.get("outcome") == "rejected")
            before = totals.get(event_type, (0.0, 0.0, at))
            totals[event_type] = (before[0] + rejected, before[1] + rate, max(before[2], at))
        for event_type in sorted({t for t, _ in series}):
            if event_type not in totals:
                self.stale.add(stale_key(INGEST_EVENT_ERROR_RATIO, event_type))
                continue
            rejected, everything, at = totals[event_type]
            value = ratio(rejected, everything)
            if value is None:
                self.stale.add(stale_key(INGEST_EVENT_ERROR_RATIO, event_type))
            else:
                self.add(INGEST_EVENT_ERROR_RATIO, value, at, (("event_type", event_type),))

    def overall(self, signal: str, query: str) -> None:
        rows, seen = self.rows(query), self.seen("gateway_seen", "gateway")
        newest_scrape = max(seen.values()) if seen else None
        row = rows[0] if rows else None
        if row is not None and self.usable(row, newest_scrape):
            self.add(signal, row.value * 1000.0, row.at, ())
        else:
            self.stale.add(signal)


def build_signals(results: Results, now: datetime, max_age_s: float) -> Snapshot:
    """The snapshot of one round from the answers of every query in ``QUERIES`` (pure)."""
    build = _Builder(results, now.timestamp(), max_age_s)
    build.per_subject(INGEST_RATE, "requests", "gateway", "gateway_seen")
    build.gateway_error_ratio()
    build.per_subject(INGEST_LATENCY_P50_MS, "latency_p50", "gateway", "gateway_seen", 1000.0)
    build.per_subject(INGEST_LATENCY_P99_MS, "latency_p99", "gateway", "gateway_seen", 1000.0)
    build.ready()
    build.events()
    build.overall(INGEST_OVERALL_LATENCY_P50_MS, "overall_latency_p50")
    build.overall(INGEST_OVERALL_LATENCY_P99_MS, "overall_latency_p99")
    build.per_subject(CONSUMER_RATE, "consumer_rate", "group", "consumer_seen")
    build.per_subject(CONSUMER_LATENCY_P50_MS, "consumer_latency_p50", "group", "consumer_seen", 1000.0)
    build.per_subject(CONSUMER_LATENCY_P99_MS, "consumer_latency_p99", "group", "consumer_seen", 1000.0)
    failed = {name: reason for name, reason in results.items() if isinstance(reason, str)}
    errors: dict[str, str] = {}
    if len(failed) == len(results):
        # Nothing answered: say why once (it is the same reason for every query).
        errors[SOURCE] = next(iter(failed.values()), "no query was run")
        build.stale.update(ALL_SIGNALS)
    elif failed:
        errors[SOURCE] = f"{len(failed)} of {len(results)} queries failed: " + "; ".join(
            f"{name}: {reason}" for name, reason in sorted(failed.items()))
    return Snapshot(at=now, samples=tuple(build.samples), stale=frozenset(build.stale), errors=errors)
