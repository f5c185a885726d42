"""Prometheus recording and alert rules as code, rendered to ``generated/rules/*.yml``.

Rules are Python values; ``render()`` dumps them in the layout ``promtool check rules`` reads. Each
alert keeps its *signal* (the measured quantity) apart from its *condition* (the comparison with the
limit), so the annotations can show observed value and limit, and so the live-query check can ask
for the signal, which has data whenever the metric exists, not only while the alert fires.
Metric names come from docs/METRICS.md only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

# Lag-in-time budgets per consumer group (DESIGN.md 3.2 defaults): how far behind a group may fall
# before someone is paged. Purchases are business critical; page views tolerate minutes.
LAG_SECONDS_BUDGETS: dict[str, int] = {
    "purchase-processor": 30,
    "cart-processor": 60,
    "page-views-aggregator": 300,
}
# The ingest-failover policy shifts traffic above this error ratio; alert at the same point.
ERROR_RATIO_LIMIT = 0.05
SPOOL_WARN_RATIO = 0.5
SPOOL_CRITICAL_RATIO = 0.9
LAG_GROWING_MIN_MESSAGES = 1000
LOOP_STUCK_SECONDS = 60


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str

    def to_yaml(self) -> dict[str, object]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True)
class Alert:
    alert: str
    signal: str
    condition: str
    for_: str
    severity: str
    summary: str
    description: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def expr(self) -> str:
        return f"{self.signal} {self.condition}"

    def to_yaml(self) -> dict[str, object]:
        return {
            "alert": self.alert,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, **self.labels},
            "annotations": {"summary": self.summary, "description": self.description},
        }


@dataclass(frozen=True)
class Group:
    name: str
    rules: tuple[Recording | Alert, ...]
    interval: str = "15s"

    def to_yaml(self) -> dict[str, object]:
        return {"name": self.name, "interval": self.interval, "rules": [r.to_yaml() for r in self.rules]}


REQUEST_ERROR_RATIO = "gateway:ingest_request_error_ratio:rate1m"
SPOOL_FILL_RATIO = "gateway:ingest_spool_fill_ratio"
GROUP_LAG_DERIV = "group:kafka_consumergroup_group_lag:deriv5m"

RECORDING = Group(
    name="ecomctl-recording",
    rules=(
        Recording(
            "gateway_event_type_outcome:ingest_events:rate1m",
            "sum by (gateway, event_type, outcome) (rate(ingest_events_total[1m]))",
        ),
        Recording(
            REQUEST_ERROR_RATIO,
            # 5xx over all answers; zero-filled so a healthy gateway records 0 rather than nothing.
            '(sum by (gateway) (rate(ingest_requests_total{code=~"5.."}[1m]))'
            " or sum by (gateway) (rate(ingest_requests_total[1m])) * 0)"
            " / sum by (gateway) (rate(ingest_requests_total[1m]))",
        ),
        Recording(
            "gateway:ingest_request_duration_seconds:p99_1m",
            "histogram_quantile(0.99, sum by (gateway, le) "
            "(rate(ingest_request_duration_seconds_bucket[1m])))",
        ),
        Recording(
            "gateway:ingest_request_duration_seconds:p50_1m",
            "histogram_quantile(0.5, sum by (gateway, le) "
            "(rate(ingest_request_duration_seconds_bucket[1m])))",
        ),
        Recording(
            SPOOL_FILL_RATIO,
            "max by (gateway) (ingest_spool_bytes) / max by (gateway) (ingest_spool_capacity_bytes)",
        ),
        Recording(
            "group:consumer_events_processed:rate1m",
            "sum by (group) (rate(consumer_events_processed_total[1m]))",
        ),
        Recording(GROUP_LAG_DERIV, "deriv(kafka_consumergroup_group_lag[5m])"),
    ),
)


def _lag_seconds_alerts() -> tuple[Alert, ...]:
    return tuple(
        Alert(
            alert="KafkaConsumerLagSecondsOverBudget",
            signal=f'max by (group) (kafka_consumergroup_group_lag_seconds{{group="{group}"}})',
            condition=f"> {budget}",
            for_="2m",
            severity="critical" if budget <= 60 else "warning",
            summary=f"{group} is over its lag budget",
            description=(
                f"group {{{{ $labels.group }}}} is {{{{ $value | humanizeDuration }}}} behind"
                f" > budget {budget}s for 2m"
            ),
            labels={"budget_seconds": str(budget)},
        )
        for group, budget in sorted(LAG_SECONDS_BUDGETS.items())
    )


ALERTS = Group(
    name="ecomctl-alerts",
    rules=(
        Alert(
            alert="KafkaConsumerLagGrowing",
            signal=GROUP_LAG_DERIV,
            condition=(
                "> 0 and on (group) max by (group) (kafka_consumergroup_group_lag)"
                f" > {LAG_GROWING_MIN_MESSAGES}"
            ),
            for_="10m",
            severity="warning",
            summary="consumer lag keeps growing",
            description=(
                "lag of group {{ $labels.group }} grows by {{ $value | humanize }} messages/s"
                f" > 0 for 10m with more than {LAG_GROWING_MIN_MESSAGES} messages behind"
            ),
        ),
        *_lag_seconds_alerts(),
        Alert(
            alert="IngestErrorRatioHigh",
            signal=REQUEST_ERROR_RATIO,
            condition=f"> {ERROR_RATIO_LIMIT}",
            for_="2m",
            severity="critical",
            summary="gateway answers too many 5xx",
            description=(
                "gateway {{ $labels.gateway }} error ratio {{ $value | humanizePercentage }}"
                f" > {ERROR_RATIO_LIMIT:.0%} for 2m"
            ),
        ),
        Alert(
            alert="IngestSpoolFilling",
            signal=SPOOL_FILL_RATIO,
            condition=f"> {SPOOL_WARN_RATIO}",
            for_="1m",
            severity="warning",
            summary="gateway spool is filling: Kafka is not taking events",
            description=(
                "spool of gateway {{ $labels.gateway }} is {{ $value | humanizePercentage }} full"
                f" > {SPOOL_WARN_RATIO:.0%} for 1m"
            ),
        ),
        Alert(
            alert="IngestSpoolNearlyFull",
            signal=SPOOL_FILL_RATIO,
            condition=f"> {SPOOL_CRITICAL_RATIO}",
            for_="1m",
            severity="critical",
            summary="gateway spool nearly full: it will answer 503 soon",
            description=(
                "spool of gateway {{ $labels.gateway }} is {{ $value | humanizePercentage }} full"
                f" > {SPOOL_CRITICAL_RATIO:.0%} for 1m"
            ),
        ),
        Alert(
            alert="ConsumerDown",
            signal='up{job="consumer"}',
            condition="== 0",
            for_="1m",
            severity="critical",
            summary="a consumer process does not answer scrapes",
            description=(
                "consumer {{ $labels.instance }} of group {{ $labels.group }} is down (up == 0) for 1m"
            ),
        ),
        Alert(
            alert="ConsumerGroupEmpty",
            signal="max by (group) (kafka_consumergroup_members)",
            condition="== 0 and on (group) max by (group) (ecomctl_consumer_replicas) > 0",
            for_="2m",
            severity="critical",
            summary="a consumer group has replicas set but no members",
            description="group {{ $labels.group }} has {{ $value }} members while replicas > 0, for 2m",
        ),
        Alert(
            alert="ControlLoopStuck",
            signal="time() - max(ecomctl_loop_last_run_timestamp_seconds)",
            condition=f"> {LOOP_STUCK_SECONDS}",
            for_="1m",
            severity="critical",
            summary="the control loop has not completed a round",
            description=(
                "last successful control loop round {{ $value | humanizeDuration }} ago"
                f" > {LOOP_STUCK_SECONDS}s for 1m"
            ),
        ),
        Alert(
            alert="ControlPlaneDown",
            signal='up{job="controlplane"}',
            condition="== 0",
            for_="1m",
            severity="critical",
            summary="the control plane does not answer scrapes",
            description="control plane {{ $labels.instance }} is down (up == 0) for 1m",
        ),
    ),
)

# File name (under generated/rules/) -> groups it holds.
RULE_FILES: dict[str, tuple[Group, ...]] = {
    "recording.yml": (RECORDING,),
    "alerts.yml": (ALERTS,),
}


def render(groups: tuple[Group, ...]) -> str:
    """YAML for ``promtool`` and Prometheus ``rule_files``; key order kept as written, for reading."""
    document = {"groups": [group.to_yaml() for group in groups]}
    return yaml.safe_dump(document, sort_keys=False, width=1000, allow_unicode=True)


def rendered() -> dict[str, str]:
    return {name: render(groups) for name, groups in sorted(RULE_FILES.items())}
