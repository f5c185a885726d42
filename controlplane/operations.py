"""The operator actions shared by the CLI and the console; every one is audited as ``user:NAME``.

A refused action (out of bounds, unknown name) is audited as ``failed`` with the reason and returned,
like one that failed on the way: the caller shows the reason and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from controlplane.actuators.executor import SCALE, SET_WEIGHTS, Executor
from controlplane.actuators.registry import build_scaler
from controlplane.actuators.route53_weight import Route53WeightActuator
from controlplane.audit import AuditLog, db_path
from controlplane.model import ActionResult, Result
from controlplane.settings import Settings
from controlplane.state import StateStore
from ingest.chaos import CHAOS_FILE, write_switch
from ingest.topics import load_topics
from policies.config import AnyPolicyConfig
from policies.loader import DEFAULT_POLICY_FILES, load_policy_files

CONSUMER_DELAY = "consumer_delay_ms"
GATEWAY_FAIL = "gateway_fail_ratio"
GATEWAYS = ("primary", "secondary")
ALL_POLICIES = "*"


def policy_files(settings: Settings) -> tuple[Path, ...]:
    return settings.policies or DEFAULT_POLICY_FILES


def group_partitions() -> dict[str, int]:
    """Partitions per consumer group, as declared in ingest/topics.yaml (the stack creates them so)."""
    return {t.consumer_group: t.partitions for t in load_topics().topics if t.consumer_group}


def user_actor(user: str) -> str:
    return f"user:{user}"


@dataclass(frozen=True, slots=True)
class Operations:
    audit: AuditLog
    state: StateStore
    executor: Executor
    chaos_file: Path
    partitions: dict[str, int]
    policies: tuple[AnyPolicyConfig, ...]
    record: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def start(self) -> None:
        self.audit.start()
        self.state.start()
        self.executor.start()

    # ---------------------------------------------------------------------------------- changes
    def set_weights(self, user: str, weights: dict[str, int], record: str | None = None) -> ActionResult:
        target = record or self.record
        reason = "operator: weights " + " ".join(f"{k}={v}" for k, v in weights.items())
        return self._audited(self.executor.change(user_actor(user), SET_WEIGHTS, target, weights, reason))

    def scale(self, user: str, group: str, replicas: int) -> ActionResult:
        partitions = self.partitions.get(group)
        if partitions is None:
            known = ", ".join(sorted(self.partitions))
            return self._refused(user, SCALE, group, {"replicas": replicas},
                                 f"unknown consumer group {group!r}; known: {known}")
        if not 0 <= replicas <= partitions:
            # Consumers beyond the partition count sit idle in the group.
            return self._refused(user, SCALE, group, {"replicas": replicas},
                                 f"replicas {replicas} outside 0..{partitions} (partitions of {group}: "
                                 f"{partitions})")
        reason = f"operator: scale {group} to {replicas} (partitions {partitions})"
        change = self.executor.change(user_actor(user), SCALE, group, {"replicas": replicas}, reason)
        return self._audited(change)

    def pause(self, user: str, policy: str | None = None) -> ActionResult:
        return self._set_paused(user, policy, True)

    def resume(self, user: str, policy: str | None = None) -> ActionResult:
        return self._set_paused(user, policy, False)

    def _set_paused(self, user: str, policy: str | None, paused: bool) -> ActionResult:
        action = "pause" if paused else "resume"
        target = policy or ALL_POLICIES
        names = [p.name for p in self.policies]
        if policy is not None and policy not in names:
            return self._refused(user, action, target, {"paused": int(paused)},
                                 f"unknown policy {policy!r}; loaded: {', '.join(names) or 'none'}")
        current = self.state.read()
        default = next((p.paused for p in self.policies if p.name == policy), False)
        was = current.paused_all if policy is None else current.paused.get(target, default)
        self.state.set_paused(policy, paused, user_actor(user), self.clock())
        scope = "all policies" if policy is None else f"policy {policy}"
        return self._audited(self._result(user, action, target, {"paused": int(was)}, {"paused": int(paused)},
                                          Result.APPLIED, f"operator: {action} {scope}"))

    def set_dry_run(self, user: str, flag: bool) -> ActionResult:
        was = self.state.read().dry_run
        self.state.set_dry_run(flag, user_actor(user), self.clock())
        return self._audited(self._result(user, "dry_run", "controlplane", {"dry_run": int(was)},
                                          {"dry_run": int(flag)}, Result.APPLIED,
                                          f"operator: dry run {'on' if flag else 'off'}"))

    def chaos(self, user: str, kind: str, name: str, value: float) -> ActionResult:
        """Game-day switch: ``consumer_delay_ms`` by group (ms >= 0), ``gateway_fail_ratio`` by gateway
        (0..1). 0 turns it off. before/after are integers: ms, or the ratio in per mille."""
        problem = self._chaos_problem(kind, name, value)
        unit = 1 if kind == CONSUMER_DELAY else 1000
        key = "delay_ms" if kind == CONSUMER_DELAY else "fail_ratio_permille"
        target = f"{kind}:{name}"
        if problem is not None:
            return self._refused(user, "chaos", target, {key: round(value * unit)}, problem)
        before = write_switch(self.chaos_file, kind, name, value).get(name, 0)
        return self._audited(self._result(
            user, "chaos", target, {key: round(float(before) * unit)}, {key: round(value * unit)},
            Result.APPLIED, f"operator: chaos {kind} {name} {before:g} -> {value:g}"))

    def _chaos_problem(self, kind: str, name: str, value: float) -> str | None:
        if kind == CONSUMER_DELAY:
            if name not in self.partitions:
                return f"unknown consumer group {name!r}; known: {', '.join(sorted(self.partitions))}"
            if value < 0:
                return f"delay {value:g} ms must be >= 0"
            return None
        if kind == GATEWAY_FAIL:
            if name not in GATEWAYS:
                return f"unknown gateway {name!r}; known: {', '.join(GATEWAYS)}"
            if not 0 <= value <= 1:
                return f"fail ratio {value:g} outside 0..1"
            return None
        return f"unknown chaos kind {kind!r}; expected {CONSUMER_DELAY} or {GATEWAY_FAIL}"

    # ------------------------------------------------------------------------------------ reads
    def weights(self, record: str | None = None) -> dict[str, int]:
        return self.executor.weights.read(record or self.record)

    def consumers(self, groups: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
        """Replicas and partitions per group; raises ActuatorError naming a group that cannot be read."""
        return {g: {"replicas": self.executor.scaler.replicas(g), "partitions": self.partitions[g]}
                for g in (groups or sorted(self.partitions))}

    # ---------------------------------------------------------------------------------- helpers
    def _result(self, user: str, action: str, target: str, before: dict[str, int], after: dict[str, int],
                result: Result, reason: str) -> ActionResult:
        return ActionResult(at=self.clock(), actor=user_actor(user), action=action, target=target,
                            before=before, after=after, result=result, reason=reason)

    def _refused(self, user: str, action: str, target: str, wanted: dict[str, int], why: str) -> ActionResult:
        return self._audited(self._result(user, action, target, {}, wanted, Result.FAILED, f"refused: {why}"))

    def _audited(self, result: ActionResult) -> ActionResult:
        self.audit.record(result)
        return result


def build_operations(settings: Settings) -> Operations:
    """Wired from settings; nothing is connected until ``start()``."""
    executor = Executor(Route53WeightActuator.from_settings(settings), build_scaler(settings))
    return Operations(
        audit=AuditLog(db_path(settings)),
        state=StateStore(db_path(settings)),
        executor=executor,
        chaos_file=settings.state_dir / CHAOS_FILE,
        partitions=group_partitions(),
        policies=load_policy_files(policy_files(settings)),
        record=settings.ingest_record,
    )

