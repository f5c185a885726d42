"""Prometheus export of the latest lag round (names in docs/METRICS.md).

A custom collector builds every series from the latest report at scrape time, so a group or a
partition that is gone from Kafka is gone from /metrics, instead of lingering as a stale gauge.
Register it on the injected registry: ``registry.register(LagExporter(collector.latest))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.kafka_lag import LagReport
from collectors.model import LagStatus

PARTITION_LABELS = ("group", "topic", "partition")


class LagExporter(Collector):
    def __init__(self, latest: Callable[[], LagReport | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[Metric]:
        yield from families(self._latest())

    def describe(self) -> Iterator[Metric]:
        # Names without reading a report: registration checks for duplicates without touching Kafka state.
        yield from families(None)


def families(report: LagReport | None) -> Iterator[Metric]:
    lag = GaugeMetricFamily("kafka_consumergroup_lag", "messages behind", labels=PARTITION_LABELS)
    seconds = GaugeMetricFamily("kafka_consumergroup_lag_seconds", "estimated time behind",
                                labels=PARTITION_LABELS)
    status = GaugeMetricFamily(
        "kafka_consumergroup_status",
        "LagStatus code 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND, 5 ERR", labels=PARTITION_LABELS)
    group_lag = GaugeMetricFamily("kafka_consumergroup_group_lag", "messages behind, per group",
                                  labels=("group",))
    group_seconds = GaugeMetricFamily("kafka_consumergroup_group_lag_seconds",
                                      "estimated time behind of the latest partition", labels=("group",))
    group_status = GaugeMetricFamily("kafka_consumergroup_group_status", "worst partition status",
                                     labels=("group",))
    members = GaugeMetricFamily("kafka_consumergroup_members", "members", labels=("group",))
    for group in report.groups if report else ():
        for p in group.partitions:
            labels = [group.group, p.topic, str(p.partition)]
            status.add_metric(labels, int(p.status))
            # An ERR partition's numbers are from an older round: export its status only, so a
            # dashboard or alert never reads a stale lag as current.
            if p.status is not LagStatus.ERR:
                lag.add_metric(labels, p.lag)
                if p.lag_seconds is not None:
                    seconds.add_metric(labels, p.lag_seconds)
        group_status.add_metric([group.group], int(group.status))
        members.add_metric([group.group], group.members)
        if group.status is not LagStatus.ERR:
            group_lag.add_metric([group.group], group.lag)
            if group.lag_seconds is not None:
                group_seconds.add_metric([group.group], group.lag_seconds)
    yield from (lag, seconds, status, group_lag, group_seconds, group_status, members)
