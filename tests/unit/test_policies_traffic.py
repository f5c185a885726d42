"""ingest_traffic_shift through the engine: threshold, steps, max_weight, recovery, holds, weight bounds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collectors.model import Sample, Snapshot
from policies.config import IngestTrafficShiftConfig
from policies.engine import PolicyEngine
from policies.model import Decision, Observed, Verdict

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
RECORD = "events.ecommerce-domain.com"
ACT, HOLD, NOOP = Verdict.ACT, Verdict.HOLD, Verdict.NOOP

# Gateway health as (ready, rate, error_ratio, p99_ms); None leaves the sample out.
GOOD = (1.0, 50.0, 0.01, 120.0)
ERRORS = (1.0, 50.0, 0.30, 120.0)
SLOW = (1.0, 50.0, 0.01, 900.0)
DOWN = (0.0, 0.0, None, None)
IDLE = (1.0, 0.0, None, None)


def config(**overrides: Any) -> IngestTrafficShiftConfig:
    fields: dict[str, Any] = {
        "name": "shift",
        "kind": "ingest_traffic_shift",
        "record": RECORD,
        "from": "primary",
        "to": "secondary",
        "error_ratio_above": 0.05,
        "p99_ms_above": 500,
        "threshold": 3,
        "step_weight": 25,
        "max_weight": 100,
        "recover_after": "120s",
    }
    fields.update(overrides)
    return IngestTrafficShiftConfig.model_validate(fields)


def gateway_samples(at: datetime, name: str, health: tuple[float | None, ...]) -> list[Sample]:
    names = ("ingest_ready", "ingest_rate", "ingest_error_ratio", "ingest_latency_p99_ms")
    return [
        Sample(n, v, at, (("gateway", name),)) for n, v in zip(names, health, strict=True) if v is not None
    ]


def snapshot(
    at: datetime, primary: tuple[float | None, ...], secondary: tuple[float | None, ...] = GOOD, **kwargs: Any
) -> Snapshot:
    samples = gateway_samples(at, "primary", primary) + gateway_samples(at, "secondary", secondary)
    return Snapshot(at=at, samples=tuple(samples), **kwargs)


def simulate(
    engine: PolicyEngine,
    healths: Sequence[tuple[float | None, ...]],
    weights: dict[str, int],
    every: int = 10,
    **snapshot_kwargs: Any,
) -> tuple[list[Decision], dict[str, int]]:
    """One tick per health; ACTs are applied to the weights, and weight invariants checked every tick."""
    state = engine.initial_state()
    decisions = []
    for i, health in enumerate(healths):
        now = T0 + timedelta(seconds=i * every)
        result, state = engine.evaluate(
            snapshot(now, health, **snapshot_kwargs), Observed(weights={RECORD: dict(weights)}), state, now
        )
        decision = result[0]
        if decision.verdict is ACT:
            assert sum(decision.after.values()) == sum(weights.values()) > 0  # never all zero
            assert all(0 <= w <= 255 for w in decision.after.values())
            weights = dict(decision.after)
        decisions.append(decision)
    return decisions, weights


def acts(decisions: list[Decision]) -> list[int]:
    return [i for i, d in enumerate(decisions) if d.verdict is ACT]


@pytest.mark.parametrize(
    ("overrides", "healths", "weights", "acted", "final"),
    [
        # Each `threshold` (3) consecutive failed checks is one step of 25, up to everything.
        (
            {},
            [ERRORS] * 14,
            {"primary": 100, "secondary": 0},
            [2, 5, 8, 11],
            {"primary": 0, "secondary": 100},
        ),
        ({}, [SLOW] * 6, {"primary": 100, "secondary": 0}, [2, 5], {"primary": 50, "secondary": 50}),
        ({}, [DOWN] * 3, {"primary": 100, "secondary": 0}, [2], {"primary": 75, "secondary": 25}),
        # max_weight caps `to`; the last step is cut to fit.
        (
            {"max_weight": 60},
            [ERRORS] * 12,
            {"primary": 100, "secondary": 0},
            [2, 5, 8],
            {"primary": 40, "secondary": 60},
        ),
        # A passing check breaks the run of failures.
        (
            {},
            [ERRORS, ERRORS, GOOD, ERRORS, ERRORS, ERRORS],
            {"primary": 100, "secondary": 0},
            [5],
            {"primary": 75, "secondary": 25},
        ),
        # Raw Route 53 weights, not percentages; `from` never goes below zero.
        (
            {"step_weight": 100, "max_weight": 255},
            [ERRORS] * 9,
            {"primary": 150, "secondary": 10},
            [2, 5],
            {"primary": 0, "secondary": 160},
        ),
        # threshold 1: every failed check is a step.
        (
            {"threshold": 1},
            [ERRORS] * 2,
            {"primary": 100, "secondary": 0},
            [0, 1],
            {"primary": 50, "secondary": 50},
        ),
    ],
)
def test_shift_steps_on_threshold(
    overrides: dict[str, Any],
    healths: list[tuple[float | None, ...]],
    weights: dict[str, int],
    acted: list[int],
    final: dict[str, int],
) -> None:
    decisions, weights = simulate(PolicyEngine([config(**overrides)]), healths, weights)
    assert acts(decisions) == acted
    assert weights == final


def test_reasons_name_values_limits_and_counts() -> None:
    decisions, _ = simulate(PolicyEngine([config()]), [ERRORS] * 3, {"primary": 100, "secondary": 0})
    assert decisions[1].reason == "primary error_ratio 0.3 > 0.05; failed checks 2 (threshold: 3)"
    assert decisions[2].reason.startswith(
        "primary error_ratio 0.3 > 0.05; failed checks 3 (threshold: 3): "
        "shift 25 primary -> secondary (step_weight 25, max_weight 100)"
    )
    assert {s.name for s in decisions[2].evidence} >= {
        "ingest_error_ratio",
        "ingest_latency_p99_ms",
        "ingest_ready",
        "ingest_rate",
    }


def test_at_max_weight_keeps_counting_and_says_so() -> None:
    decisions, weights = simulate(
        PolicyEngine([config(max_weight=25)]), [ERRORS] * 9, {"primary": 100, "secondary": 0}
    )
    assert weights == {"primary": 75, "secondary": 25}
    assert decisions[5].verdict is NOOP
    assert "secondary at 25 (max_weight 25)" in decisions[5].reason


@pytest.mark.parametrize(
    ("overrides", "healths", "acted", "final"),
    [
        # Shifted 50 (ticks 2 and 5); healthy from tick 6 (60s): steps back at 180s and 300s.
        ({}, [ERRORS] * 6 + [GOOD] * 30, [2, 5, 18, 30], {"primary": 100, "secondary": 0}),
        # recover_step_every spaces the later steps.
        (
            {"recover_step_every": "30s"},
            [ERRORS] * 6 + [GOOD] * 25,
            [2, 5, 18, 21],
            {"primary": 100, "secondary": 0},
        ),
        # A failed check during recovery restarts the healthy time (and counts towards a shift).
        (
            {},
            [ERRORS] * 6 + [GOOD] * 10 + [ERRORS] + [GOOD] * 13,
            [2, 5, 29],
            {"primary": 75, "secondary": 25},
        ),
        # No traffic proves nothing: the healthy time restarts and nothing moves back.
        ({}, [ERRORS] * 6 + [GOOD] * 10 + [IDLE] + [GOOD] * 13, [2, 5, 29], {"primary": 75, "secondary": 25}),
        # Unless told to judge an idle gateway by readiness.
        (
            {"when_no_traffic": "readiness"},
            [ERRORS] * 6 + [IDLE] * 25,
            [2, 5, 18, 30],
            {"primary": 100, "secondary": 0},
        ),
        ({}, [ERRORS] * 6 + [IDLE] * 25, [2, 5], {"primary": 50, "secondary": 50}),
    ],
)
def test_recovery_step_by_step(
    overrides: dict[str, Any],
    healths: list[tuple[float | None, ...]],
    acted: list[int],
    final: dict[str, int],
) -> None:
    decisions, weights = simulate(
        PolicyEngine([config(**overrides)]), healths, {"primary": 100, "secondary": 0}
    )
    assert acts(decisions) == acted
    assert weights == final


def test_recovery_moves_back_only_what_the_policy_moved() -> None:
    # secondary starts at 30 by an SRE's choice; the policy moves 25 and later returns just that.
    decisions, weights = simulate(
        PolicyEngine([config()]), [ERRORS] * 3 + [GOOD] * 40, {"primary": 70, "secondary": 30}
    )
    assert weights == {"primary": 70, "secondary": 30}
    assert len(acts(decisions)) == 2
    assert "healthy for 120s (recover_after: 120s)" in decisions[acts(decisions)[1]].reason


NAN = math.nan


@pytest.mark.parametrize(
    ("health", "snapshot_kwargs", "reason_part"),
    [
        (IDLE, {}, "no traffic on primary (ingest_rate 0 <= min_rate 0): no values to judge"),
        ((1.0, 50.0, None, 120.0), {}, "ingest_error_ratio of primary missing or stale"),
        ((1.0, 50.0, 0.01, NAN), {}, "ingest_latency_p99_ms of primary missing or stale"),
        ((None, 50.0, 0.3, 120.0), {}, "ingest_ready of primary missing or stale"),
        ((1.0, None, 0.3, 120.0), {}, "ingest_rate of primary missing or stale"),
        (
            ERRORS,
            {"stale": frozenset({"ingest_error_ratio:primary"})},
            "ingest_error_ratio of primary missing",
        ),
        (ERRORS, {"stale": frozenset({"ingest_error_ratio"})}, "ingest_error_ratio of primary missing"),
        (
            ERRORS,
            {"errors": {"prometheus": "connection refused"}},
            "prometheus source failed: connection refused",
        ),
    ],
)
def test_missing_stale_or_failing_signals_hold_and_count_neither_way(
    health: tuple[float | None, ...], snapshot_kwargs: dict[str, Any], reason_part: str
) -> None:
    # Two failed checks, an inconclusive one, then a failed one: still the third failure, so a shift.
    engine = PolicyEngine([config()])
    state = engine.initial_state()
    observed = Observed(weights={RECORD: {"primary": 100, "secondary": 0}})
    verdicts = []
    for i, h in enumerate([ERRORS, ERRORS, health, ERRORS]):
        now = T0 + timedelta(seconds=i * 10)
        snap = snapshot(now, h, **(snapshot_kwargs if i == 2 else {}))
        result, state = engine.evaluate(snap, observed, state, now)
        verdicts.append(result[0].verdict)
        if i == 2:
            assert reason_part in result[0].reason
            assert result[0].after == result[0].before
    assert verdicts == [NOOP, NOOP, HOLD, ACT]


@pytest.mark.parametrize(
    ("weights", "reason_part"),
    [
        ({"primary": 0, "secondary": 0}, "are all zero"),
        ({"primary": 300, "secondary": 0}, "outside 0..255"),
        ({"primary": 100, "secondary": -1}, "outside 0..255"),
        ({"primary": 100}, "has no set identifier secondary"),
        (None, "weights of record events.ecommerce-domain.com unknown"),
    ],
)
def test_bad_observed_weights_hold(weights: dict[str, int] | None, reason_part: str) -> None:
    engine = PolicyEngine([config(threshold=1)])
    observed = Observed(weights={} if weights is None else {RECORD: weights})
    result, _ = engine.evaluate(snapshot(T0, ERRORS), observed, engine.initial_state(), T0)
    assert result[0].verdict is HOLD
    assert reason_part in result[0].reason


@pytest.mark.parametrize(
    ("secondary", "reason_part"),
    [
        (DOWN, "secondary not ready (ingest_ready 0): not shifting"),
        ((None, 50.0, 0.01, 100.0), "secondary readiness unknown: not shifting"),
    ],
)
def test_never_shift_onto_a_gateway_that_is_not_ready(
    secondary: tuple[float | None, ...], reason_part: str
) -> None:
    decisions, weights = simulate(
        PolicyEngine([config()]), [ERRORS] * 3, {"primary": 100, "secondary": 0}, secondary=secondary
    )
    assert weights == {"primary": 100, "secondary": 0}
    assert decisions[-1].verdict is HOLD
    assert reason_part in decisions[-1].reason


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"step_weight": 0}, "step_weight"),
        ({"step_weight": 256}, "step_weight"),
        ({"max_weight": 300}, "max_weight"),
        ({"step_weight": 50, "max_weight": 25}, "max_weight"),
        ({"to": "primary"}, "to"),
        ({"error_ratio_above": 1.5}, "error_ratio_above"),
    ],
)
def test_weight_settings_are_validated(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        config(**overrides)
