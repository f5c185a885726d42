"""The Prometheus export reads the latest round: values, names, and nothing lingering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from collectors.exporter import LagExporter
from collectors.kafka_lag import LagReport
from collectors.model import GroupLag, LagStatus, PartitionLag

AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def part(partition: int, lag: int, seconds: float | None, status: LagStatus) -> PartitionLag:
    return PartitionLag("purchases", partition, 100, 100 + lag, lag, seconds, status)


def report(*groups: GroupLag) -> LagReport:
    return LagReport(AT, groups)


HEALTHY = GroupLag("purchase-processor", "Stable", 2,
                   (part(0, 5, 1.5, LagStatus.OK), part(1, 7, None, LagStatus.WARN)), LagStatus.WARN)
BROKEN = GroupLag("cart-processor", "Stable", 1, (part(0, 9, 4.0, LagStatus.ERR),), LagStatus.ERR)


def at_partition(group: str, partition: int) -> dict[str, str]:
    return {"group": group, "topic": "purchases", "partition": str(partition)}


def registry_for(current: list[LagReport | None]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(LagExporter(lambda: current[0]))
    return registry


@pytest.mark.parametrize(
    ("name", "labels", "expected"),
    [
        ("kafka_consumergroup_lag", at_partition("purchase-processor", 1), 7),
        ("kafka_consumergroup_lag_seconds",
         at_partition("purchase-processor", 0), 1.5),
        # No estimate yet: no series rather than a made-up 0.
        ("kafka_consumergroup_lag_seconds",
         at_partition("purchase-processor", 1), None),
        ("kafka_consumergroup_status", at_partition("purchase-processor", 1), 1),
        ("kafka_consumergroup_group_lag", {"group": "purchase-processor"}, 12),
        ("kafka_consumergroup_group_lag_seconds", {"group": "purchase-processor"}, 1.5),
        ("kafka_consumergroup_group_status", {"group": "purchase-processor"}, 1),
        ("kafka_consumergroup_members", {"group": "purchase-processor"}, 2),
        # ERR: the status is exported, stale numbers are not.
        ("kafka_consumergroup_status", at_partition("cart-processor", 0), 5),
        ("kafka_consumergroup_lag", at_partition("cart-processor", 0), None),
        ("kafka_consumergroup_group_lag", {"group": "cart-processor"}, None),
        ("kafka_consumergroup_group_status", {"group": "cart-processor"}, 5),
    ],
)
def test_series_from_the_latest_report(name: str, labels: dict[str, str], expected: float | None) -> None:
    registry = registry_for([report(HEALTHY, BROKEN)])
    assert registry.get_sample_value(name, labels) == expected


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("kafka_consumergroup_lag", at_partition("purchase-processor", 0)),
        ("kafka_consumergroup_members", {"group": "purchase-processor"}),
    ],
)
def test_removed_groups_disappear(name: str, labels: dict[str, str]) -> None:
    current: list[LagReport | None] = [report(HEALTHY)]
    registry = registry_for(current)
    assert registry.get_sample_value(name, labels) is not None
    current[0] = report()
    assert registry.get_sample_value(name, labels) is None


def test_no_round_yet_exports_no_series() -> None:
    registry = registry_for([None])
    assert [s for m in registry.collect() for s in m.samples] == []
