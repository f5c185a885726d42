"""The control loop: collect -> evaluate -> act -> audit, once per tick (DESIGN 2).

``ControlLoop.tick()`` is one round and needs no scheduler (tests call it with in-memory sources,
actuators and a fake clock); ``ControlLoop.start()`` runs it on an apscheduler BackgroundScheduler
every ``interval_s`` (``max_instances=1``, ``coalesce=True``: a slow round delays the next one instead
of piling up). Per tick:

- every source's Snapshot is merged; a source that raises is recorded in ``Snapshot.errors``;
- the operator switches (pause, dry run) are read from the state store;
- the current weights and replicas are read through the actuators (the engine's ``Observed``);
- each ACT is applied (or recorded as dry-run) and audited; a HOLD is audited when its reason
  changes (numbers aside), so a hold that lasts an hour is one entry, not 720.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from collectors.kafka_lag import KafkaLagCollector
from collectors.model import Snapshot
from controlplane.actuators.executor import Executor
from controlplane.audit import AuditLog
from controlplane.model import ActionResult, Result
from controlplane.state import StateStore
from policies.config import ConsumerLagScalingConfig, IngestTrafficShiftConfig
from policies.engine import EngineState, PolicyEngine
from policies.lag import LagMemory
from policies.model import Decision, Observed, Verdict
from policies.traffic import ShiftMemory

log = logging.getLogger("ecomctl.loop")

SnapshotSource = Callable[[datetime], Snapshot]
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def lag_source(collector: KafkaLagCollector) -> SnapshotSource:
    """The lag collector as a Snapshot source: its groups, and its errors (e.g. ``kafka``)."""

    def collect(now: datetime) -> Snapshot:
        groups = collector.collect(now)
        report = collector.latest()
        return Snapshot(at=now, groups=groups, errors=dict(report.errors) if report else {})

    return collect


def merge(now: datetime, snapshots: Sequence[Snapshot]) -> Snapshot:
    return Snapshot(
        at=now,
        samples=tuple(s for snap in snapshots for s in snap.samples),
        groups=tuple(g for snap in snapshots for g in snap.groups),
        stale=frozenset().union(*(snap.stale for snap in snapshots)),
        errors={k: v for snap in snapshots for k, v in snap.errors.items()},
    )


class LoopMetrics:
    """The loop's own series (docs/METRICS.md), on the injected registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter("ecomctl_decisions_total", "decisions per tick", ("policy", "verdict"),
                                 registry=registry)
        self.actions = Counter("ecomctl_actions_total", "applied / dry-run / held / failed",
                               ("policy", "action", "result"), registry=registry)
        self.holds = Counter("ecomctl_holds_total", "inconclusive decisions", ("policy",), registry=registry)
        self.duration = Histogram("ecomctl_loop_duration_seconds", "one collect -> act round",
                                  registry=registry, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
        self.last_run = Gauge("ecomctl_loop_last_run_timestamp_seconds", "end of the last successful round",
                              registry=registry)
        self.weight = Gauge("ecomctl_route53_weight", "current weight", ("record", "set_identifier"),
                            registry=registry)
        self.replicas = Gauge("ecomctl_consumer_replicas", "replicas set by the scaling backend", ("group",),
                              registry=registry)


@dataclass(frozen=True, slots=True)
class PolicyView:
    """What the console shows of one policy after a tick."""

    name: str
    kind: str
    target: str
    paused: bool
    verdict: str
    reason: str
    observed: float | None
    limit: float | None
    breach_for_s: float | None
    condition: str | None  # "above": a scale-out breach; "below": the scale-in window running
    next_action: str
    result: str | None
    at: str


class ControlLoop:
    def __init__(self, engine: PolicyEngine, sources: Mapping[str, SnapshotSource], executor: Executor,
                 audit: AuditLog, state: StateStore, metrics: LoopMetrics, *, interval_s: float = 5.0,
                 dry_run: bool = False, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.sources = sources
        self.executor = executor
        self.audit = audit
        self.state = state
        self.metrics = metrics
        self.interval_s = interval_s
        self.dry_run = dry_run  # from settings; the state store's flag can add a dry run at run time
        self._clock = clock
        self._engine_state: EngineState = engine.initial_state()
        self._held: dict[str, str] = {}  # policy -> shape of the last audited hold reason
        self._views: tuple[PolicyView, ...] = ()
        self._last_tick: datetime | None = None
        self._paused_all = False
        self._dry_run_now = dry_run
        self._scheduler: BackgroundScheduler | None = None
        self._records = sorted({p.record for p in engine.policies if isinstance(p, IngestTrafficShiftConfig)})
        self._groups = sorted({p.group for p in engine.policies if isinstance(p, ConsumerLagScalingConfig)})

    # ------------------------------------------------------------------------------- scheduling
    def start(self) -> None:
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler.add_job(self._safe_tick, "interval", seconds=self.interval_s, id="tick",
                                max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:  # a broken round is logged; the next tick tries afresh
            log.exception("control loop tick failed")

    # ------------------------------------------------------------------------------------- tick
    def collect(self, now: datetime) -> Snapshot:
        snapshots = []
        for name, source in self.sources.items():
            try:
                snapshots.append(source(now))
            except Exception as exc:  # a source that raises is a failed source: policies hold
                snapshots.append(Snapshot(at=now, errors={name: f"{type(exc).__name__}: {exc}"}))
        return merge(now, snapshots)

    def tick(self) -> list[ActionResult]:
        started = time.perf_counter()
        now = self._clock()
        snapshot = self.collect(now)
        control = self.state.read()
        paused = frozenset(p.name for p in self.engine.policies if control.is_paused(p.name, p.paused))
        self.engine.dry_run = self.dry_run or control.dry_run
        observed, errors = self.executor.observe(self._records, self._groups)
        for target, error in errors.items():
            log.warning("cannot read %s: %s", target, error)
        state = replace(self._engine_state, paused_all=control.paused_all, paused=paused)
        decisions, self._engine_state = self.engine.evaluate(snapshot, observed, state, now)
        results = [r for d in decisions if (r := self._handle(d, now)) is not None]
        self._update_gauges(observed, results)
        self._views = tuple(self._view(d, results, now) for d in decisions)
        self._paused_all, self._dry_run_now, self._last_tick = control.paused_all, self.engine.dry_run, now
        self.metrics.duration.observe(time.perf_counter() - started)
        self.metrics.last_run.set(self._clock().timestamp())
        return results

    def _handle(self, decision: Decision, now: datetime) -> ActionResult | None:
        self.metrics.decisions.labels(decision.policy, decision.verdict.value).inc()
        actor = f"policy:{decision.policy}"
        if decision.verdict is Verdict.NOOP:
            self._held.pop(decision.policy, None)
            return None
        if decision.verdict is Verdict.HOLD:
            self.metrics.holds.labels(decision.policy).inc()
            self.metrics.actions.labels(decision.policy, "none", Result.HELD.value).inc()
            shape = _NUMBER.sub("#", decision.reason)
            if self._held.get(decision.policy) == shape:
                return None
            self._held[decision.policy] = shape
            held = ActionResult(at=now, actor=actor, action="none", target=decision.target,
                                before=dict(decision.before), after=dict(decision.before), result=Result.HELD,
                                reason=decision.reason)
            self.audit.record(held, decision)
            return held
        self._held.pop(decision.policy, None)
        result = self.executor.change(actor, decision.action, decision.target, decision.after,
                                      decision.reason, dry_run=decision.dry_run)
        self.metrics.actions.labels(decision.policy, decision.action, result.result.value).inc()
        self.audit.record(result, decision)
        log.info("%s %s %s: %s -> %s (%s)", actor, result.result.value, decision.target, result.before,
                 result.after, decision.reason)
        return result

    def _update_gauges(self, observed: Observed, results: list[ActionResult]) -> None:
        weights = {record: dict(w) for record, w in observed.weights.items()}
        replicas = dict(observed.replicas)
        for result in results:
            if result.result is Result.APPLIED and result.action == "set_weights":
                weights[result.target] = dict(result.after)
            elif result.result is Result.APPLIED and result.action == "scale":
                replicas[result.target] = result.after["replicas"]
        for record, values in weights.items():
            for name, weight in values.items():
                self.metrics.weight.labels(record, name).set(weight)
        for group, count in replicas.items():
            self.metrics.replicas.labels(group).set(count)

    # ------------------------------------------------------------------------------------- views
    def _view(self, decision: Decision, results: list[ActionResult], now: datetime) -> PolicyView:
        policy = next(p for p in self.engine.policies if p.name == decision.policy)
        observed, limit, since, condition = _gauge(policy, self._engine_state.memory.get(policy.name))
        result = next((r.result.value for r in results if r.actor == f"policy:{policy.name}"), None)
        if decision.verdict is Verdict.ACT:
            nxt = f"{decision.action} {decision.before} -> {decision.after}"
        else:
            nxt = "none"
        return PolicyView(
            name=policy.name, kind=policy.kind, target=policy.target,
            paused=self._engine_state.is_paused(policy.name), verdict=decision.verdict.value,
            reason=decision.reason, observed=observed, limit=limit,
            breach_for_s=None if since is None else (now - since).total_seconds(), condition=condition,
            next_action=nxt, result=result, at=now.isoformat(timespec="milliseconds"))

    def state_document(self) -> dict[str, Any]:
        """``GET /api/state``: each policy with its last decision, the switches, the last tick."""
        views = {v.name: v for v in self._views}
        policies = []
        for p in self.engine.policies:
            view = views.get(p.name)
            last = None if view is None else {
                "verdict": view.verdict, "reason": view.reason, "observed": view.observed,
                "limit": view.limit, "breach_for_s": view.breach_for_s, "condition": view.condition,
                "next_action": view.next_action,
                "result": view.result, "at": view.at}
            policies.append({"name": p.name, "kind": p.kind, "target": p.target, "priority": p.priority,
                             "paused": None if view is None else view.paused, "last": last})
        return {"policies": policies, "paused_all": self._paused_all, "dry_run": self._dry_run_now,
                "last_tick": None if self._last_tick is None else self._last_tick.isoformat(),
                "interval_s": self.interval_s}


def _gauge(policy: Any, memory: Any) -> tuple[float | None, float | None, datetime | None, str | None]:
    """The observed value, the limit it is compared with, since when the condition holds, and which
    condition: "above" the scale-out threshold (a breach) or "below" the scale-in one (calm)."""
    if isinstance(policy, ConsumerLagScalingConfig) and isinstance(memory, LagMemory):
        value = memory.history[-1][1] if memory.history else None
        if memory.below_since is not None:
            return value, policy.scale_in_below, memory.below_since, "below"
        condition = "above" if memory.above_since is not None else None
        return value, policy.scale_out_above, memory.above_since, condition
    if isinstance(policy, IngestTrafficShiftConfig) and isinstance(memory, ShiftMemory):
        # Failed checks count towards `threshold`; the limit shown is that threshold.
        return float(memory.failed_checks), float(policy.threshold), None, None
    return None, None, None, None
