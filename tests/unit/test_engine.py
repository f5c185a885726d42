"""PolicyEngine: pause (one, all, from the file), priorities and supersede, dry run, state handling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collectors.model import GroupLag, LagStatus, PartitionLag, Snapshot
from policies.config import ConsumerLagScalingConfig
from policies.engine import EngineState, PolicyEngine
from policies.model import Decision, Observed, Verdict

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ACT, HOLD, NOOP = Verdict.ACT, Verdict.HOLD, Verdict.NOOP


def policy(name: str, **overrides: Any) -> ConsumerLagScalingConfig:
    fields: dict[str, Any] = {
        "name": name,
        "kind": "consumer_lag_scaling",
        "group": "g",
        "scale_out_above": 1000,
        "scale_in_below": 10,
        "for": "0s",
        "scale_in_for": "0s",
        "max_replicas": 6,
        "cooldown": "60s",
    }
    fields.update(overrides)
    return ConsumerLagScalingConfig.model_validate(fields)


def snapshot(at: datetime, lag: int) -> Snapshot:
    parts = tuple(
        PartitionLag("t", i, 0, lag if i == 0 else 0, lag if i == 0 else 0, None, LagStatus.OK)
        for i in range(6)
    )
    return Snapshot(at=at, groups=(GroupLag("g", "Stable", 2, parts, LagStatus.OK),))


def tick(
    engine: PolicyEngine, state: EngineState, seconds: int, lag: int = 5000, replicas: int = 2
) -> tuple[list[Decision], EngineState]:
    now = T0 + timedelta(seconds=seconds)
    return engine.evaluate(snapshot(now, lag), Observed(replicas={"g": replicas}), state, now)


@pytest.mark.parametrize(
    ("pause", "verdict", "reason_start"),
    [
        (lambda s: s, ACT, "lag 5000 > 1000"),
        (lambda s: s.pause("a"), HOLD, "policy paused; would act: lag 5000 > 1000"),
        (lambda s: s.pause(), HOLD, "all policies paused; would act: lag 5000 > 1000"),
        (lambda s: s.pause("a").resume("a"), ACT, "lag 5000"),
        (lambda s: s.pause().resume(), ACT, "lag 5000"),
        (lambda s: s.pause("other"), ACT, "lag 5000"),
    ],
)
def test_pause_and_resume(pause: Any, verdict: Verdict, reason_start: str) -> None:
    engine = PolicyEngine([policy("a")])
    (decision,), _ = tick(engine, pause(engine.initial_state()), 0)
    assert decision.verdict is verdict
    assert decision.reason.startswith(reason_start)
    if verdict is HOLD:
        assert decision.after == decision.before == {"replicas": 2}


def test_paused_in_the_file_starts_paused_and_keeps_observing() -> None:
    engine = PolicyEngine([policy("a", paused=True, **{"for": "30s"})])
    state = engine.initial_state()
    verdicts = []
    for seconds in (0, 10, 20, 30):
        (decision,), state = tick(engine, state, seconds)
        verdicts.append(decision.verdict)
    assert verdicts == [HOLD, HOLD, HOLD, HOLD]
    # The breach timer kept running while paused: resumed, the policy acts at once.
    (decision,), _ = tick(engine, state.resume("a"), 40)
    assert decision.verdict is ACT
    assert "for 40s" in decision.reason


@pytest.mark.parametrize(
    ("priorities", "winner"),
    [
        ({"a": 1, "b": 5}, "b"),
        ({"a": 5, "b": 1}, "a"),
        ({"a": 3, "b": 3}, "a"),  # a tie goes to the one loaded first
    ],
)
def test_one_change_per_target_the_higher_priority_wins(priorities: dict[str, int], winner: str) -> None:
    engine = PolicyEngine(
        [policy("a", step=1, priority=priorities["a"]), policy("b", step=2, priority=priorities["b"])]
    )
    decisions, state = tick(engine, engine.initial_state(), 0)
    by_name = {d.policy: d for d in decisions}
    loser = "b" if winner == "a" else "a"
    assert by_name[winner].verdict is ACT
    assert by_name[loser].verdict is HOLD
    assert by_name[loser].reason.startswith(
        f"superseded by {winner} (priority {priorities[winner]} vs "
        f"{priorities[loser]}); wanted: lag 5000 > 1000"
    )
    # The change counts for both: the target is in cooldown for the loser too.
    decisions, _ = tick(engine, state, 10, replicas=by_name[winner].after["replicas"])
    assert [d.verdict for d in decisions] == [HOLD, HOLD]
    assert all("cooldown" in d.reason for d in decisions)


def test_policies_on_different_targets_do_not_supersede() -> None:
    engine = PolicyEngine([policy("a"), policy("b", group="other")])
    now = T0
    parts = tuple(PartitionLag("t", i, 0, 5000, 5000, None, LagStatus.OK) for i in range(3))
    snap = Snapshot(
        at=now,
        groups=(
            GroupLag("g", "Stable", 1, parts, LagStatus.OK),
            GroupLag("other", "Stable", 1, parts, LagStatus.OK),
        ),
    )
    decisions, _ = engine.evaluate(snap, Observed(replicas={"g": 1, "other": 1}), engine.initial_state(), now)
    assert [d.verdict for d in decisions] == [ACT, ACT]


@pytest.mark.parametrize(
    ("engine_dry_run", "policy_dry_run"),
    [(True, False), (False, True)],
)
def test_dry_run_acts_on_paper_with_a_live_cadence(engine_dry_run: bool, policy_dry_run: bool) -> None:
    engine = PolicyEngine([policy("a", dry_run=policy_dry_run)], dry_run=engine_dry_run)
    state = engine.initial_state()
    verdicts = []
    for seconds in range(0, 130, 10):
        # A dry run changes nothing: replicas stay at 2.
        (decision,), state = tick(engine, state, seconds)
        verdicts.append(decision.verdict)
        if decision.verdict is ACT:
            assert decision.dry_run
            assert decision.after == {"replicas": 3}
    # Cooldown still spaces the would-be changes, and the unchanged replicas are not seen as a change.
    assert [i * 10 for i, v in enumerate(verdicts) if v is ACT] == [0, 60, 120]


def test_live_decisions_are_not_dry_run() -> None:
    engine = PolicyEngine([policy("a")])
    (decision,), _ = tick(engine, engine.initial_state(), 0)
    assert decision.verdict is ACT
    assert not decision.dry_run


def test_evaluate_leaves_the_given_state_alone() -> None:
    engine = PolicyEngine([policy("a", **{"for": "30s"})])
    state = engine.initial_state()
    _, after = tick(engine, state, 0)
    assert state == EngineState()
    assert after.memory["a"].above_since == T0


def test_policy_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="used more than once: a"):
        PolicyEngine([policy("a"), policy("a")])


def test_lag_within_band_is_a_noop_with_its_reason() -> None:
    engine = PolicyEngine([policy("a")])
    (decision,), _ = tick(engine, engine.initial_state(), 0, lag=500)
    assert decision.verdict is NOOP
    assert decision.reason == "lag 500 within [10, 1000]"
