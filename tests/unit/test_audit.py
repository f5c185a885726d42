"""Audit log, state store and the audited operator actions (in-memory actuators, fixed clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.model import Sample
from controlplane.actuators.executor import Executor
from controlplane.actuators.memory_weight import MemoryWeightActuator
from controlplane.actuators.nop_consumer import NopConsumerScaler
from controlplane.audit import AuditLog
from controlplane.model import ActionResult, Result
from controlplane.operations import CONSUMER_DELAY, GATEWAY_FAIL, Operations
from controlplane.state import StateStore
from policies.config import ConsumerLagScalingConfig
from policies.model import Decision, Verdict

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
RECORD = "events.ecommerce-domain.com"
DESIGN_FIELDS = {"at", "actor", "action", "target", "before", "after", "result", "reason"}


def result(at: datetime, action: str = "scale", outcome: Result = Result.APPLIED) -> ActionResult:
    return ActionResult(at=at, actor="policy:p", action=action, target="g", before={"replicas": 1},
                        after={"replicas": 2}, result=outcome, reason="lag 2000 > 1000 for 30s")


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(tmp_path / "controlplane.db")
    audit.start()
    return audit


def test_entries_newest_first_with_limit_and_design_shape(log: AuditLog) -> None:
    for i, outcome in enumerate([Result.APPLIED, Result.HELD, Result.FAILED, Result.DRY_RUN]):
        log.record(result(T0 + timedelta(seconds=i), outcome=outcome))
    entries = log.entries(limit=3)
    assert [e.result for e in entries] == ["dry-run", "failed", "held"]
    document = entries[0].to_document()
    assert DESIGN_FIELDS <= set(document)
    assert document["at"] == "2026-11-24T10:00:03.000+00:00"
    assert (document["before"], document["after"]) == ({"replicas": 1}, {"replicas": 2})
    assert len(log.entries()) == 4


def test_decision_and_inputs_are_kept(log: AuditLog) -> None:
    sample = Sample("kafka_consumergroup_group_lag", 2000.0, T0, (("group", "g"),))
    decision = Decision("p", Verdict.ACT, "scale", "g", {"replicas": 1}, {"replicas": 2}, "lag 2000 > 1000",
                        evidence=(sample,))
    log.record(result(T0), decision)
    entry = log.entries()[0]
    assert entry.decision == {"policy": "p", "verdict": "act", "action": "scale", "dry_run": False,
                              "reason": "lag 2000 > 1000"}
    assert entry.inputs == [{"name": "kafka_consumergroup_group_lag", "value": 2000.0,
                             "at": T0.isoformat(), "labels": {"group": "g"}}]


def test_naive_times_are_refused(log: AuditLog) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        log.record(result(datetime(2026, 11, 24, 10, 0)))  # noqa: DTZ001 - the point of the test


def test_state_store_round_trip(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "controlplane.db")
    store.start()
    assert store.read().paused == {} and not store.read().dry_run
    store.set_paused("a", True, "user:x", T0)
    store.set_paused("b", False, "user:x", T0)
    store.set_dry_run(True, "user:x", T0)
    state = store.read()
    assert (state.paused, state.dry_run, state.paused_all) == ({"a": True, "b": False}, True, False)
    # An explicit resume beats `paused: true` in the policy file; no entry keeps the file's value.
    assert state.is_paused("a") and not state.is_paused("b", True) and state.is_paused("c", True)
    store.set_paused(None, True, "user:x", T0)
    assert store.read().is_paused("b")


POLICY = ConsumerLagScalingConfig.model_validate({
    "name": "purchases-lag", "group": "purchase-processor", "scale_out_above": 1000, "scale_in_below": 10,
    "for": "30s", "scale_in_for": "300s", "max_replicas": 6})


@pytest.fixture
def ops(tmp_path: Path) -> Operations:
    db = tmp_path / "controlplane.db"
    executor = Executor(MemoryWeightActuator({RECORD: {"primary": 100, "secondary": 0}}),
                        NopConsumerScaler({"purchase-processor": 1}), clock=lambda: T0)
    operations = Operations(AuditLog(db), StateStore(db), executor, tmp_path / "chaos.json",
                            {"purchase-processor": 6}, (POLICY,), RECORD, clock=lambda: T0)
    operations.start()
    return operations


def last(ops: Operations) -> dict[str, Any]:
    return ops.audit.entries(1)[0].to_document()


def test_set_weights_applied_and_audited_as_user(ops: Operations) -> None:
    outcome = ops.set_weights("alice", {"primary": 70, "secondary": 30})
    assert outcome.result is Result.APPLIED
    assert ops.weights() == {"primary": 70, "secondary": 30}
    entry = last(ops)
    assert (entry["actor"], entry["action"], entry["target"]) == ("user:alice", "set_weights", RECORD)
    assert entry["before"] == {"primary": 100, "secondary": 0}
    assert entry["after"] == {"primary": 70, "secondary": 30}


def test_invalid_weights_fail_audited_and_change_nothing(ops: Operations) -> None:
    outcome = ops.set_weights("alice", {"primary": 0, "secondary": 0})
    assert outcome.result is Result.FAILED and "would all be 0" in outcome.reason
    assert ops.weights() == {"primary": 100, "secondary": 0}
    assert last(ops)["result"] == "failed"


@pytest.mark.parametrize(("group", "replicas", "applied", "reason"), [
    ("purchase-processor", 3, True, "operator: scale purchase-processor to 3 (partitions 6)"),
    ("purchase-processor", 0, True, "operator: scale purchase-processor to 0 (partitions 6)"),
    ("purchase-processor", 7, False,
     "refused: replicas 7 outside 0..6 (partitions of purchase-processor: 6)"),
    ("nope", 1, False, "refused: unknown consumer group 'nope'; known: purchase-processor"),
])
def test_scale_is_bounded_by_partitions(ops: Operations, group: str, replicas: int, applied: bool,
                                        reason: str) -> None:
    outcome = ops.scale("bob", group, replicas)
    assert (outcome.result is Result.APPLIED, outcome.reason) == (applied, reason)
    assert ops.consumers()["purchase-processor"]["replicas"] == (replicas if applied else 1)
    assert last(ops)["reason"] == reason


def test_pause_resume_and_dry_run_are_stored_and_audited(ops: Operations) -> None:
    assert ops.pause("carol", "purchases-lag").after == {"paused": 1}
    assert ops.state.read().is_paused("purchases-lag")
    assert ops.resume("carol", "purchases-lag").before == {"paused": 1}
    assert not ops.state.read().is_paused("purchases-lag")
    assert ops.pause("carol").target == "*" and ops.state.read().paused_all
    assert ops.set_dry_run("carol", True).after == {"dry_run": 1} and ops.state.read().dry_run
    refused = ops.pause("carol", "unknown-policy")
    assert refused.result is Result.FAILED and "loaded: purchases-lag" in refused.reason
    assert [e.action for e in ops.audit.entries()] == ["pause", "dry_run", "pause", "resume", "pause"]


@pytest.mark.parametrize(("kind", "name", "value", "applied", "after"), [
    (CONSUMER_DELAY, "purchase-processor", 50, True, {"delay_ms": 50}),
    (CONSUMER_DELAY, "nope", 50, False, {"delay_ms": 50}),
    (CONSUMER_DELAY, "purchase-processor", -1, False, {"delay_ms": -1}),
    (GATEWAY_FAIL, "primary", 1.0, True, {"fail_ratio_permille": 1000}),
    (GATEWAY_FAIL, "primary", 0.25, True, {"fail_ratio_permille": 250}),
    (GATEWAY_FAIL, "tertiary", 0.5, False, {"fail_ratio_permille": 500}),
    (GATEWAY_FAIL, "primary", 1.5, False, {"fail_ratio_permille": 1500}),
])
def test_chaos_writes_the_switch_file_and_audits(ops: Operations, kind: str, name: str, value: float,
                                                 applied: bool, after: dict[str, int]) -> None:
    outcome = ops.chaos("dave", kind, name, value)
    assert (outcome.result is Result.APPLIED, outcome.after) == (applied, after)
    switches = json.loads(ops.chaos_file.read_text()) if ops.chaos_file.exists() else {}
    assert switches.get(kind, {}).get(name) == (value if applied else None)
    assert last(ops)["actor"] == "user:dave"


def test_chaos_off_removes_the_switch(ops: Operations) -> None:
    ops.chaos("dave", GATEWAY_FAIL, "primary", 1.0)
    outcome = ops.chaos("dave", GATEWAY_FAIL, "primary", 0)
    assert (outcome.before, outcome.after) == ({"fail_ratio_permille": 1000}, {"fail_ratio_permille": 0})
    assert json.loads(ops.chaos_file.read_text())[GATEWAY_FAIL] == {}
