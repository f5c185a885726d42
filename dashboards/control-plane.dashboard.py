"""Control plane: the loop's health, what the policies decided and did, and Route 53 weights."""

from dashboards import style as s

RI = "$__rate_interval"
WEIGHTS = "max by (record, set_identifier) (ecomctl_route53_weight)"
SHARE = f"{WEIGHTS} / ignoring (set_identifier) group_left sum by (record) ({WEIGHTS})"

dashboard = s.dashboard(
    title="Control plane",
    uid="ecomctl-control-plane",
    description="collect -> evaluate -> act: loop duration, decisions, actions, holds, Route 53 weights.",
    tags=["controlplane"],
    rows=[
        s.row(
            "Loop",
            s.stat(
                "Since last round",
                s.q("time() - max(ecomctl_loop_last_run_timestamp_seconds)"),
                s.SECONDS,
                s.steps((s.GOOD, None), (s.WARN, 15), (s.BAD, 60)),
                description="Alert ControlLoopStuck fires above 60 s.",
                width=6,
            ),
            s.timeseries(
                "Loop duration p50 / p99",
                [
                    s.q(f"histogram_quantile({quantile}, sum by (le) "
                        f"(rate(ecomctl_loop_duration_seconds_bucket[{RI}])))", f"p{int(quantile * 100)}")
                    for quantile in (0.5, 0.99)
                ],
                s.SECONDS,
                width=12,
            ),
            s.timeseries(
                "Rounds per second",
                [s.q(f"sum(rate(ecomctl_loop_duration_seconds_count[{RI}]))", "rounds")],
                s.PER_S,
                width=6,
            ),
        ),
        s.row(
            "Decisions",
            s.timeseries(
                "Decisions by verdict",
                [s.q(f"sum by (verdict) (rate(ecomctl_decisions_total[{RI}]))", "{{verdict}}")],
                s.PER_S,
                stacked=True,
                axis_label="decisions/s",
            ),
            s.timeseries(
                "Actions by result",
                [s.q(f"sum by (action, result) (increase(ecomctl_actions_total[{RI}]))",
                     "{{action}} {{result}}")],
                s.COUNT,
                stacked=True,
                description="applied / dry-run / held / failed.",
                axis_label="actions",
            ),
            s.timeseries(
                "Holds by policy",
                [s.q(s.zero_fill(f"sum by (policy) (rate(ecomctl_holds_total[{RI}]))",
                                 f"sum by (policy) (rate(ecomctl_decisions_total[{RI}]))"), "{{policy}}")],
                s.PER_S,
                description="Inconclusive decisions: data missing, stale or failing, so the policy held.",
                axis_label="holds/s",
            ),
        ),
        s.row(
            "Route 53",
            s.timeseries("Weights over time", [s.q(WEIGHTS, "{{set_identifier}}")], s.WEIGHT,
                         description="Weight of each set of the ingest record (0..255)."),
            s.timeseries("Traffic share", [s.q(SHARE, "{{set_identifier}}")], s.RATIO, stacked=True,
                         description="Weight / sum of weights: the share of producers each cluster gets."),
            s.bargauge("Share now", s.q(SHARE, "{{set_identifier}}"), s.RATIO,
                       s.steps((s.NEUTRAL, None)), max_value=1),
        ),
    ],
)
