"""Ingest: what producers see (rates, rejections, latency) and how events reach Kafka (produce, spool)."""

from dashboards import style as s

GW = 'gateway=~"$gateway"'
RI = "$__rate_interval"


def _quantiles(metric: str, by: str) -> list[s.Query]:
    return [
        s.q(
            f"histogram_quantile({quantile}, sum by ({by}, le) (rate({metric}_bucket{{{GW}}}[{RI}])))",
            f"{{{{{by}}}}} p{int(quantile * 100)}",
        )
        for quantile in (0.5, 0.99)
    ]


dashboard = s.dashboard(
    title="Ingest",
    uid="ecomctl-ingest",
    description="Gateways: events by type and outcome, rejections, HTTP latency, Kafka produce, spool.",
    variables=["gateway"],
    tags=["ingest"],
    rows=[
        s.row(
            "Traffic",
            s.timeseries(
                "Events by type and outcome",
                [s.q(f"sum by (event_type, outcome) (rate(ingest_events_total{{{GW}}}[{RI}]))",
                     "{{event_type}} {{outcome}}")],
                s.PER_S,
                stacked=True,
                axis_label="events/s",
            ),
            s.timeseries(
                "Accepted events by gateway",
                [s.q(f'sum by (gateway) (rate(ingest_events_total{{{GW}, outcome="accepted"}}[{RI}]))',
                     "{{gateway}}")],
                s.PER_S,
                stacked=True,
                axis_label="events/s",
            ),
            s.timeseries(
                "Rejections by reason",
                [s.q(f"sum by (event_type, reason) (rate(ingest_rejections_total{{{GW}}}[{RI}]))",
                     "{{event_type}} {{reason}}")],
                s.PER_S,
                description="Invalid events, answered in the 202 body and sent to ingest-dlq.",
                axis_label="events/s",
            ),
        ),
        s.row(
            "Requests",
            s.timeseries(
                "HTTP answers by code",
                [s.q(f"sum by (code) (rate(ingest_requests_total{{{GW}}}[{RI}]))", "{{code}}")],
                s.REQUESTS_PER_S,
                stacked=True,
            ),
            s.timeseries(
                "Request latency p50 / p99",
                _quantiles("ingest_request_duration_seconds", "gateway"),
                s.SECONDS,
                description="Receive to answer; the failover policy shifts traffic above 500 ms p99.",
                thresholds=s.steps((s.GOOD, None), (s.BAD, 0.5)),
            ),
            s.heatmap(
                "Request latency distribution",
                f"sum by (le) (increase(ingest_request_duration_seconds_bucket{{{GW}}}[{RI}]))",
                s.SECONDS,
            ),
        ),
        s.row(
            "Kafka produce",
            s.timeseries(
                "Produce latency p50 / p99 by topic",
                _quantiles("ingest_produce_duration_seconds", "topic"),
                s.SECONDS,
                description="Produce call to broker acknowledgement (acks=all for purchases).",
                width=12,
            ),
            s.timeseries(
                "Gateways ready",
                [s.q(f"max by (gateway) (ingest_ready{{{GW}}})", "{{gateway}}")],
                s.STATE,
                description="1 when /readyz answers 200.",
                width=12,
            ),
        ),
        s.row(
            "Spool",
            s.timeseries(
                "Spool depth",
                [s.q(f"max by (gateway) (ingest_spool_events{{{GW}}})", "{{gateway}}")],
                s.MESSAGES,
                description="Accepted events waiting in the durable spool for Kafka.",
                axis_label="events",
            ),
            s.timeseries(
                "Spooled and replayed",
                [
                    s.q(s.zero_fill(f"sum by (gateway) (rate(ingest_spooled_events_total{{{GW}}}[{RI}]))",
                                    f"max by (gateway) (ingest_spool_events{{{GW}}})"),
                        "{{gateway}} spooled"),
                    s.q(s.zero_fill(f"sum by (gateway) (rate(ingest_spool_replayed_total{{{GW}}}[{RI}]))",
                                    f"max by (gateway) (ingest_spool_events{{{GW}}})"),
                        "{{gateway}} replayed"),
                ],
                s.PER_S,
                axis_label="events/s",
            ),
            s.bargauge(
                "Spool fill",
                s.q(f"max by (gateway) (ingest_spool_bytes{{{GW}}})"
                    f" / max by (gateway) (ingest_spool_capacity_bytes{{{GW}}})", "{{gateway}}"),
                s.RATIO,
                s.steps((s.GOOD, None), (s.WARN, 0.5), (s.BAD, 0.9)),
                max_value=1,
                description="503 with Retry-After only when the spool is full.",
            ),
        ),
    ],
)
