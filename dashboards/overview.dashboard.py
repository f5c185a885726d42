"""Overview: the few numbers an SRE looks at first, each against its objective."""

from dashboards import style as s

W = "5m"  # SLO stats smooth over a fixed window so a single scrape does not flip the colour

dashboard = s.dashboard(
    title="Overview",
    uid="ecomctl-overview",
    description="Service-level stats: availability, latency, rejections, lag, spool, DLQ, control loop.",
    tags=["overview"],
    rows=[
        s.row(
            "Ingest",
            s.stat(
                "Availability (non-5xx)",
                s.q(f'1 - ((sum(rate(ingest_requests_total{{code=~"5.."}}[{W}])) or vector(0))'
                    f" / sum(rate(ingest_requests_total[{W}])))"),
                s.RATIO,
                s.steps((s.BAD, None), (s.WARN, 0.99), (s.GOOD, 0.999)),
                decimals=2,
                description="Objective 99.9 % of requests answered without a 5xx.",
            ),
            s.stat(
                "Accepted events/s",
                s.q('sum(rate(ingest_events_total{outcome="accepted"}[$__rate_interval]))'),
                s.PER_S,
                s.steps((s.NEUTRAL, None)),
            ),
            s.stat(
                "Rejected ratio",
                s.q(f'(sum(rate(ingest_events_total{{outcome="rejected"}}[{W}])) or vector(0))'
                    f" / sum(rate(ingest_events_total[{W}]))"),
                s.RATIO,
                s.steps((s.GOOD, None), (s.WARN, 0.01), (s.BAD, 0.05)),
                decimals=2,
            ),
            s.stat(
                "Request p99",
                s.q(f"histogram_quantile(0.99, sum by (le) "
                    f"(rate(ingest_request_duration_seconds_bucket[{W}])))"),
                s.SECONDS,
                s.steps((s.GOOD, None), (s.WARN, 0.25), (s.BAD, 0.5)),
                description="Objective p99 < 500 ms (the failover policy's limit).",
            ),
            s.stat(
                "Spool fill (worst gateway)",
                s.q("max(ingest_spool_bytes / ingest_spool_capacity_bytes)"),
                s.RATIO,
                s.steps((s.GOOD, None), (s.WARN, 0.5), (s.BAD, 0.9)),
            ),
            height=s.STAT_HEIGHT,
        ),
        s.row(
            "Processing and control",
            s.stat(
                "Worst lag in time",
                s.q("max(kafka_consumergroup_group_lag_seconds)"),
                s.SECONDS,
                s.steps((s.GOOD, None), (s.WARN, 30), (s.BAD, 60)),
            ),
            s.stat(
                "Worst group status",
                s.q("max(kafka_consumergroup_group_status)"),
                s.STATE,
                s.steps((s.GOOD, None), (s.WARN, 1), (s.BAD, 2)),
                status=True,
            ),
            s.stat(
                "DLQ events (1h)",
                s.q("sum(increase(consumer_events_failed_total[1h])) or vector(0)"),
                s.COUNT,
                s.steps((s.GOOD, None), (s.BAD, 1)),
                decimals=0,
            ),
            s.stat(
                "Since last control round",
                s.q("time() - max(ecomctl_loop_last_run_timestamp_seconds)"),
                s.SECONDS,
                s.steps((s.GOOD, None), (s.WARN, 15), (s.BAD, 60)),
            ),
            s.stat(
                "Traffic on primary",
                s.q('sum(ecomctl_route53_weight{set_identifier="primary"}) / sum(ecomctl_route53_weight)'),
                s.RATIO,
                s.steps((s.WARN, None), (s.GOOD, 0.99)),
                description="Below 100 % the failover policy has shifted producers to the secondary.",
            ),
            height=s.STAT_HEIGHT,
        ),
        s.row(
            "Trends",
            s.timeseries(
                "Accepted events/s by type",
                [s.q('sum by (event_type) (rate(ingest_events_total{outcome="accepted"}[$__rate_interval]))',
                     "{{event_type}}")],
                s.PER_S,
                stacked=True,
                axis_label="events/s",
            ),
            s.timeseries(
                "Lag in time per group",
                [s.q("max by (group) (kafka_consumergroup_group_lag_seconds)", "{{group}}")],
                s.SECONDS,
            ),
        ),
    ],
)
