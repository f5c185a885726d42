"""PrometheusSignalCollector on a fake PrometheusConnect: staleness, ratios, failures, the CLI document."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from prometheus_api_client.exceptions import PrometheusApiClientException

import policies.signals as policy_signals
from collectors import signals as sig
from collectors.model import Sample, Snapshot
from collectors.prometheus import PrometheusSignalCollector, QueryClient
from controlplane.commands.metrics import metrics_document

NOW = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
T = NOW.timestamp()
NAME_OF = {query: name for name, query in sig.QUERIES.items()}
MAX_AGE = 15.0
URL = "http://prometheus.invalid"
REFUSED = ("HTTPConnectionPool(host='127.0.0.1', port=1999): Max retries exceeded with url: /api/v1/query "
           "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: "
           "Failed to establish a new connection: [Errno 111] Connection refused'))")


def vec(value: float, at: float = T, **labels: str) -> dict[str, Any]:
    return {"metric": labels, "value": [at, "NaN" if math.isnan(value) else str(value)]}


def healthy(at: float = T, seen: float = T - 3) -> dict[str, list[dict[str, Any]]]:
    """One gateway (primary) and one group with traffic: 5 req/s, 1 of them 5xx, 1 cart ev/s rejected."""
    return {
        "requests": [vec(5.0, at, gateway="primary")],
        "requests_5xx": [vec(1.0, at, gateway="primary")],
        "events": [
            vec(6.0, at, gateway="primary", event_type="cart", outcome="accepted"),
            vec(2.0, at, gateway="primary", event_type="cart", outcome="rejected"),
            vec(4.0, at, gateway="primary", event_type="purchase", outcome="accepted"),
        ],
        "latency_p50": [vec(0.004, at, gateway="primary")],
        "latency_p99": [vec(0.09, at, gateway="primary")],
        "overall_latency_p50": [vec(0.005, at)],
        "overall_latency_p99": [vec(0.1, at)],
        "ready": [vec(1.0, at, gateway="primary")],
        "gateway_seen": [vec(seen, at, gateway="primary")],
        "consumer_rate": [vec(9.0, at, group="cart-processor")],
        "consumer_latency_p50": [vec(0.2, at, group="cart-processor")],
        "consumer_latency_p99": [vec(1.5, at, group="cart-processor")],
        "consumer_seen": [vec(seen, at, group="cart-processor")],
    }


class FakePrometheus:
    """Stands in for PrometheusConnect: answers each query of QUERIES by its name."""

    def __init__(self, answers: Mapping[str, list[dict[str, Any]] | Exception],
                 block: threading.Event | None = None) -> None:
        self.answers = answers
        self.block = block
        self.timeouts: set[float | None] = set()
        self.closed = False

    def custom_query(self, query: str, params: dict[str, Any] | None = None,
                     timeout: float | None = None) -> list[dict[str, Any]]:
        self.timeouts.add(timeout)
        name = NAME_OF[query]
        if self.block is not None and name == "consumer_seen":
            self.block.wait()
        answer = self.answers.get(name, [])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        self.closed = True


def collect(answers: dict[str, Any], **kwargs: Any) -> Snapshot:
    fake = FakePrometheus(answers)
    collector = PrometheusSignalCollector(URL, client_factory=lambda url: fake, **kwargs)
    collector.start()
    try:
        return collector.collect(NOW)
    finally:
        collector.stop()


def values(snapshot: Snapshot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, s.labels): round(s.value, 6) for s in snapshot.samples}


# ------------------------------------------------------------------------------------- ratio math
@pytest.mark.parametrize(("part", "whole", "expected"), [
    (1.0, 5.0, 0.2),
    (None, 5.0, 0.0),  # no failure series yet, traffic measured: no failures
    (0.0, 5.0, 0.0),
    (0.0, 0.0, None),  # no traffic: undefined, never 0
    (None, 0.0, None),
    (1.0, None, None),
    (None, None, None),
    (1.0, math.nan, None),
    (math.nan, 5.0, None),
    (-1.0, 5.0, None),
    (5.5, 5.0, 1.0),  # queries a moment apart
])
def test_ratio(part: float | None, whole: float | None, expected: float | None) -> None:
    assert sig.ratio(part, whole) == expected


# ---------------------------------------------------------------------------------- staleness rule
@pytest.mark.parametrize(("value", "value_age", "seen_age", "usable"), [
    (1.0, 0.0, 3.0, True),
    (0.0, 0.0, 3.0, True),  # zero is a value
    (1.0, 15.0, 15.0, True),  # exactly max_age is still recent
    (1.0, 15.1, 3.0, False),  # old sample
    (1.0, 0.0, 15.1, False),  # subject not scraped lately (rate() still answers for a window)
    (1.0, 0.0, None, False),  # subject never seen
    (math.nan, 0.0, 3.0, False),  # 0/0, quantile of nothing
    (math.inf, 0.0, 3.0, False),
])
def test_usable(value: float, value_age: float, seen_age: float | None, usable: bool) -> None:
    row = sig.Row(labels={}, at=T - value_age, value=value)
    seen = None if seen_age is None else T - seen_age
    assert sig.usable(row, seen, T, MAX_AGE) is usable


# ------------------------------------------------------------------------------ whole collections
def test_healthy_round_produces_every_signal() -> None:
    snapshot = collect(healthy())
    gw, group = (("gateway", "primary"),), (("group", "cart-processor"),)
    assert values(snapshot) == {
        (sig.INGEST_RATE, gw): 5.0,
        (sig.INGEST_ERROR_RATIO, gw): 0.2,
        (sig.INGEST_LATENCY_P50_MS, gw): 4.0,
        (sig.INGEST_LATENCY_P99_MS, gw): 90.0,
        (sig.INGEST_READY, gw): 1.0,
        (sig.INGEST_EVENT_RATE, (("event_type", "cart"), ("gateway", "primary"))): 8.0,
        (sig.INGEST_EVENT_RATE, (("event_type", "purchase"), ("gateway", "primary"))): 4.0,
        (sig.INGEST_EVENT_ERROR_RATIO, (("event_type", "cart"),)): 0.25,
        (sig.INGEST_EVENT_ERROR_RATIO, (("event_type", "purchase"),)): 0.0,
        (sig.INGEST_OVERALL_LATENCY_P50_MS, ()): 5.0,
        (sig.INGEST_OVERALL_LATENCY_P99_MS, ()): 100.0,
        (sig.CONSUMER_RATE, group): 9.0,
        (sig.CONSUMER_LATENCY_P50_MS, group): 200.0,
        (sig.CONSUMER_LATENCY_P99_MS, group): 1500.0,
    }
    assert snapshot.stale == frozenset() and snapshot.errors == {} and snapshot.groups == ()
    assert snapshot.at == NOW and all(s.at == NOW for s in snapshot.samples)


GATEWAY_KEYED = (sig.INGEST_RATE, sig.INGEST_ERROR_RATIO, sig.INGEST_LATENCY_P50_MS,
                 sig.INGEST_LATENCY_P99_MS)
GROUP_KEYED = (sig.CONSUMER_RATE, sig.CONSUMER_LATENCY_P50_MS, sig.CONSUMER_LATENCY_P99_MS)


@pytest.mark.parametrize(("case", "answers", "stale", "kept"), [
    ("every sample a minute old", healthy(at=T - 60, seen=T - 60),
     {f"{s}:primary" for s in (*GATEWAY_KEYED, sig.INGEST_READY)}
     | {f"{s}:cart-processor" for s in GROUP_KEYED}
     | {"ingest_event_rate:cart/primary", "ingest_event_rate:purchase/primary",
        "ingest_event_error_ratio:cart", "ingest_event_error_ratio:purchase",
        sig.INGEST_OVERALL_LATENCY_P50_MS, sig.INGEST_OVERALL_LATENCY_P99_MS},
     set()),
    ("gateway not scraped for 20 s: rate() still answers, but stale; readiness is its own",
     {**healthy(), "gateway_seen": [vec(T - 20, gateway="primary")]},
     {f"{s}:primary" for s in GATEWAY_KEYED}
     | {"ingest_event_rate:cart/primary", "ingest_event_rate:purchase/primary",
        "ingest_event_error_ratio:cart", "ingest_event_error_ratio:purchase",
        sig.INGEST_OVERALL_LATENCY_P50_MS, sig.INGEST_OVERALL_LATENCY_P99_MS},
     {sig.INGEST_READY, sig.CONSUMER_RATE}),
    ("no traffic: rate 0 is a value, the ratio and quantiles are undefined",
     {**healthy(), "requests": [vec(0.0, gateway="primary")], "requests_5xx": [],
      "latency_p50": [vec(math.nan, gateway="primary")], "latency_p99": [vec(math.nan, gateway="primary")]},
     {"ingest_error_ratio:primary", "ingest_latency_p50_ms:primary", "ingest_latency_p99_ms:primary"},
     {sig.INGEST_RATE, sig.INGEST_READY}),
    ("a scraped gateway without request series yet is named stale, not 0",
     {**healthy(), "gateway_seen": [vec(T - 3, gateway="primary"), vec(T - 3, gateway="secondary")],
      "ready": [vec(1.0, gateway="primary"), vec(1.0, gateway="secondary")]},
     {f"{s}:secondary" for s in GATEWAY_KEYED},
     {sig.INGEST_RATE, sig.INGEST_READY}),
    ("nothing scraped yet: every query empty",
     {}, set(sig.ALL_SIGNALS), set()),
    ("a consumer group idle since start: its latency histogram is empty",
     {**healthy(), "consumer_latency_p50": [], "consumer_latency_p99": []},
     {"consumer_latency_p50_ms:cart-processor", "consumer_latency_p99_ms:cart-processor"},
     {sig.CONSUMER_RATE, sig.INGEST_RATE}),
])
def test_staleness(case: str, answers: dict[str, Any], stale: set[str], kept: set[str]) -> None:
    snapshot = collect(answers)
    assert snapshot.stale == stale, case
    assert not snapshot.errors, case
    produced = {s.name for s in snapshot.samples}
    assert kept <= produced, case
    # A stale series is left out, never reported as a number (zero or otherwise).
    for key in stale:
        name, _, subject = key.partition(":")
        for sample in snapshot.find(name):
            assert "/".join(v for _, v in sample.labels) != subject, (case, sample.describe())


def test_down_gateway_reads_not_ready_rather_than_stale() -> None:
    answers = {**healthy(), "ready": [vec(0.0, gateway="primary")], "gateway_seen": []}
    snapshot = collect(answers)
    assert [s.value for s in snapshot.find(sig.INGEST_READY, gateway="primary")] == [0.0]
    assert "ingest_rate:primary" in snapshot.stale


@pytest.mark.parametrize(("case", "answers", "error_part", "stale_bare"), [
    ("Prometheus unreachable", {name: requests.ConnectionError(REFUSED) for name in sig.QUERIES},
     "connection failed: [Errno 111] Connection refused", set(sig.ALL_SIGNALS)),
    ("one query rejected", {**healthy(), "latency_p99": PrometheusApiClientException("HTTP Status Code 400")},
     f"1 of {len(sig.QUERIES)} queries failed: latency_p99", {sig.INGEST_LATENCY_P99_MS}),
    ("freshness unknown", {**healthy(), "gateway_seen": requests.Timeout("read timed out")},
     "gateway_seen: timed out", {*GATEWAY_KEYED, sig.INGEST_EVENT_RATE, sig.INGEST_EVENT_ERROR_RATIO,
                                 sig.INGEST_OVERALL_LATENCY_P50_MS, sig.INGEST_OVERALL_LATENCY_P99_MS}),
    ("malformed answer", {**healthy(), "consumer_rate": [{"metric": {"group": "g"}}]},
     "consumer_rate: KeyError", {sig.CONSUMER_RATE}),
])
def test_failures_go_to_errors_and_stale(case: str, answers: dict[str, Any], error_part: str,
                                         stale_bare: set[str]) -> None:
    snapshot = collect(answers)
    assert error_part in snapshot.errors["prometheus"], case
    assert stale_bare <= snapshot.stale, case
    assert not {s.name for s in snapshot.samples} & stale_bare, case


def test_a_query_that_never_answers_is_cut_off_and_the_rest_is_kept() -> None:
    release = threading.Event()
    fake = FakePrometheus(healthy(), block=release)
    collector = PrometheusSignalCollector(URL, timeout_s=0.05, client_factory=lambda url: fake)
    collector.start()
    try:
        snapshot = collector.collect(NOW)
    finally:
        release.set()
        collector.stop()
    assert "consumer_seen: no answer within 0.1s" in snapshot.errors["prometheus"]
    assert {sig.CONSUMER_RATE, sig.CONSUMER_LATENCY_P99_MS} <= snapshot.stale
    assert snapshot.find(sig.INGEST_RATE, gateway="primary")
    assert fake.timeouts == {0.05} and fake.closed


def test_construction_opens_nothing_and_collect_needs_start() -> None:
    made: list[str] = []

    def factory(url: str) -> QueryClient:
        made.append(url)
        return FakePrometheus(healthy())

    collector = PrometheusSignalCollector("http://p:9090", client_factory=factory)
    assert made == []
    with pytest.raises(RuntimeError, match="start"):
        collector.collect(NOW)
    collector.start()
    collector.stop()
    assert made == ["http://p:9090"]


@pytest.mark.parametrize(("ours", "theirs"), [
    (sig.INGEST_RATE, policy_signals.INGEST_RATE),
    (sig.INGEST_ERROR_RATIO, policy_signals.INGEST_ERROR_RATIO),
    (sig.INGEST_LATENCY_P99_MS, policy_signals.INGEST_LATENCY_P99_MS),
    (sig.INGEST_READY, policy_signals.INGEST_READY),
    (sig.CONSUMER_RATE, policy_signals.CONSUMER_RATE),
    (sig.SOURCE, policy_signals.SOURCE_PROMETHEUS),
])
def test_names_are_the_ones_the_policies_read(ours: str, theirs: str) -> None:
    assert ours == theirs


def test_policy_lookup_finds_our_gateway_samples() -> None:
    snapshot = collect(healthy())
    for name, _label in policy_signals.SIGNALS:
        subject = "cart-processor" if name == sig.CONSUMER_RATE else "primary"
        assert policy_signals.latest(snapshot, name, _label, subject) is not None, name


# ---------------------------------------------------------------------------------- CLI document
def sample(name: str, value: float, **labels: str) -> Sample:
    return Sample(name, value, NOW, tuple(labels.items()))


FULL = tuple(
    [sample(sig.INGEST_EVENT_RATE, 2.0, event_type=t, gateway=g)
     for t in ("page_view", "cart", "purchase") for g in ("primary", "secondary")]
    + [sample(sig.INGEST_EVENT_ERROR_RATIO, 0.0, event_type=t) for t in ("page_view", "cart", "purchase")]
    + [sample(sig.INGEST_OVERALL_LATENCY_P50_MS, 3.0), sample(sig.INGEST_OVERALL_LATENCY_P99_MS, 40.0)]
)


def drop(name: str, **labels: str) -> tuple[Sample, ...]:
    return tuple(s for s in FULL if not (s.name == name and set(labels.items()) <= set(s.labels)))


@pytest.mark.parametrize(("case", "snapshot", "stale", "cart"), [
    ("complete", Snapshot(NOW, FULL), False,
     {"rate": 4.0, "error_ratio": 0.0, "latency_p50_ms": 3.0, "latency_p99_ms": 40.0}),
    ("no purchase series at all", Snapshot(NOW, drop(sig.INGEST_EVENT_RATE, event_type="purchase")), True,
     {"rate": 4.0, "error_ratio": 0.0, "latency_p50_ms": 3.0, "latency_p99_ms": 40.0}),
    ("one gateway's cart series stale: the sum would be short",
     Snapshot(NOW, drop(sig.INGEST_EVENT_RATE, event_type="cart", gateway="secondary"),
              stale=frozenset({"ingest_event_rate:cart/secondary"})), True,
     {"rate": 2.0, "error_ratio": 0.0, "latency_p50_ms": 3.0, "latency_p99_ms": 40.0}),
    ("undefined ratio is null, not 0",
     Snapshot(NOW, drop(sig.INGEST_EVENT_ERROR_RATIO, event_type="cart"),
              stale=frozenset({"ingest_event_error_ratio:cart"})), True,
     {"rate": 4.0, "error_ratio": None, "latency_p50_ms": 3.0, "latency_p99_ms": 40.0}),
    ("prometheus unreachable",
     Snapshot(NOW, stale=frozenset(sig.ALL_SIGNALS), errors={"prometheus": "refused"}), True,
     {"rate": None, "error_ratio": None, "latency_p50_ms": None, "latency_p99_ms": None}),
])
def test_metrics_document(case: str, snapshot: Snapshot, stale: bool, cart: dict[str, float | None]) -> None:
    document = metrics_document(snapshot, "http://p:9090")
    assert document["stale"] is stale, case
    assert set(document["event_types"]) == {"page_view", "cart", "purchase"}
    assert document["event_types"]["cart"] == cart, case


def test_metrics_document_reports_gateways_and_consumers() -> None:
    document = metrics_document(collect(healthy()), "http://p:9090")
    assert document["gateways"] == {"primary": {"rate": 5.0, "error_ratio": 0.2, "latency_p50_ms": 4.0,
                                                "latency_p99_ms": 90.0, "ready": 1.0}}
    assert document["consumers"] == {"cart-processor": {"rate": 9.0, "latency_p50_ms": 200.0,
                                                        "latency_p99_ms": 1500.0}}
    # page_view had no series in this round: stale, with nulls.
    assert document["stale"] is True
    assert document["event_types"]["page_view"]["rate"] is None
    assert document["event_types"]["purchase"]["rate"] == 4.0
