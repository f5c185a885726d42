"""consumer_lag_scaling through the engine: breach timing, steps, bounds, cooldown, holds, flapping."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collectors.model import GroupLag, LagStatus, PartitionLag, Sample, Snapshot
from policies.config import ConsumerLagScalingConfig
from policies.engine import PolicyEngine
from policies.model import Decision, Observed, Verdict

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ACT, HOLD, NOOP = Verdict.ACT, Verdict.HOLD, Verdict.NOOP


def config(**overrides: Any) -> ConsumerLagScalingConfig:
    fields: dict[str, Any] = {
        "name": "lag",
        "kind": "consumer_lag_scaling",
        "group": "g",
        "metric": "lag",
        "scale_out_above": 1000,
        "scale_in_below": 10,
        "for": "30s",
        "scale_in_for": "300s",
        "step": 1,
        "min_replicas": 1,
        "max_replicas": 6,
        "cooldown": "60s",
    }
    fields.update(overrides)
    return ConsumerLagScalingConfig.model_validate(fields)


def group(
    lag: int,
    partitions: int = 12,
    status: LagStatus = LagStatus.OK,
    lag_seconds: float | None = None,
    name: str = "g",
) -> GroupLag:
    parts = tuple(
        PartitionLag(
            "t",
            i,
            100,
            100 + (lag if i == 0 else 0),
            lag if i == 0 else 0,
            lag_seconds if i == 0 else None,
            status,
        )
        for i in range(partitions)
    )
    return GroupLag(name, "Stable", 1, parts, status)


def snapshot(at: datetime, lag: int | None, **kwargs: Any) -> Snapshot:
    samples = kwargs.pop("samples", ())
    errors = kwargs.pop("errors", {})
    stale = kwargs.pop("stale", frozenset())
    groups = () if lag is None else (group(lag, **kwargs),)
    return Snapshot(at=at, samples=samples, groups=groups, stale=stale, errors=errors)


def simulate(
    engine: PolicyEngine, series: Sequence[tuple[int, int | None]], replicas: int, **group_kwargs: Any
) -> list[Decision]:
    """Evaluate each (seconds, lag) tick; ACTs are applied to the replicas like a real actuator would."""
    state = engine.initial_state()
    decisions = []
    for seconds, lag in series:
        now = T0 + timedelta(seconds=seconds)
        observed = Observed(replicas={"g": replicas})
        result, state = engine.evaluate(snapshot(now, lag, **group_kwargs), observed, state, now)
        decision = result[0]
        if decision.verdict is ACT and not decision.dry_run:
            replicas = decision.after["replicas"]
        decisions.append(decision)
    return decisions


def ticks(values: Sequence[int | None], every: int = 10) -> list[tuple[int, int | None]]:
    return [(i * every, v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("overrides", "series", "replicas", "expected"),
    [
        # Breach must hold `for` (30s): acts on the tick where it has.
        ({}, ticks([1500, 1500, 1500, 1500]), 1, [NOOP, NOOP, NOOP, ACT]),
        # A dip restarts the timer.
        ({}, ticks([1500, 1500, 500, 1500, 1500, 1500, 1500]), 1, [NOOP] * 6 + [ACT]),
        # At the limit, not yet long enough.
        ({"for": "45s"}, ticks([1500, 1500, 1500, 1500, 1500]), 1, [NOOP] * 5),
        # Scale in needs scale_in_for (300s) below scale_in_below.
        ({}, ticks([5] * 7, every=50), 3, [NOOP] * 6 + [ACT]),
        # Between the thresholds nothing happens.
        ({}, ticks([500] * 40, every=10), 3, [NOOP] * 40),
        # The window mean (60s) carries a sawtooth over the threshold; the last value alone would not.
        ({"window": "60s"}, ticks([3000, 100, 3000, 100, 3000, 100]), 1, [NOOP] * 3 + [ACT] + [NOOP] * 2),
        ({}, ticks([3000, 100, 3000, 100, 3000, 100]), 1, [NOOP] * 6),
    ],
)
def test_breach_timing(
    overrides: dict[str, Any], series: list[tuple[int, int]], replicas: int, expected: list[Verdict]
) -> None:
    decisions = simulate(PolicyEngine([config(**overrides)]), series, replicas)
    assert [d.verdict for d in decisions] == expected


@pytest.mark.parametrize(
    ("overrides", "lag", "replicas", "partitions", "samples", "after", "reason_part"),
    [
        ({"step": 2}, 1500, 2, 12, (), 4, "step 2"),
        ({"step": 3}, 1500, 5, 12, (), 6, "scale 5 -> 6"),  # max_replicas 6
        ({"max_replicas": 10}, 1500, 4, 5, (), 5, "scale 4 -> 5"),  # partitions cap
        ({}, 1500, 6, 12, (), None, "already at the limit 6"),
        ({"max_replicas": 10}, 1500, 3, 3, (), None, "already at the limit 3"),
        ({"min_replicas": 2}, 500, 1, 12, (), 2, "replicas 1 outside [2, 6]"),
        ({}, 500, 8, 4, (), 4, "replicas 8 outside [1, 4]"),
        ({}, 5, 1, 12, (), None, "already at the limit 1"),
        ({"partition_friendly": True}, 1500, 4, 12, (), 6, "scale 4 -> 6"),
        ({"partition_friendly": True}, 5, 6, 12, (), 4, "scale 6 -> 4"),
        # 12000 behind, 100/s by 2 replicas: 100 + 12000/120 = 200/s needs 4 replicas.
        (
            {"drain_within": "120s"},
            12000,
            2,
            12,
            (Sample("consumer_rate", 100.0, T0, (("group", "g"),)),),
            4,
            "drain 12000 messages within 120s",
        ),
        (
            {"drain_within": "120s", "max_replicas": 3},
            12000,
            2,
            12,
            (Sample("consumer_rate", 100.0, T0, (("group", "g"),)),),
            3,
            "scale 2 -> 3",
        ),
        ({"drain_within": "120s"}, 12000, 2, 12, (), 3, "no consume rate observed"),
    ],
)
def test_steps_and_bounds(
    overrides: dict[str, Any],
    lag: int,
    replicas: int,
    partitions: int,
    samples: tuple[Sample, ...],
    after: int | None,
    reason_part: str,
) -> None:
    cfg = config(**overrides)
    long_enough = int(max(cfg.for_, cfg.scale_in_for).total_seconds())
    decisions = simulate(
        PolicyEngine([cfg]), [(0, lag), (long_enough, lag)], replicas, partitions=partitions, samples=samples
    )
    # The last decision is the one after the breach held (bounds act already on the first tick).
    decision = decisions[0] if decisions[0].verdict is ACT else decisions[-1]
    assert reason_part in decision.reason
    if after is None:
        assert decision.verdict is NOOP
    else:
        assert decision.verdict is ACT
        assert decision.before == {"replicas": replicas}
        assert decision.after == {"replicas": after}


def test_cooldown_spaces_changes_and_says_so() -> None:
    decisions = simulate(PolicyEngine([config()]), ticks([1500] * 16), 1)
    acts = [i * 10 for i, d in enumerate(decisions) if d.verdict is ACT]
    # 30: breach held; the next breach holds at 70 but the cooldown (60s) runs to 90; then 150.
    assert acts == [30, 90, 150]
    held = decisions[7]
    assert held.verdict is HOLD
    assert "cooldown: last change of g 40s ago (cooldown: 60s)" in held.reason
    assert "lag 1500 > 1000 for 30s (for: 30s)" in held.reason


def test_a_change_by_hand_starts_the_cooldown() -> None:
    engine = PolicyEngine([config()])
    state = engine.initial_state()
    verdicts = []
    for seconds, replicas in [(0, 1), (10, 2), (20, 2), (30, 2), (40, 2), (70, 2)]:
        now = T0 + timedelta(seconds=seconds)
        result, state = engine.evaluate(snapshot(now, 1500), Observed(replicas={"g": replicas}), state, now)
        verdicts.append(result[0].verdict)
    # Someone scaled to 2 at 10s: the breach holds from 30s on, but the cooldown lasts until 70s.
    assert verdicts == [NOOP, NOOP, NOOP, HOLD, HOLD, ACT]


@pytest.mark.parametrize(
    ("status", "verdict", "reason_part"),
    [
        (LagStatus.STALL, HOLD, "group status STALL: consumers make no progress, more would not help"),
        (LagStatus.REWIND, HOLD, "group status REWIND"),
        (LagStatus.STOP, HOLD, "group status STOP"),
        (LagStatus.ERR, HOLD, "group status ERR"),
        (LagStatus.WARN, ACT, "lag 1500 > 1000"),
    ],
)
def test_no_scaling_when_more_consumers_would_not_help(
    status: LagStatus, verdict: Verdict, reason_part: str
) -> None:
    decisions = simulate(PolicyEngine([config()]), ticks([1500] * 4), 1, status=status)
    assert decisions[-1].verdict is verdict
    assert reason_part in decisions[-1].reason


@pytest.mark.parametrize(
    ("overrides", "tick", "reason_part"),
    [
        ({}, {"lag": None}, "group g missing from the snapshot"),
        ({}, {"lag": 1500, "errors": {"kafka": "broker down"}}, "kafka source failed: broker down"),
        ({}, {"lag": 1500, "stale": frozenset({"kafka_consumergroup_group_lag:g"})}, "lag of group g is"),
        ({}, {"lag": 1500, "stale": frozenset({"kafka_consumergroup_group_lag"})}, "lag of group g is stale"),
        ({}, {"lag": 1500, "partitions": 0}, "no partitions seen"),
        (
            {"metric": "lag_seconds", "scale_out_above": 60, "scale_in_below": 5},
            {"lag": 1500},
            "lag_seconds not estimable yet",
        ),
    ],
)
def test_missing_or_stale_data_holds_and_restarts_the_breach(
    overrides: dict[str, Any], tick: dict[str, Any], reason_part: str
) -> None:
    cfg = config(**overrides)
    engine = PolicyEngine([cfg])
    state = engine.initial_state()
    verdicts = []
    # Breaching for 20s, one bad tick at 30s, then breaching again: the timer restarts after the hole.
    for seconds in range(0, 80, 10):
        now = T0 + timedelta(seconds=seconds)
        snap = snapshot(now, **tick) if seconds == 30 else snapshot(now, 1500, lag_seconds=120.0)
        result, state = engine.evaluate(snap, Observed(replicas={"g": 1}), state, now)
        verdicts.append(result[0].verdict)
        if seconds == 30:
            assert reason_part in result[0].reason
            assert result[0].before == result[0].after
    assert verdicts == [NOOP, NOOP, NOOP, HOLD, NOOP, NOOP, NOOP, ACT]


def test_unknown_replicas_hold() -> None:
    engine = PolicyEngine([config()])
    result, _ = engine.evaluate(snapshot(T0, 1500), Observed(), engine.initial_state(), T0)
    assert result[0].verdict is HOLD
    assert "replicas of group g unknown" in result[0].reason


def test_lag_seconds_metric_and_evidence() -> None:
    cfg = config(metric="lag_seconds", scale_out_above=60, scale_in_below=5)
    decisions = simulate(PolicyEngine([cfg]), ticks([1500] * 4), 2, lag_seconds=90.0)
    last = decisions[-1]
    assert last.verdict is ACT
    assert last.reason.startswith("lag seconds 90 > 60 for 30s (for: 30s)")
    names = {s.name: s.value for s in last.evidence}
    assert names == {
        "kafka_consumergroup_group_lag": 1500,
        "kafka_consumergroup_group_status": 0,
        "kafka_consumergroup_group_lag_seconds": 90.0,
    }


def reversals(decisions: list[Decision]) -> int:
    acts = [d for d in decisions if d.verdict is ACT]
    directions = [1 if d.after["replicas"] > d.before["replicas"] else -1 for d in acts]
    return sum(1 for a, b in zip(directions, directions[1:], strict=False) if a != b)


def oscillate(period: int, low: int, high: int, length: int = 360) -> list[int | None]:
    return [high if (i // period) % 2 == 0 else low for i in range(length)]


@pytest.mark.parametrize(
    ("overrides", "values"),
    [
        ({}, oscillate(1, 900, 1100)),  # around scale_out_above, every tick
        ({}, oscillate(3, 900, 1100)),  # 30s above, 30s below
        ({}, oscillate(4, 900, 1100)),  # long enough above to act, every time
        ({}, oscillate(6, 0, 5000)),  # across both thresholds: scale in never holds 300s
        ({"window": "60s"}, oscillate(4, 0, 2500)),
        ({"window": "60s"}, oscillate(12, 0, 5000)),  # 2 min each way: scale in never holds 300s
        ({}, [int(1000 + 300 * ((i * 7919) % 13 - 6) / 6) for i in range(360)]),  # noise around 1000
    ],
)
def test_flapping_series_reverse_at_most_once(overrides: dict[str, Any], values: list[int | None]) -> None:
    decisions = simulate(PolicyEngine([config(**overrides)]), ticks(values), 2)
    assert reversals(decisions) <= 1
