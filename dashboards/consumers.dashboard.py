"""Consumers: replicas, throughput, processing latency and what goes to the DLQ, per group."""

from dashboards import style as s

G = 'group=~"$group"'
RI = "$__rate_interval"
PROCESSED = f"sum by (group) (rate(consumer_events_processed_total{{{G}}}[{RI}]))"

dashboard = s.dashboard(
    title="Consumers",
    uid="ecomctl-consumers",
    description="Consumer groups: replicas set by the scaler, events processed, latency, duplicates, DLQ.",
    variables=["group"],
    tags=["consumers"],
    rows=[
        s.row(
            "Capacity",
            s.stat(
                "Replicas",
                s.q(f"max by (group) (ecomctl_consumer_replicas{{{G}}})", "{{group}}"),
                s.COUNT,
                s.steps((s.BAD, None), (s.GOOD, 1)),
                description="Replicas the scaling backend runs now.",
                width=8,
            ),
            s.timeseries(
                "Replicas over time",
                [s.q(f"max by (group) (ecomctl_consumer_replicas{{{G}}})", "{{group}}")],
                s.COUNT,
                width=16,
            ),
        ),
        s.row(
            "Throughput",
            s.timeseries("Events processed by group", [s.q(PROCESSED, "{{group}}")], s.PER_S,
                         axis_label="events/s"),
            s.timeseries(
                "Events processed by type",
                [s.q(f"sum by (event_type) (rate(consumer_events_processed_total{{{G}}}[{RI}]))",
                     "{{event_type}}")],
                s.PER_S,
                stacked=True,
                axis_label="events/s",
            ),
            s.timeseries(
                "Duplicates ignored",
                [s.q(s.zero_fill(f"sum by (group) (rate(consumer_duplicates_total{{{G}}}[{RI}]))", PROCESSED),
                     "{{group}}")],
                s.PER_S,
                description="Redeliveries whose event_id was already in the sink (idempotence at work).",
                axis_label="events/s",
            ),
        ),
        s.row(
            "Latency",
            s.timeseries(
                "Processing latency p50 / p99",
                [
                    s.q(f"histogram_quantile({quantile}, sum by (group, le) "
                        f"(rate(consumer_processing_latency_seconds_bucket{{{G}}}[{RI}])))",
                        f"{{{{group}}}} p{int(quantile * 100)}")
                    for quantile in (0.5, 0.99)
                ],
                s.SECONDS,
                description="Event occurred_at to offset committed.",
            ),
            s.heatmap(
                "Processing latency distribution",
                f"sum by (le) (increase(consumer_processing_latency_seconds_bucket{{{G}}}[{RI}]))",
                s.SECONDS,
            ),
            s.timeseries(
                "Batch size p50 / p99",
                [
                    s.q(f"histogram_quantile({quantile}, sum by (group, le) "
                        f"(rate(consumer_batch_size_bucket{{{G}}}[{RI}])))",
                        f"{{{{group}}}} p{int(quantile * 100)}")
                    for quantile in (0.5, 0.99)
                ],
                s.MESSAGES,
                axis_label="messages per poll",
            ),
        ),
        s.row(
            "Failures",
            s.timeseries(
                "DLQ rate by group",
                [s.q(s.zero_fill(f"sum by (group) (rate(consumer_events_failed_total{{{G}}}[{RI}]))",
                                 PROCESSED), "{{group}}")],
                s.PER_S,
                thresholds=s.steps((s.GOOD, None), (s.BAD, 1)),
                axis_label="events/s",
            ),
            s.timeseries(
                "Injected delay (game day)",
                [s.q(f"max by (group) (consumer_chaos_delay_seconds{{{G}}})", "{{group}}")],
                s.SECONDS,
                description="ecomctl chaos consumer-delay: per-event delay, 0 when off.",
            ),
        ),
    ],
)
