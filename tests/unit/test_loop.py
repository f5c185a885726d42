"""One control-loop tick at a time: in-memory sources and actuators, a fake clock, a real audit DB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from collectors.model import GroupLag, LagStatus, PartitionLag, Sample, Snapshot
from controlplane.actuators.base import ActuatorError
from controlplane.actuators.executor import Executor
from controlplane.actuators.memory_weight import MemoryWeightActuator
from controlplane.actuators.nop_consumer import NopConsumerScaler
from controlplane.audit import AuditLog
from controlplane.loop import ControlLoop, LoopMetrics, merge
from controlplane.model import Result
from controlplane.state import StateStore
from policies.engine import PolicyEngine
from policies.loader import parse_policy_document

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
RECORD = "events.ecommerce-domain.com"
GROUP = "purchase-processor"
POLICIES = {"policies": [
    {"name": "purchases-lag", "kind": "consumer_lag_scaling", "group": GROUP, "scale_out_above": 1000,
     "scale_in_below": 10, "for": "10s", "scale_in_for": "30s", "cooldown": "10s", "max_replicas": 6},
    {"name": "ingest-failover", "kind": "ingest_traffic_shift", "record": RECORD, "from": "primary",
     "to": "secondary", "error_ratio_above": 0.05, "p99_ms_above": 500, "threshold": 1, "step_weight": 25,
     "max_weight": 100, "recover_after": "30s"},
]}


def group_lag(lag: int) -> GroupLag:
    parts = tuple(PartitionLag("purchases", p, 0, lag // 6, lag // 6, None, LagStatus.OK) for p in range(6))
    return GroupLag(GROUP, "Stable", 1, parts, LagStatus.OK)


def gateway_samples(now: datetime, error_ratio: float) -> tuple[Sample, ...]:
    values = {"ingest_error_ratio": error_ratio, "ingest_latency_p99_ms": 20.0, "ingest_ready": 1.0,
              "ingest_rate": 50.0}
    return tuple(Sample(name, value, now, (("gateway", gw),)) for name, value in values.items()
                 for gw in ("primary", "secondary"))


class World:
    """What the sources report, changed by the test between ticks."""

    def __init__(self) -> None:
        self.lag = 0
        self.error_ratio = 0.0
        self.kafka_error: str | None = None
        self.now = T0

    def kafka(self, now: datetime) -> Snapshot:
        if self.kafka_error:
            raise ConnectionError(self.kafka_error)
        return Snapshot(at=now, groups=(group_lag(self.lag),))

    def prometheus(self, now: datetime) -> Snapshot:
        return Snapshot(at=now, samples=gateway_samples(now, self.error_ratio))


class Rig:
    def __init__(self, tmp_path: Path, dry_run: bool = False) -> None:
        self.world = World()
        self.scaler = NopConsumerScaler({GROUP: 1})
        self.weights = MemoryWeightActuator({RECORD: {"primary": 100, "secondary": 0}})
        policies, errors = parse_policy_document("test.yaml", POLICIES)
        assert not errors
        db = tmp_path / "controlplane.db"
        self.audit, self.state = AuditLog(db), StateStore(db)
        self.audit.start()
        self.state.start()
        self.registry = CollectorRegistry()
        clock: Callable[[], datetime] = lambda: self.world.now  # noqa: E731 - the fake clock
        sources = {"kafka": self.world.kafka, "prometheus": self.world.prometheus}
        executor = Executor(self.weights, self.scaler, clock)
        self.loop = ControlLoop(PolicyEngine(policies), sources, executor, self.audit, self.state,
                                LoopMetrics(self.registry), dry_run=dry_run, clock=clock)

    def ticks(self, count: int, step_s: float = 5.0) -> list[Any]:
        results = []
        for _ in range(count):
            results.extend(self.loop.tick())
            self.world.now += timedelta(seconds=step_s)
        return results

    def metric(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def test_lag_breach_scales_out_after_for_and_is_audited(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.world.lag = 6000
    results = rig.ticks(3)  # t0, +5 s, +10 s: the breach has held `for: 10s` on the third tick
    applied = [r for r in results if r.result is Result.APPLIED]
    assert [(r.target, r.before, r.after) for r in applied] == [(GROUP, {"replicas": 1}, {"replicas": 2})]
    assert applied[0].at == T0 + timedelta(seconds=10)
    assert rig.scaler.replicas(GROUP) == 2
    entry = next(e for e in rig.audit.entries() if e.result == "applied")
    assert entry.actor == "policy:purchases-lag" and "lag 6000 > 1000 for 10s" in entry.reason
    assert entry.inputs and entry.inputs[0]["name"] == "kafka_consumergroup_group_lag"
    assert rig.metric("ecomctl_actions_total", policy="purchases-lag", action="scale", result="applied") == 1
    assert rig.metric("ecomctl_consumer_replicas", group=GROUP) == 2
    assert rig.metric("ecomctl_decisions_total", policy="purchases-lag", verdict="act") == 1
    assert rig.metric("ecomctl_loop_last_run_timestamp_seconds") == (T0 + timedelta(seconds=10)).timestamp()


def test_a_lasting_hold_is_audited_once_per_reason(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.world.kafka_error = "broker down"
    rig.ticks(4)
    holds = [e for e in rig.audit.entries() if e.actor == "policy:purchases-lag"]
    assert len(holds) == 1 and holds[0].result == "held"
    assert "kafka source failed: ConnectionError: broker down" in holds[0].reason
    assert rig.metric("ecomctl_holds_total", policy="purchases-lag") == 4
    assert rig.scaler.writes == 0
    rig.world.kafka_error = None  # data back: a NOOP; a later hold is a new episode, audited again
    rig.ticks(1)
    rig.world.kafka_error = "broker down"
    rig.ticks(1)
    assert len([e for e in rig.audit.entries() if e.actor == "policy:purchases-lag"]) == 2


@pytest.mark.parametrize("where", ["settings", "store"])
def test_dry_run_records_and_changes_nothing(tmp_path: Path, where: str) -> None:
    rig = Rig(tmp_path, dry_run=where == "settings")
    if where == "store":
        rig.state.set_dry_run(True, "user:x", T0)
    rig.world.lag = 6000
    results = rig.ticks(3)
    assert [r.result for r in results if r.action == "scale"] == [Result.DRY_RUN]
    assert rig.scaler.writes == 0 and rig.scaler.replicas(GROUP) == 1
    assert rig.loop.state_document()["dry_run"] is True


def test_paused_policy_holds_with_what_it_would_do(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.state.set_paused("purchases-lag", True, "user:x", T0)
    rig.world.lag = 6000
    rig.ticks(3)
    assert rig.scaler.writes == 0
    reasons = [e.reason for e in rig.audit.entries() if e.actor == "policy:purchases-lag"]
    assert any(r.startswith("policy paused; would act: lag 6000 > 1000") for r in reasons)
    rig.state.set_paused("purchases-lag", False, "user:x", T0)
    rig.ticks(1)
    assert rig.scaler.replicas(GROUP) == 2


def test_failing_gateway_shifts_weight_in_steps(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.world.error_ratio = 0.5
    results = rig.ticks(2)
    shifts = [r.after for r in results if r.action == "set_weights" and r.result is Result.APPLIED]
    assert shifts[0] == {"primary": 75, "secondary": 25}
    assert rig.weights.read(RECORD) == shifts[-1]
    assert rig.metric("ecomctl_route53_weight", record=RECORD, set_identifier="secondary") == \
        shifts[-1]["secondary"]


class ThrottledWeights(MemoryWeightActuator):
    def set_weights(self, record: str, weights: dict[str, int]) -> dict[str, int]:
        raise ActuatorError("route53 change_resource_record_sets failed after retries: Throttling")


def test_failed_apply_is_audited_as_failed(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.loop.executor.weights = ThrottledWeights({RECORD: {"primary": 100, "secondary": 0}})
    rig.world.error_ratio = 0.5
    results = rig.ticks(1)
    assert [(r.result, r.before, r.after) for r in results if r.action == "set_weights"] == \
        [(Result.FAILED, {"primary": 100, "secondary": 0}, {"primary": 100, "secondary": 0})]
    failed = [e for e in rig.audit.entries() if e.result == "failed"]
    assert len(failed) == 1 and failed[0].reason.endswith("failed: route53 change_resource_record_sets "
                                                          "failed after retries: Throttling")
    assert rig.metric("ecomctl_actions_total", policy="ingest-failover", action="set_weights",
                      result="failed") == 1


def test_state_document_shows_the_last_decision(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.world.lag = 6000
    rig.ticks(2)
    document = rig.loop.state_document()
    policy = next(p for p in document["policies"] if p["name"] == "purchases-lag")
    last = policy["last"]
    assert (last["verdict"], last["observed"], last["limit"]) == ("noop", 6000.0, 1000.0)
    assert last["breach_for_s"] == 5.0
    assert document["last_tick"] == (T0 + timedelta(seconds=5)).isoformat()


def test_merge_keeps_everything_each_source_saw() -> None:
    a = Snapshot(at=T0, groups=(group_lag(1),), stale=frozenset({"x"}), errors={"kafka": "e"})
    b = Snapshot(at=T0, samples=gateway_samples(T0, 0.0), stale=frozenset({"y"}))
    merged = merge(T0, [a, b])
    assert (len(merged.groups), len(merged.samples), merged.stale, merged.errors) == \
        (1, 8, frozenset({"x", "y"}), {"kafka": "e"})
