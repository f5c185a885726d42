"""Kafka lag: how far each consumer group is behind, in messages and in time, per group and partition."""

from dashboards import style as s

G = 'group=~"$group"'

dashboard = s.dashboard(
    title="Kafka lag",
    uid="ecomctl-kafka-lag",
    description="Consumer group lag (messages and estimated seconds), status and members, per partition.",
    variables=["group"],
    tags=["kafka"],
    rows=[
        s.row(
            "Groups",
            s.timeseries(
                "Lag per group",
                [s.q(f"max by (group) (kafka_consumergroup_group_lag{{{G}}})", "{{group}}")],
                s.MESSAGES,
                axis_label="messages",
            ),
            s.timeseries(
                "Lag in time per group",
                [s.q(f"max by (group) (kafka_consumergroup_group_lag_seconds{{{G}}})", "{{group}}")],
                s.SECONDS,
                description="Estimated from offset/time history; budgets: purchases 30 s, cart 60 s.",
            ),
            s.bargauge(
                "Lag in time now",
                s.q(f"max by (group) (kafka_consumergroup_group_lag_seconds{{{G}}})", "{{group}}"),
                s.SECONDS,
                s.steps((s.GOOD, None), (s.WARN, 30), (s.BAD, 60)),
            ),
        ),
        s.row(
            "Status",
            s.stat(
                "Group status",
                s.q(f"max by (group) (kafka_consumergroup_group_status{{{G}}})", "{{group}}"),
                s.STATE,
                s.steps((s.GOOD, None), (s.WARN, 1), (s.BAD, 2)),
                description="Worst partition wins: OK, WARN, STALL, STOP, REWIND, ERR.",
                status=True,
            ),
            s.timeseries(
                "Members and replicas",
                [
                    s.q(f"max by (group) (kafka_consumergroup_members{{{G}}})", "{{group}} members"),
                    s.q(f"max by (group) (ecomctl_consumer_replicas{{{G}}})", "{{group}} replicas"),
                ],
                s.COUNT,
            ),
        ),
        s.row(
            "Partitions",
            s.table(
                "Per partition",
                [
                    s.q(f"max by (group, topic, partition) (kafka_consumergroup_lag{{{G}}})"),
                    s.q(f"max by (group, topic, partition) (kafka_consumergroup_lag_seconds{{{G}}})"),
                    s.q(f"max by (group, topic, partition) (kafka_consumergroup_status{{{G}}})"),
                ],
                {"A": ("lag", s.MESSAGES), "B": ("lag seconds", s.SECONDS), "C": ("status", s.STATE)},
                status_column="status",
                width=12,
            ),
            s.timeseries(
                "Lag per partition",
                [s.q(f"max by (group, topic, partition) (kafka_consumergroup_lag{{{G}}})",
                     "{{topic}}/{{partition}}")],
                s.MESSAGES,
                axis_label="messages",
                width=12,
            ),
            height=10,
        ),
    ],
)
